"""The GraphQL guard's arithmetic (service/api/graphql/guard.py) and the argument enums.

Measured on the schema itself, without a server: the cost of a document multiplies through
aliases, nesting and page sizes as documented; the standard introspection query passes the
limits; each argument enum holds exactly its domain enum's values.
"""

from __future__ import annotations

import graphql
import pytest
import strawberry

from service.api.graphql.enums import MIRRORS
from service.api.graphql.guard import Limits, problems
from service.api.graphql.schema import Mutation, Query

TYPES = graphql.build_schema(str(strawberry.Schema(query=Query, mutation=Mutation)))
ATTACK = (
    "{ "
    + " ".join(
        f"a{i}: dyads(first: 50) {{ administrations {{ responses score {{ total band }} }} }}"
        for i in range(30)
    )
    + " }"
)


def found(document: str, variables: dict[str, object] | None = None) -> list[str]:
    return list(problems(graphql.parse(document), TYPES, Limits(), variables))


def cost(document: str, variables: dict[str, object] | None = None) -> int | None:
    """The cost the guard reports, with the limit lowered below 0 so that it always speaks."""
    limits = Limits(max_cost=-1)
    for message in problems(graphql.parse(document), TYPES, limits, variables):
        if "rows" in message:
            return int(message.split("touch ")[1].split(" rows")[0])
    return None


def test_the_attack_of_issue_16_is_refused_for_its_cost() -> None:
    assert cost(ATTACK) == 30 * 50 * (1 + 50 * (1 + 1))
    assert any("past the limit of 10000" in p for p in found(ATTACK))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ dyads { id } }", 50),  # the argument's default page
        ("{ dyads(first: 7) { id } }", 7),
        ("{ dyads(first: 7) { patient { id } } }", 7 * (1 + 1)),
        ("{ dyads(first: 2) { administrations(first: 3) { score { total } } } }", 2 * (1 + 3 * 2)),
        ("{ a: dyads(first: 2) { id } b: dyads(first: 3) { id } }", 5),
        ('{ dyad(id: "x") { progress(instrument: "phq-9") { points { total } } } }', 1 + 52),
        ("{ dyads(first: 500) { id } }", 200),  # out of bounds: refused later, counted at most
        ("{ instruments { id items { id } } }", 1 * (1 + 1)),  # in memory, counted once
        ("{ __typename }", 0),
    ],
)
def test_cost_multiplies_through_aliases_nesting_and_pages(document: str, expected: int) -> None:
    assert cost(document) == expected


def test_cost_reads_page_sizes_from_the_variables() -> None:
    document = "query($n: Int!) { dyads(first: $n) { administrations(first: $n) { id } } }"
    assert cost(document, {"n": 10}) == 10 * (1 + 10)
    assert cost(document, {}) == 200 * (1 + 200)  # missing: the largest page
    assert found(document, {"n": 10}) == []


def test_fragments_are_measured_once_and_multiplied_where_spread() -> None:
    document = (
        "{ a: dyads(first: 4) { ...D } b: dyads(first: 6) { ...D } } "
        "fragment D on Dyad { administrations(first: 5) { id } }"
    )
    assert cost(document) == 4 * (1 + 5) + 6 * (1 + 5)


def test_the_heaviest_admitted_document_is_admitted_and_one_more_row_is_not() -> None:
    heaviest = "{ dyads(first: 200) { administrations(first: 24) { score { total } } } }"
    assert cost(heaviest) == 9_800
    assert found(heaviest) == []
    heavier = "{ dyads(first: 200) { administrations(first: 25) { score { total } } } }"
    assert found(heavier)


def test_the_standard_introspection_query_passes_the_limits() -> None:
    assert found(graphql.get_introspection_query(descriptions=True)) == []


def test_depth_still_counts_outside_introspection() -> None:
    deep = "{ " + "dyads { patient { id } " * 1 + "}" + " }"
    assert found(deep) == []
    too_deep = "{ " + "dyads { " * 11 + "id" + " }" * 11 + " }"
    assert any("depth" in p for p in found(too_deep))


@pytest.mark.parametrize("mirror", list(MIRRORS), ids=lambda m: m.__name__)
def test_each_argument_enum_holds_its_domain_enums_values(mirror: type) -> None:
    domain = MIRRORS[mirror]
    assert {m.value for m in mirror} == {m.value for m in domain}
    assert all(m.name == m.value.replace("-", "_") for m in mirror)
