"""Free text that reaches storage: identifiers and notes.

PostgreSQL text cannot hold NUL, and control characters in an identifier are never
intended; both are refused with a clear error on every face, not left to fail in the store.
"""

from __future__ import annotations

import re

from service.domain.errors import FieldError, ValidationFailed

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUL = "\x00"


def identifier(field: str, value: str) -> str:
    """An external identifier: 1-200 characters, no control characters or outer spaces."""
    if not value or len(value) > 200 or value != value.strip() or _CONTROL.search(value):
        raise ValidationFailed(
            f"{field} must be 1 to 200 printable characters without surrounding spaces.",
            (FieldError(field, "invalid-identifier", "1-200 printable characters."),),
        )
    return value


def note(field: str, value: str | None, limit: int = 2000) -> str | None:
    """Human text: line breaks allowed, NUL not, and bounded."""
    if value is not None and (_NUL in value or len(value) > limit):
        raise ValidationFailed(
            f"{field} must be at most {limit} characters, without NUL.",
            (FieldError(field, "invalid-text", f"At most {limit} characters, no NUL."),),
        )
    return value
