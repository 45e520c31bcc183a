"""FHIR search parameters: parsed strictly, or leniently when the client prefers.

FHIR (R4 3.1.1.5, "handling"): a server refuses a search whose parameters it does not
understand (400) unless the request says ``Prefer: handling=lenient``, in which case unknown
parameters are ignored and the Bundle's self link shows only those that were used.
Values are checked here, before any query runs: a bad date, count or cursor is a 400 naming
the parameter.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request

# Parameters every interaction accepts: the response format, and Rapport's page cursor.
COMMON: dict[str, frozenset[str]] = {"_format": frozenset(), "_cursor": frozenset()}
DEFAULT_COUNT = 50
MAX_COUNT = 200
_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


class SearchRefused(Exception):
    """A search FHIR says the server must refuse: answered 400 with an OperationOutcome."""

    def __init__(self, parameter: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class Params:
    """The parameters used, by name: a list of (modifier, value) in the order given."""

    used: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)

    def all(self, name: str) -> list[tuple[str | None, str]]:
        return self.used.get(name, [])

    def one(self, name: str) -> str | None:
        values = [v for m, v in self.all(name) if m is None]
        if len(values) > 1:
            raise SearchRefused(name, f"Give {name} at most once.")
        return values[0] if values else None

    def query(self, cursor: str | None = None) -> list[tuple[str, str]]:
        """The parameters used, as a query string's pairs (for self and next links)."""
        pairs = [
            (f"{name}:{modifier}" if modifier else name, value)
            for name, values in self.used.items()
            if name != "_cursor"
            for modifier, value in values
        ]
        return [*pairs, ("_cursor", cursor)] if cursor else pairs


def prefers(request: Request, key: str) -> str | None:
    """The value of one preference of the ``Prefer`` header (RFC 7240), if given."""
    for header in request.headers.getlist("prefer"):
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == key:
                return value.strip().strip('"').lower()
    return None


def parse(request: Request, allowed: Mapping[str, frozenset[str]]) -> Params:
    """``allowed``: each parameter's name and the modifiers it takes."""
    lenient = prefers(request, "handling") == "lenient"
    known = {**COMMON, **allowed}
    used: dict[str, list[tuple[str | None, str]]] = {}
    for key, value in request.query_params.multi_items():
        name, _, modifier = key.partition(":")
        if name not in known or (modifier and modifier not in known[name]):
            if lenient:
                continue
            what = f"modifier :{modifier} of " if name in known else ""
            raise SearchRefused(
                key,
                f"Unknown search parameter {what}{name!r}; supported here: "
                f"{', '.join(sorted(known)) or 'none'} (or send Prefer: handling=lenient).",
                "not-supported",
            )
        if value == "":
            continue  # FHIR: an empty parameter is ignored
        used.setdefault(name, []).append((modifier or None, value))
    return Params(used)


def count(params: Params) -> int:
    given = params.one("_count")
    if given is None:
        return DEFAULT_COUNT
    if not given.isdigit() or int(given) < 1:
        raise SearchRefused("_count", "_count must be a whole number from 1.")
    return min(int(given), MAX_COUNT)


def descending(params: Params, name: str) -> bool:
    given = params.one("_sort")
    if given is None or given == name:
        return False
    if given == f"-{name}":
        return True
    raise SearchRefused("_sort", f"Sort by {name} or -{name}.", "not-supported")


def tokens(params: Params, name: str) -> list[list[tuple[str | None, str]]]:
    """Each occurrence of a token parameter (ANDed) as its comma-separated alternatives
    (ORed), each (system or None, code)."""
    found = []
    for _, value in params.all(name):
        options = []
        for part in value.split(","):
            system, bar, code = part.partition("|")
            options.append((system or None, code) if bar else (None, part))
        found.append(options)
    return found


@dataclass(frozen=True, slots=True)
class TimeRange:
    since: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive

    def narrowed(self, since: datetime | None, before: datetime | None) -> TimeRange:
        low = max((t for t in (self.since, since) if t is not None), default=None)
        high = min((t for t in (self.before, before) if t is not None), default=None)
        return TimeRange(low, high)

    @property
    def empty(self) -> bool:
        return self.since is not None and self.before is not None and self.since >= self.before


def dates(params: Params, name: str) -> TimeRange:
    """Every ``name`` parameter ANDed: eq, ge, gt, le, lt over the value's precision (a
    year, month, day, or instant) as FHIR's date search defines it."""
    found = TimeRange()
    for _, value in params.all(name):
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        start, end = _period(name, value[2:] if value[:2] in _PREFIXES else value)
        bounds = {
            "eq": (start, end),
            "ge": (start, None),
            "gt": (end, None),
            "le": (None, end),
            "lt": (None, start),
        }.get(prefix)
        if bounds is None:
            raise SearchRefused(name, f"Prefix {prefix!r} is not supported: eq, ge, gt, le, lt.")
        found = found.narrowed(*bounds)
    return found


def _period(name: str, text: str) -> tuple[datetime, datetime]:
    """The range a FHIR date or dateTime covers: [start, end)."""
    try:
        if len(text) == 4 and text.isdigit():
            start = datetime(int(text), 1, 1, tzinfo=UTC)
            return start, start.replace(year=start.year + 1)
        if len(text) == 7 and text[4] == "-":
            start = datetime(int(text[:4]), int(text[5:]), 1, tzinfo=UTC)
            later = start.replace(day=28) + timedelta(days=4)
            return start, later.replace(day=1)
        if len(text) == 10:
            start = datetime.fromisoformat(text).replace(tzinfo=UTC)
            return start, start + timedelta(days=1)
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise SearchRefused(
            name, f"{name} must be a FHIR date or a dateTime with a timezone: {text!r}."
        )
    precision = timedelta(seconds=1) if when.microsecond == 0 else timedelta(microseconds=1)
    return when, when + precision


def reference_id(value: str, kind: str) -> uuid.UUID | None:
    """The id of a ``kind`` reference given as ``<id>``, ``Kind/<id>`` or an absolute URL
    ending so; None when it names another type or no id of Rapport's (matches nothing)."""
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != kind:
        return None
    try:
        return uuid.UUID(parts[-1])
    except ValueError:
        return None


def encode_cursor(state: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_cursor(params: Params) -> Any:
    given = params.one("_cursor")
    if given is None:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise SearchRefused("_cursor", "This _cursor was not issued by this server.") from None
