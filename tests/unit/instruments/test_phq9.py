"""PHQ-9 vectors, pinned to Kroenke et al. (2001), the NHS Data Dictionary and Richardson (2010)."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_items_1_to_9() -> None:
    result = score("phq-9", answers([0, 1, 2, 3, 0, 1, 2, 3, 0]))
    assert result.total == 12
    assert result.band == "moderate"
    assert result.prorated is False
    assert result.missing == ()


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
        (14, "moderate"), (15, "moderately-severe"), (19, "moderately-severe"),
        (20, "severe"), (27, "severe"),
    ],
)  # fmt: skip
def test_kroenke_bands_at_every_boundary(total: int, band: str) -> None:
    values = [min(3, max(0, total - 3 * i)) for i in range(9)]
    assert sum(values) == total
    result = score("phq-9", answers([*values[:8], 0]) | {"9": values[8]})
    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(
    ("population", "total", "clinical"),
    [("adult", 9, False), ("adult", 10, True), ("adolescent", 10, False), ("adolescent", 11, True)],
)
def test_cutoffs_per_population(population: str, total: int, clinical: bool) -> None:
    values = [3, 3, 3, total - 9, 0, 0, 0, 0, 0] if total >= 9 else [0] * 9
    result = score("phq-9", answers(values), population)
    assert result.total == total
    assert result.clinical is clinical
    assert result.provenance.population.value == population


def test_population_defaults_to_adult_and_says_so() -> None:
    result = score("phq-9", answers([1] * 9))
    assert result.provenance.population.value == "adult"
    assert result.provenance.population_defaulted is True


def test_child_population_has_no_cutoff() -> None:
    result = score("phq-9", answers([2] * 9), "child")
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_two_missing_items_are_prorated_nine_sevenths() -> None:
    # NHS Data Dictionary / CMS MDS 3.0 D0300: sum x 9/7 when two items are missing,
    # rounded to the nearest integer (13 x 9/7 = 16.71 -> 17).
    result = score("phq-9", answers([2, 2, 2, 2, 2, 2, 1]))
    assert result.total == 17
    assert result.prorated is True
    assert result.missing == ("8", "9")


def test_three_missing_items_are_not_scorable() -> None:
    result = score("phq-9", answers([2, 2, 2, 2, 2, 2]))
    assert result.total is None
    assert result.band is None
    assert result.clinical is None
    assert "not-scorable" in flag_codes(result)


def test_item_9_raises_risk_even_when_the_total_is_low_or_missing() -> None:
    low = score("phq-9", answers([0, 0, 0, 0, 0, 0, 0, 0, 1]))
    assert low.total == 1
    assert flag_codes(low) == ["risk"]
    assert low.flags[0].items == ("9",)
    incomplete = score("phq-9", {"9": 2})
    assert incomplete.total is None
    assert "risk" in flag_codes(incomplete)


def test_item_10_is_accepted_but_not_scored() -> None:
    result = score("phq-9", answers([1] * 9) | {"10": 3})
    assert result.total == 9
    assert "10" not in result.missing


def test_nulls_count_as_missing() -> None:
    result = score("phq-9", answers([1] * 8) | {"9": None})
    assert result.missing == ("9",)
    assert result.total == 9


def test_invalid_responses_name_every_offending_item() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("phq-9", {"1": 4, "2": "1", "3": 1.5, "4": True, "11": 0, "5": -1})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("1", "out-of-range"), ("2", "wrong-type"), ("3", "not-integer"),
        ("4", "wrong-type"), ("5", "out-of-range"), ("11", "unknown-item"),
    ]  # fmt: skip


def test_constants_are_pinned() -> None:
    d = definition("phq-9")
    assert d.total.reliable_change is not None
    assert d.total.reliable_change.threshold == 6  # NHS Talking Therapies
    assert d.total.loinc == "44261-6"
    assert d.loinc_panel == "44249-1"
    assert [i.loinc for i in d.items[:9]] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
        "44258-2", "44252-5", "44253-3", "44260-8",
    ]  # fmt: skip


def test_an_undeclared_population_is_flagged() -> None:
    result = score("phq-9", answers([1] * 9), "child")
    assert "population-not-validated" in flag_codes(result)
    assert score("phq-9", answers([1] * 8 + [0]), "adolescent").flags == ()
