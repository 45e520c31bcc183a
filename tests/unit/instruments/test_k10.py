"""K10 vectors: Australian 1-5 convention (ABS), CRUfAD primary-care bands, Rapport defaults."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_ten_items_scored_1_to_5() -> None:
    result = score("k10", answers([1, 2, 3, 4, 5, 1, 2, 3, 4, 5]))
    assert result.total == 30
    assert result.band == "severe"
    assert result.prorated is False


def test_range_is_10_to_50() -> None:
    assert score("k10", answers([1] * 10)).total == 10
    assert score("k10", answers([5] * 10)).total == 50


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 10, "likely-well"),
        ([5, 5, 2, 1, 1, 1, 1, 1, 1, 1], 19, "likely-well"),
        ([5, 5, 3, 1, 1, 1, 1, 1, 1, 1], 20, "mild"),
        ([5, 5, 5, 3, 1, 1, 1, 1, 1, 1], 24, "mild"),
        ([5, 5, 5, 4, 1, 1, 1, 1, 1, 1], 25, "moderate"),
        ([5, 5, 5, 5, 4, 1, 1, 1, 1, 1], 29, "moderate"),
        ([5, 5, 5, 5, 5, 1, 1, 1, 1, 1], 30, "severe"),
        ([5, 5, 5, 5, 5, 5, 5, 5, 5, 5], 50, "severe"),
    ],
)
def test_crufad_bands_at_every_boundary(values: list[int], total: int, band: str) -> None:
    result = score("k10", answers(values))
    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(
    ("values", "total", "clinical"),
    [([5, 5, 2, 1, 1, 1, 1, 1, 1, 1], 19, False), ([5, 5, 3, 1, 1, 1, 1, 1, 1, 1], 20, True)],
)
def test_adult_cutoff_of_20_rapport_default(values: list[int], total: int, clinical: bool) -> None:
    result = score("k10", answers(values), "adult")
    assert result.total == total
    assert result.clinical is clinical


def test_adolescent_population_has_no_cutoff() -> None:
    result = score("k10", answers([3] * 10), "adolescent")
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_one_missing_item_is_not_scorable() -> None:
    # Rapport default: no total unless all 10 items are answered.
    result = score("k10", answers([5] * 9))
    assert result.total is None
    assert result.band is None
    assert result.missing == ("10",)
    assert "not-scorable" in flag_codes(result)


def test_us_zero_based_answers_are_rejected() -> None:
    # The definition stores the Australian 1-5 convention; a US 0-4 answer of 0 is out of range.
    with pytest.raises(InvalidResponses) as caught:
        score("k10", answers([0] + [1] * 9))
    assert [(e.field, e.code) for e in caught.value.errors] == [("1", "out-of-range")]


def test_no_reverse_keyed_items_and_no_item_flags() -> None:
    d = definition("k10")
    assert [i.id for i in d.items if i.reverse] == []
    assert d.item_flags == ()
    assert score("k10", answers([5] * 10)).flags == ()


def test_constants_are_pinned() -> None:
    d = definition("k10")
    assert (d.items[0].response.min, d.items[0].response.max) == (1, 5)  # ABS convention
    # CRUfAD primary-care bands; cut-off 20 is the lower edge of "mild" (Rapport default).
    assert d.total.bands is not None
    assert [(b.label, b.min) for b in d.total.bands.bands] == [
        ("likely-well", 10), ("mild", 20), ("moderate", 25), ("severe", 30),
    ]  # fmt: skip
    assert [(c.population.value, c.comparison.value, c.value) for c in d.total.cutoffs] == [
        ("adult", ">=", 20)
    ]
    assert d.total.reliable_change is None
    assert d.loinc_panel is None
    assert d.total.loinc is None
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "rapport-default-cutoff",
        "rapport-default-missing",
    ]
