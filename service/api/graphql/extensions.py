"""The schema's Strawberry extensions: limits, caches, stable error codes and masking.

Strawberry runs every operation (parse, validate, execute); these extensions shape it:

- ``MaxTokensLimiter``: graphql-core's parser stops past 4,000 tokens;
- ``ParserCache`` (texts up to 64 KiB: 256 long texts would hold a lot of memory): a text
  sent again is not parsed again;
- ``OneOperation``: the operation asked for must be in the document (else HTTP 400);
- ``GuardedValidation``: the guard (guard.py: depth, aliases, fields, fragment cycles and
  cost, in linear time) refuses a document before graphql-core's validation can spend time
  on it; a document it admits is validated through Strawberry's ``ValidationCache``;
- ``AddValidationRules([NoSchemaIntrospectionCustomRule])`` unless introspection is on;
- ``StableCodes``: every refusal of a document carries ``extensions.code``, as every
  other error does (clients branch on codes, not on messages graphql-core may reword);
- ``MaskErrors``: anything that is not a deliberate GraphQL or domain error reaches the
  client as "Unexpected error." (logged first: ``RapportSchema.process_errors``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from graphql import (
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    get_operation_ast,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)

from service.api.graphql.errors import UNEXPECTED, should_mask
from service.api.graphql.guard import Limits, problems

TOO_COMPLEX = "query-too-complex"  # the guard's limits, and the parser's token limit
SYNTAX_ERROR = "syntax-error"  # the text is not a GraphQL document
INVALID_QUERY = "invalid-query"  # a document the schema refuses (unknown field, bad argument)
UNKNOWN_OPERATION = "unknown-operation"  # no operation of that name: the router answers 400
CACHED_TEXTS = 256
LONGEST_CACHED = 65_536


class BoundedParserCache(ParserCache):
    """Strawberry's ParserCache, for texts short enough to keep, leaving a text that does not
    parse to Strawberry: it parses it again and answers the error inside the operation, where
    the other extensions (codes, masking) see it."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        if len(query) <= LONGEST_CACHED:
            # A text that does not parse is not kept: the token limit keeps it cheap.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self.cached_parse_document(
                    query, **context.parse_options
                )
        yield


class GuardedValidation(ValidationCache):
    """The guard first; validation (cached) only for documents within the limits."""

    def __init__(self, types: GraphQLSchema, limits: Limits) -> None:
        super().__init__(maxsize=CACHED_TEXTS)
        self.types = types
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None  # Strawberry validates parsed documents only
        found = list(problems(document, self.types, self.limits, context.variables))
        if found:
            # Set before Strawberry validates: it then leaves the document alone.
            context.pre_execution_errors = [
                GraphQLError(m, extensions={"code": TOO_COMPLEX}) for m in found
            ]
            yield
            return
        yield from super().on_validate()


class OneOperation(SchemaExtension):
    """A document without the operation asked for (or with several and no name) is refused
    as soon as it is parsed, with a code the router answers with HTTP 400."""

    def on_parse(self) -> Iterator[None]:
        yield
        document = self.execution_context.graphql_document
        name = getattr(self.execution_context.context, "requested_operation", None)
        if document is not None and get_operation_ast(document, name) is None:
            raise GraphQLError(
                f'Unknown operation named "{name}".'
                if name
                else "The document has several operations: name one (operationName).",
                extensions={"code": UNKNOWN_OPERATION},
            )


class StableCodes(SchemaExtension):
    """``extensions.code`` on the errors of a document refused before it ran."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        if result is None or not result.errors:
            return
        parsed = context.graphql_document is not None
        result.errors = [_coded(e, parsed) for e in result.errors]


def _coded(error: GraphQLError, parsed: bool) -> GraphQLError:
    if (error.extensions or {}).get("code") or error.path is not None:
        return error  # coded already, or raised while executing (a resolver's)
    if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
        return error  # a resolver's, or masked
    if not parsed:
        # graphql-core says so only in its message: "Document contains more than N tokens."
        code = TOO_COMPLEX if "tokens" in error.message else SYNTAX_ERROR
    else:
        code = INVALID_QUERY  # a validation rule's, or variables the operation cannot take
    return GraphQLError(
        error.message, source=error.source, positions=error.positions,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": code},
    )  # fmt: skip


def extensions(
    types: GraphQLSchema, limits: Limits, introspection: bool
) -> list[Callable[[], SchemaExtension]]:
    """Factories: Strawberry builds each extension afresh for every operation."""
    made: list[Callable[[], SchemaExtension]] = [
        lambda: MaskErrors(should_mask_error=should_mask, error_message=UNEXPECTED),
        StableCodes,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: BoundedParserCache(maxsize=CACHED_TEXTS),
        OneOperation,
        lambda: GuardedValidation(types, limits),
    ]
    if not introspection:
        made.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return made
