"""Document limits checked before validation, in time linear in the document.

Strawberry's depth and alias limiters walk a fragment once per spread, so a few hundred
tokens of nested fragments (F30 spreads F29 twice, which spreads F28 twice...) make them
walk 2^30 nodes: a hang. This guard measures each fragment once (memoised; cycles are
refused), multiplying counts through spreads, and stops the operation before graphql-core's
own validation runs, so hostile documents answer with an error quickly. documents.py runs
it once per query text and keeps the verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True, slots=True)
class Limits:
    max_tokens: int = 4_000  # checked by graphql-core's parser, which stops at the limit
    max_depth: int = 10
    max_aliases: int = 30
    max_fields: int = 2_000  # fields after expanding every fragment spread


@dataclass(frozen=True, slots=True)
class _Measure:
    depth: int
    aliases: int
    fields: int


class _Cycle(Exception):
    pass


class _Analysis:
    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.done: dict[str, _Measure] = {}
        self.active: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None) -> _Measure:
        if node is None:
            return _Measure(0, 0, 0)
        depth = aliases = fields = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, 1 + inner.depth)
                aliases += inner.aliases + (1 if selection.alias else 0)
                fields += 1 + inner.fields
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                depth, aliases, fields = (
                    max(depth, inner.depth),
                    aliases + inner.aliases,
                    fields + inner.fields,
                )
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth, aliases, fields = (
                    max(depth, inner.depth),
                    aliases + inner.aliases,
                    fields + inner.fields,
                )
            # Saturate: counts past any limit need no precision, and must not grow unboundedly.
            aliases, fields = min(aliases, 10**9), min(fields, 10**9)
        return _Measure(depth, aliases, fields)

    def fragment(self, name: str) -> _Measure:
        if name in self.done:
            return self.done[name]
        if name in self.active:
            raise _Cycle(name)
        definition = self.fragments.get(name)
        if definition is None:
            return _Measure(0, 0, 0)  # graphql-core's validation reports unknown fragments
        self.active.add(name)
        measured = self.selection_set(definition.selection_set)
        self.active.discard(name)
        self.done[name] = measured
        return measured


def problems(document: DocumentNode, limits: Limits) -> Iterator[str]:
    analysis = _Analysis(document)
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        try:
            m = analysis.selection_set(definition.selection_set)
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
