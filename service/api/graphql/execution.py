"""Running one operation: its prepared document, executed by graphql-core, errors masked.

Strawberry builds the schema and the resolvers; graphql-core executes. Strawberry's
``Schema.execute`` added, on every request, an execution context, a runner entering each
extension's hooks (the parser and validation caches, the limits and the error masking were
all extensions), a middleware manager and the result's post-processing: about a tenth of a
``score`` request's CPU. This module does the same work directly:

1. the document and its verdict come from the DocumentCache (documents.py): parsed, limited
   and validated once per query text;
2. graphql-core executes it with Strawberry's execution context class, so resolvers receive
   the same ``Info`` as under ``Schema.execute``;
3. unexpected errors are logged and masked (errors.py); expected ones keep their codes.

Subscriptions do not exist in the schema (graphql-core's validation refuses them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

import strawberry
from graphql import ExecutionResult, GraphQLError, execute, get_operation_ast
from strawberry.execution import optimized_is_awaitable

from service.api.graphql.documents import DocumentCache
from service.api.graphql.errors import masked
from service.api.graphql.guard import Limits

# Strawberry's check, typed as graphql-core declares the parameter (it is that predicate).
_is_awaitable = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation as a client posts it."""

    query: str
    variables: dict[str, Any] | None = None
    name: str | None = None


class UnknownOperation(Exception):
    """The document has no operation of that name (or several and no name): HTTP 400."""


class OperationRunner:
    """Runs operations against one schema, with its limits and introspection setting."""

    def __init__(
        self,
        schema: strawberry.Schema,
        introspection: bool = False,
        limits: Limits | None = None,
        cached_documents: int = 256,
    ) -> None:
        self.schema = schema._schema
        self.documents = DocumentCache(
            self.schema, limits or Limits(), introspection, maxsize=cached_documents
        )
        self.executor_class = schema.execution_context_class

    async def run(self, operation: Operation, context: object) -> dict[str, Any]:
        """The response body: ``data``, and ``errors`` when there are any."""
        try:
            prepared = self.documents.get(operation.query)
        except GraphQLError as error:  # a syntax error, too many tokens
            return _answer(None, [error])
        if prepared.errors:
            return _answer(None, prepared.errors)
        if get_operation_ast(prepared.document, operation.name) is None:
            raise UnknownOperation(
                f'Unknown operation named "{operation.name}".'
                if operation.name
                else "The document has several operations: name one (operationName)."
            )
        result = execute(
            self.schema,
            prepared.document,
            context_value=context,
            variable_values=operation.variables,
            operation_name=operation.name,
            executor_class=self.executor_class,
            is_awaitable=_is_awaitable,
        )
        if not isinstance(result, ExecutionResult):  # some resolver was asynchronous
            result = await result
        return _answer(result.data, result.errors)


def _answer(data: dict[str, Any] | None, errors: Sequence[GraphQLError] | None) -> dict[str, Any]:
    if not errors:
        return {"data": data}
    return {"data": data, "errors": [e.formatted for e in masked(errors)]}
