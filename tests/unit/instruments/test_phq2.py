"""PHQ-2 vectors, pinned to Kroenke et al. (2003), Richardson et al. (2010) and LOINC 55757-9."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_items_1_and_2() -> None:
    result = score("phq-2", answers([1, 2]))
    assert result.total == 3
    assert result.band is None  # no published severity bands
    assert result.prorated is False
    assert result.missing == ()


@pytest.mark.parametrize(
    ("values", "total"), [([0, 0], 0), ([0, 1], 1), ([2, 1], 3), ([3, 2], 5), ([3, 3], 6)]
)
def test_totals_over_the_range(values: list[int], total: int) -> None:
    assert score("phq-2", answers(values)).total == total


@pytest.mark.parametrize(
    ("population", "values", "total", "clinical"),
    [
        ("adult", [1, 1], 2, False),
        ("adult", [2, 1], 3, True),
        ("adolescent", [0, 2], 2, False),
        ("adolescent", [0, 3], 3, True),
    ],
)
def test_cutoffs_per_population(
    population: str, values: list[int], total: int, clinical: bool
) -> None:
    result = score("phq-2", answers(values), population)
    assert result.total == total
    assert result.clinical is clinical
    assert result.provenance.population.value == population


def test_child_population_has_no_cutoff() -> None:
    result = score("phq-2", answers([3, 3]), "child")
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_one_missing_item_is_not_scorable() -> None:
    # Rapport default: max_missing = 0, so the limit is a complete form and one missing is past it.
    result = score("phq-2", {"1": 3})
    assert result.total is None
    assert result.clinical is None
    assert result.missing == ("2",)
    assert "not-scorable" in flag_codes(result)
    assert score("phq-2", {"1": 3, "2": None}).total is None


def test_no_risk_flag_even_at_the_maximum() -> None:
    # PHQ-9 item 9 is not part of the PHQ-2.
    result = score("phq-2", answers([3, 3]))
    assert "risk" not in flag_codes(result)
    assert result.flags == ()


def test_no_reverse_keyed_items() -> None:
    assert [i.id for i in definition("phq-2").items if i.reverse] == []
    # Raising either answer raises the total by the same amount.
    assert score("phq-2", answers([0, 2])).total == 2
    assert score("phq-2", answers([2, 0])).total == 2


def test_invalid_responses_are_rejected() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("phq-2", {"1": 4, "2": 1.5, "3": 0})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("1", "out-of-range"), ("2", "not-integer"), ("3", "unknown-item"),
    ]  # fmt: skip


def test_constants_are_pinned() -> None:
    d = definition("phq-2")
    # LOINC 55757-9 panel, 55758-7 total; items are PHQ-9 items 1-2 (loinc.org).
    assert d.loinc_panel == "55757-9"
    assert d.total.loinc == "55758-7"
    assert [i.loinc for i in d.items] == ["44250-9", "44255-8"]
    # Kroenke et al. 2003 (adult) and Richardson et al. 2010 (adolescent 13-17): >= 3.
    assert [(c.population.value, c.comparison.value, c.value) for c in d.total.cutoffs] == [
        ("adult", ">=", 3),
        ("adolescent", ">=", 3),
    ]
    assert d.total.reliable_change is None
    assert d.total.missing.max_missing == 0
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "rapport-default-missing"
    ]
