"""The domain error hierarchy.

Every error carries a stable machine-readable ``code``. Adapters map codes to their own
error shapes (problem+json, GraphQL errors, OperationOutcome) in one place each, so the
domain never knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every expected error the domain or the use cases raise."""

    code: str = "domain-error"
    title: str = "Request could not be processed"
    # True once a use case recorded this refusal in the audit trail, so the adapter's
    # error handler does not record it twice (service/api/refusals.py).
    audited: bool = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    code = "not-found"
    title = "Resource not found"


class InstrumentNotFound(NotFound):
    code = "instrument-not-found"
    title = "Unknown instrument"

    def __init__(self, instrument_id: str) -> None:
        super().__init__(f"No instrument with id '{instrument_id}' is in the catalogue.")
        self.instrument_id = instrument_id


@dataclass(frozen=True, slots=True)
class FieldError:
    """One offending input field: ``field`` is an item id for responses, else a field name."""

    field: str
    code: str
    message: str


class ValidationFailed(DomainError):
    """Input that is well-formed JSON but not acceptable; lists every offending field."""

    code = "validation-failed"
    title = "Invalid input"

    def __init__(self, detail: str, errors: tuple[FieldError, ...]) -> None:
        super().__init__(detail)
        self.errors = errors


class InvalidResponses(ValidationFailed):
    """Responses that do not fit the instrument: unknown items, wrong types, out of range."""

    code = "invalid-responses"
    title = "Invalid responses"


class UnknownPopulation(ValidationFailed):
    code = "unknown-population"
    title = "Unknown population"


class DefinitionError(DomainError):
    """An instrument definition file that is malformed or internally inconsistent."""

    code = "invalid-definition"
    title = "Invalid instrument definition"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Not allowed"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"

    def __init__(self, detail: str, existing_id: str | None = None) -> None:
        super().__init__(detail)
        self.existing_id = existing_id


class IdempotencyKeyReused(ValidationFailed):
    """The same Idempotency-Key was sent with a different request body."""

    code = "idempotency-key-reused"
    title = "Idempotency key reused with another request"


class Unavailable(DomainError):
    """A dependency is down or saturated; the client may retry later."""

    code = "unavailable"
    title = "Service unavailable"
