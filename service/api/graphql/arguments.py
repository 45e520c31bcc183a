"""Checking GraphQL arguments the schema's types cannot express, with REST's error codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from service.api.graphql.insight_types import parse_id
from service.app.pagination import MAX_LIMIT as MAX_PAGE
from service.domain.errors import FieldError, ValidationFailed


def uuid_arg(value: str, field: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise ValidationFailed(f"{field} is not an id.", (FieldError(field, "invalid-id", value),))
    return parsed


def page_size(first: int) -> int:
    """The same bounds as REST's ``limit``: 1 to 200."""
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(
            f"first must be between 1 and {MAX_PAGE}.",
            (FieldError("first", "out-of-range", f"1 to {MAX_PAGE}"),),
        )
    return first


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            "completedAt needs a timezone.",
            (FieldError("completedAt", "naive-datetime", "e.g. 2026-11-26T10:00:00Z"),),
        )
    return value
