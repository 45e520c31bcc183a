"""Documents prepared once per query text: parsed, measured against the limits, validated.

A client sends the same few query texts over and over. The first time a text arrives it is
parsed (with the token limit), measured by the guard (guard.py: depth, aliases, fields,
fragment cycles) and, only if the guard passes it, validated by graphql-core with the
schema's rules; the outcome, the document and its errors, is kept in an LRU keyed by the
text. Every later request with that text costs one dict lookup: no re-parse, no walk of the
AST, and no hash of the whole document (which a cache keyed by the parsed document pays on
every request).

A text that does not parse (a syntax error, too many tokens) raises and is not kept: it is
parsed again next time, which the token limit keeps cheap. A text the guard or the
validation refuses is kept with its errors, so a repeated hostile document is refused by
the lookup alone and never reaches the validation. Texts over 64 KiB (4,000 tokens can
carry long string literals) are prepared every time rather than held by the cache.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    parse,
    specified_rules,
)
from strawberry.schema.schema import validate_document

from service.api.graphql.guard import Limits, problems

TOO_COMPLEX = "query-too-complex"  # the guard's limits, and the parser's token limit
SYNTAX_ERROR = "syntax-error"  # the text is not a GraphQL document
INVALID_QUERY = "invalid-query"  # a document the schema refuses (unknown field, bad argument)


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]  # the guard's or the validation's; none: executable


class DocumentCache:
    """The prepared documents of one schema, by query text, the least recently used out."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: Limits,
        introspection: bool,
        maxsize: int = 256,
        max_cached_length: int = 65_536,
    ) -> None:
        self.schema = schema
        self.limits = limits
        rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
        self.rules = rules if introspection else (*rules, NoSchemaIntrospectionCustomRule)
        self.max_cached_length = max_cached_length
        self._cached: Callable[[str], Prepared] = functools.lru_cache(maxsize=maxsize)(
            self._prepare
        )

    def get(self, query: str) -> Prepared:
        """The prepared document; raises the parser's GraphQLError for an unparsable text."""
        if len(query) > self.max_cached_length:
            return self._prepare(query)  # kept out: 256 long texts would hold a lot of memory
        return self._cached(query)

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:  # raised to the caller, not cached
            raise _coded(error, _parse_code(error)) from error
        if found := list(problems(document, self.limits)):
            errors = (GraphQLError(m, extensions={"code": TOO_COMPLEX}) for m in found)
            return Prepared(document, tuple(errors))
        # Strawberry's validate_document: graphql-core's rules plus Strawberry's own.
        invalid = validate_document(self.schema, document, self.rules)
        return Prepared(document, tuple(_coded(e, INVALID_QUERY) for e in invalid))


def _parse_code(error: GraphQLError) -> str:
    # graphql-core says so only in its message: "Document contains more than N tokens."
    return TOO_COMPLEX if "tokens" in error.message else SYNTAX_ERROR


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    """The same error with a stable ``extensions.code``, as every other error has."""
    return GraphQLError(
        error.message, source=error.source, positions=error.positions,
        original_error=error.original_error, extensions={**(error.extensions or {}), "code": code},
    )  # fmt: skip
