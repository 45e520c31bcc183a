"""Cursor pagination: opaque cursors over time-ordered ids, with a capped page size."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from service.domain.errors import FieldError, ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return uuid.UUID(bytes=base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise ValidationFailed(
            "The cursor is not one this API issued.",
            (FieldError("cursor", "invalid-cursor", "Pass next_cursor from a previous page."),),
        ) from None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def paginate(
    fetch: Callable[[uuid.UUID | None, int], Sequence[T]],
    cursor: str | None,
    limit: int,
    key: Callable[[T], uuid.UUID],
) -> Page[T]:
    """Fetch one more row than asked, to know whether another page exists."""
    rows = list(fetch(decode_cursor(cursor), limit + 1))
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(key(rows[-1])))
    return Page(rows, None)


def page_of(items: Sequence[T], cursor: str | None, limit: int) -> list[T]:
    """One page of ``items`` already in memory, ordered by their ``id``: the same cursors
    and bounds as ``paginate`` (a nested GraphQL list, loaded for a whole page of parents)."""
    after = decode_cursor(cursor)
    start = 0
    if after is not None:
        start = next((i for i, item in enumerate(items) if _id(item) > after), len(items))
    return list(items[start : start + limit])


def _id(item: object) -> uuid.UUID:
    found = getattr(item, "id", None)
    assert isinstance(found, uuid.UUID), f"{type(item).__name__} has no uuid id"
    return found
