"""Every caller-supplied string that reaches storage, and its one rule.

The rules live here, below the adapters, so REST, GraphQL and FHIR refuse the same input
with their own 4xx, and both engines see only what both can store: PostgreSQL text cannot
hold NUL, a lone surrogate cannot be encoded as UTF-8 at all, and a value longer than its
column fails on PostgreSQL while SQLite stores it. (issue 16, item 5)

- ``identifier``: external identifiers (patients, practitioners, a FHIR identifier.value),
  1-200 characters, no control characters (C0, DEL, C1), no lone surrogates, no outer spaces.
- ``idempotency_key``: a client's Idempotency-Key (REST header, GraphQL argument, FHIR
  header), 1-255 visible ASCII characters or inner spaces (RFC 8941 sf-string-like), and
  not in the namespace reserved for keys made from FHIR identifiers.
- ``lookup``: a value used only to filter (the audit trail's object filters): the
  identifier rule with the column's length.
- ``note``: human text; line breaks allowed, NUL and lone surrogates not, bounded.
"""

from __future__ import annotations

import re

from service.domain.errors import FieldError, ValidationFailed

IDENTIFIER_MAX = 200  # the external_id columns
IDEMPOTENCY_KEY_MAX = 255  # the idempotency_keys.key column
# Keys made from a FHIR QuestionnaireResponse.identifier: a client key may not start so,
# so the two namespaces never meet (a REST key "fhir-qr:x" cannot replay a FHIR upload).
FHIR_IDENTIFIER_KEY_PREFIX = "fhir-qr:"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # C0, DEL, C1, surrogates
_NOT_STORABLE = re.compile(r"[\x00\ud800-\udfff]")  # what no engine can store as text
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def identifier(field: str, value: str, limit: int = IDENTIFIER_MAX) -> str:
    """An external identifier: 1-``limit`` characters, no control characters, no lone
    surrogates, no outer spaces."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > limit
        or value != value.strip()
        or _CONTROL.search(value)
    ):
        raise ValidationFailed(
            f"{field} must be 1 to {limit} printable characters without surrounding spaces.",
            (FieldError(field, "invalid-identifier", f"1-{limit} printable characters."),),
        )
    return value


def lookup(field: str, value: str | None, limit: int) -> str | None:
    """A filter value: the identifier rule (a value no row can hold finds nothing, but it
    must be refused alike on both engines, not fail on one)."""
    return None if value is None else identifier(field, value, limit)


def idempotency_key(field: str, value: str | None) -> str | None:
    """A client's idempotency key, as stored."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > IDEMPOTENCY_KEY_MAX or not _KEY.fullmatch(value):
        raise ValidationFailed(
            f"{field} must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters "
            "(spaces only inside).",
            (FieldError(field, "invalid-idempotency-key",
                        f"1-{IDEMPOTENCY_KEY_MAX} visible ASCII characters."),),
        )  # fmt: skip
    if value.startswith(FHIR_IDENTIFIER_KEY_PREFIX):
        raise ValidationFailed(
            f"{field} may not start with '{FHIR_IDENTIFIER_KEY_PREFIX}': that namespace holds "
            "the keys Rapport makes from FHIR QuestionnaireResponse identifiers.",
            (FieldError(field, "reserved-idempotency-key",
                        f"Do not start the key with '{FHIR_IDENTIFIER_KEY_PREFIX}'."),),
        )  # fmt: skip
    return value


def fhir_identifier_key(field: str, value: str) -> str:
    """The idempotency key a FHIR identifier.value becomes, in its own namespace."""
    return FHIR_IDENTIFIER_KEY_PREFIX + identifier(field, value)


def note(field: str, value: str | None, limit: int = 2000) -> str | None:
    """Human text: line breaks allowed, NUL and lone surrogates not, and bounded."""
    if value is not None and (_NOT_STORABLE.search(value) or len(value) > limit):
        raise ValidationFailed(
            f"{field} must be at most {limit} characters, without NUL.",
            (FieldError(field, "invalid-text", f"At most {limit} characters, no NUL."),),
        )
    return value
