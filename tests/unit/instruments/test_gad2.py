"""GAD-2 vectors, pinned to Kroenke et al. (2007) and the GAD-7 LOINC item codes."""

from __future__ import annotations

import pytest

from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_items_1_and_2() -> None:
    result = score("gad-2", answers([2, 3]))
    assert result.total == 5
    assert result.band is None  # no published severity bands
    assert result.prorated is False


@pytest.mark.parametrize(
    ("values", "total", "clinical"),
    [([0, 0], 0, False), ([1, 1], 2, False), ([0, 2], 2, False), ([1, 2], 3, True),
     ([3, 0], 3, True), ([3, 3], 6, True)],
)  # fmt: skip
def test_adult_cutoff_of_3(values: list[int], total: int, clinical: bool) -> None:
    result = score("gad-2", answers(values), "adult")
    assert result.total == total
    assert result.clinical is clinical


def test_adolescent_population_has_no_cutoff() -> None:
    result = score("gad-2", answers([3, 3]), "adolescent")
    assert result.total == 6
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_one_missing_item_is_not_scorable() -> None:
    result = score("gad-2", {"2": 3})
    assert result.total is None
    assert result.missing == ("1",)
    assert "not-scorable" in flag_codes(result)


def test_no_reverse_keyed_items_and_no_risk_flag() -> None:
    assert [i.id for i in definition("gad-2").items if i.reverse] == []
    assert score("gad-2", answers([3, 3])).flags == ()


def test_constants_are_pinned() -> None:
    d = definition("gad-2")
    # GAD-7 items 1-2 (LOINC 69725-0, 68509-9); no GAD-2 panel or total code was confirmed.
    assert [i.loinc for i in d.items] == ["69725-0", "68509-9"]
    assert d.loinc_panel is None
    assert d.total.loinc is None
    # Kroenke et al. 2007: >= 3.
    assert [(c.population.value, c.comparison.value, c.value) for c in d.total.cutoffs] == [
        ("adult", ">=", 3)
    ]
    assert d.total.reliable_change is None
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "rapport-default-missing"
    ]
