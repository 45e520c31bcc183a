"""Document limits, cost included, checked before validation in time linear in the document.

Strawberry's depth and alias limiters walk a fragment once per spread, so a few hundred
tokens of nested fragments (F30 spreads F29 twice, which spreads F28 twice...) make them
walk 2^30 nodes: a hang. This guard measures each fragment once (memoised; cycles are
refused), multiplying counts through spreads, and refuses the operation before
graphql-core's own validation runs (extensions.py), so hostile documents answer quickly.

Besides depth, aliases and fields it bounds the document's **cost**: the rows it can make
the service read and render. A list field multiplies what is under it by its page size (its
``first`` argument: the literal, the request's variable, or the argument's default; REST's
bounds, 1 to 200), an object field costs one row, a leaf nothing, a list without ``first``
(parts of one row, or the catalogue) counts once, and the few fields that read a whole
series have a weight of their own (``Limits.weights``). Thirty aliases of
``dyads(first: 50) { administrations { score { total } } }`` cost 30 x 50 x (1 + 50 x 2):
refused before a row is read. Introspection (``__schema``, ``__type``) reads no rows and its
nesting is the schema's, so it adds to aliases and fields but not to depth or cost: the
standard introspection query passes when introspection is on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
    value_from_ast,
)

from service.app.pagination import MAX_LIMIT

SATURATED = 10**12  # counts past any limit need no precision, and must not grow unboundedly
# A list without ``first`` holds parts of one row (a score's scales, a progress's points) or
# the catalogue, in memory: counted once. Fields that read a series carry a weight instead.
UNPAGED_LIST = 1


@dataclass(frozen=True, slots=True)
class Limits:
    max_tokens: int = 4_000  # checked by graphql-core's parser, which stops at the limit
    max_depth: int = 10
    max_aliases: int = 30
    max_fields: int = 2_000  # fields after expanding every fragment spread
    max_cost: int = 10_000  # rows a document can touch (module docstring)
    # Fields that read a series per object: what they cost, beyond their own row.
    weights: Mapping[str, int] = field(
        default_factory=lambda: {
            "Dyad.progress": 50,
            "Dyad.concordance": 50,
            "Query.calibration": 200,
        }
    )


@dataclass(frozen=True, slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0


class _Cycle(Exception):
    pass


def _add(a: int, b: int) -> int:
    return min(a + b, SATURATED)


def _times(a: int, b: int) -> int:
    return min(a * b, SATURATED)


class _Analysis:
    def __init__(
        self,
        document: DocumentNode,
        schema: GraphQLSchema,
        limits: Limits,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.schema = schema
        self.limits = limits
        self.variables = variables or {}
        self.done: dict[str, _Measure] = {}
        self.active: set[str] = set()

    def selection_set(
        self, node: SelectionSetNode | None, parent: GraphQLNamedType | None, meta: bool
    ) -> _Measure:
        if node is None:
            return _Measure()
        depth = aliases = fields = cost = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                m = self.field(selection, parent, meta)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else parent
                m = self.selection_set(selection.selection_set, kind, meta)
            elif isinstance(selection, FragmentSpreadNode):
                m = self.fragment(selection.name.value, meta)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            depth = max(depth, m.depth)
            aliases, fields = _add(aliases, m.aliases), _add(fields, m.fields)
            cost = _add(cost, m.cost)
        return _Measure(depth, aliases, fields, cost)

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, meta: bool) -> _Measure:
        name = node.name.value
        meta = meta or name in ("__schema", "__type")
        definition = _field_of(parent, name)
        returns = definition.type if definition else None
        inner = self.selection_set(node.selection_set, _named(returns), meta)
        aliases = _add(inner.aliases, 1 if node.alias else 0)
        fields = _add(inner.fields, 1)
        if meta:  # introspection: the schema's own nesting, no rows
            return _Measure(0, aliases, fields, 0)
        depth = inner.depth + 1
        if returns is None or is_leaf_type(get_named_type(returns)):
            return _Measure(depth, aliases, fields, 0)
        weight = self.limits.weights.get(f"{parent.name if parent else ''}.{name}", 0)
        rows = _times(self.page_size(node, definition), _add(1 + weight, inner.cost))
        return _Measure(depth, aliases, fields, rows)

    def page_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """How many objects the field can return: 1, or a list's page size."""
        if definition is None or not _is_list(definition.type):
            return 1
        argument = definition.args.get("first")
        if argument is None:
            return UNPAGED_LIST
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        value: Any = _default(argument)
        if isinstance(given, IntValueNode):
            value = int(given.value)
        elif isinstance(given, VariableNode):
            value = self.variables.get(given.name.value, MAX_LIMIT)
        # Out of bounds, or not an int: the resolver refuses it; count the largest page.
        return value if isinstance(value, int) and 1 <= value <= MAX_LIMIT else MAX_LIMIT

    def fragment(self, name: str, meta: bool) -> _Measure:
        if name in self.done:
            return self.done[name]
        if name in self.active:
            raise _Cycle(name)
        definition = self.fragments.get(name)
        if definition is None:
            return _Measure()  # graphql-core's validation reports unknown fragments
        self.active.add(name)
        kind = self.schema.get_type(definition.type_condition.name.value)
        measured = self.selection_set(definition.selection_set, kind, meta)
        self.active.discard(name)
        self.done[name] = measured
        return measured


def _default(argument: GraphQLArgument) -> Any:
    """The argument's default: a schema built from SDL keeps it as a literal."""
    if argument.ast_node is not None and argument.ast_node.default_value is not None:
        return value_from_ast(argument.ast_node.default_value, argument.type)
    return argument.default_value


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _named(kind: Any) -> GraphQLNamedType | None:
    return get_named_type(kind) if kind is not None else None


def _is_list(kind: Any) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def problems(
    document: DocumentNode,
    schema: GraphQLSchema,
    limits: Limits,
    variables: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """What is wrong with each operation of ``document``; nothing for an acceptable one."""
    analysis = _Analysis(document, schema, limits, variables)
    roots = {"query": schema.query_type, "mutation": schema.mutation_type}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = roots.get(definition.operation.value)
        try:
            m = analysis.selection_set(definition.selection_set, root, False)
        except _Cycle as cycle:
            yield f"Fragment '{cycle.args[0]}' spreads itself (a cycle)."
            return
        except RecursionError:
            yield "The document nests too deeply."
            return
        if m.depth > limits.max_depth:
            yield f"Query depth {m.depth} exceeds the limit of {limits.max_depth}."
        if m.aliases > limits.max_aliases:
            yield f"{m.aliases} aliases exceed the limit of {limits.max_aliases}."
        if m.fields > limits.max_fields:
            yield f"{m.fields} fields (fragments expanded) exceed the limit of {limits.max_fields}."
        if m.cost > limits.max_cost:
            yield (
                f"The document can touch {m.cost} rows, past the limit of {limits.max_cost}: "
                "ask for smaller pages (first), fewer aliases or less nesting."
            )
