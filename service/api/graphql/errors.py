"""Expected errors as typed GraphQL results; everything else masked.

Mutations return a union of their payload and these error types, so clients handle
validation, not-found, forbidden and conflict outcomes in the schema. Queries raise
``GraphQLError``s whose ``extensions.code`` is the same stable code REST puts in
problem+json, and field names in camelCase as the schema spells them. Unexpected exceptions
are logged (schema.py) and masked (extensions.py).
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError

from service.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed

UNEXPECTED = "Unexpected error."


def to_camel_case(name: str) -> str:
    """A field as the schema spells it: ``completed_at`` -> ``completedAt``."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


@strawberry.type
class FieldProblem:
    field: str
    code: str
    message: str


@strawberry.type
class ValidationError:
    code: str
    message: str
    fields: list[FieldProblem]


@strawberry.type
class NotFoundError:
    code: str
    message: str


@strawberry.type
class ForbiddenError:
    code: str
    message: str


@strawberry.type
class ConflictError:
    code: str
    message: str
    existing_id: str | None


ErrorResult = ValidationError | NotFoundError | ForbiddenError | ConflictError


def as_result(error: DomainError) -> ErrorResult:
    """A domain error as a typed mutation result; unknown kinds are re-raised (masked)."""
    if isinstance(error, ValidationFailed):
        fields = [
            FieldProblem(field=to_camel_case(e.field), code=e.code, message=e.message)
            for e in error.errors
        ]
        return ValidationError(code=error.code, message=error.detail, fields=fields)
    if isinstance(error, NotFound):
        return NotFoundError(code=error.code, message=error.detail)
    if isinstance(error, Forbidden):
        return ForbiddenError(code=error.code, message=error.detail)
    if isinstance(error, Conflict):
        return ConflictError(code=error.code, message=error.detail, existing_id=error.existing_id)
    raise error


def as_graphql_error(error: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": error.code}
    if isinstance(error, ValidationFailed):
        extensions["fields"] = [
            {"field": to_camel_case(e.field), "code": e.code, "message": e.message}
            for e in error.errors
        ]
    return GraphQLError(error.detail, extensions=extensions)


def should_mask(error: GraphQLError) -> bool:
    """Mask anything that is not a deliberate GraphQL or domain error."""
    original = error.original_error
    if original is None:
        return False  # a syntax or validation error from graphql-core itself
    if isinstance(original, GraphQLError):
        return False
    return not isinstance(original, DomainError)
