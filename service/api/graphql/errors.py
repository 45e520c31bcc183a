"""Expected errors as typed GraphQL results; everything else masked.

Mutations return a union of their payload and these error types, so clients handle
validation, not-found, forbidden and conflict outcomes in the schema. Queries raise
``GraphQLError``s whose ``extensions.code`` is the same stable code REST puts in
problem+json, and field names in camelCase as the schema spells them. Unexpected exceptions
are logged and masked (``masked``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

from service.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed

log = logging.getLogger("rapport.errors")
UNEXPECTED = "Unexpected error."


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


def masked(errors: Iterable[GraphQLError]) -> list[GraphQLError]:
    """The errors as a client may see them: each unexpected one logged with its exception,
    then replaced by a bare "Unexpected error." at the same location and path."""
    shown = []
    for error in errors:
        if should_mask(error):
            log.error(
                "unexpected error in GraphQL at %s", error.path, exc_info=error.original_error
            )
            error = GraphQLError(
                UNEXPECTED,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
            )
        shown.append(error)
    return shown
