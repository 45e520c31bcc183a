"""GAD-7 vectors, pinned to Spitzer et al. (2006), the NHS Data Dictionary and NHS TT."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_items_1_to_7() -> None:
    result = score("gad-7", answers([0, 1, 2, 3, 0, 1, 2]))
    assert result.total == 9
    assert result.band == "mild"
    assert result.prorated is False
    assert result.missing == ()


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ([0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
        ([3, 1, 0, 0, 0, 0, 0], 4, "minimal"),
        ([3, 2, 0, 0, 0, 0, 0], 5, "mild"),
        ([3, 3, 3, 0, 0, 0, 0], 9, "mild"),
        ([3, 3, 3, 1, 0, 0, 0], 10, "moderate"),
        ([3, 3, 3, 3, 2, 0, 0], 14, "moderate"),
        ([3, 3, 3, 3, 3, 0, 0], 15, "severe"),
        ([3, 3, 3, 3, 3, 3, 3], 21, "severe"),
    ],
)
def test_spitzer_bands_at_every_boundary(values: list[int], total: int, band: str) -> None:
    result = score("gad-7", answers(values))
    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(
    ("values", "total", "clinical"),
    [([3, 3, 3, 0, 0, 0, 0], 9, False), ([3, 3, 3, 1, 0, 0, 0], 10, True)],
)
def test_adult_cutoff_of_10(values: list[int], total: int, clinical: bool) -> None:
    result = score("gad-7", answers(values), "adult")
    assert result.total == total
    assert result.clinical is clinical


def test_adolescent_population_has_no_cutoff() -> None:
    result = score("gad-7", answers([2] * 7), "adolescent")
    assert result.total == 14
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_two_missing_items_are_prorated_seven_fifths() -> None:
    # NHS Data Dictionary: up to two missing items replaced by the mean of the answered items.
    result = score("gad-7", answers([2, 2, 2, 2, 1]))
    assert result.total == 13  # 9 x 7/5 = 12.6, rounded half up
    assert result.band == "moderate"
    assert result.clinical is True
    assert result.prorated is True
    assert result.missing == ("6", "7")


def test_one_missing_item_is_prorated_seven_sixths() -> None:
    result = score("gad-7", answers([1, 1, 1, 1, 1, 2]))
    assert result.total == 8  # 7 x 7/6 = 8.17, rounded half up
    assert result.band == "mild"
    assert result.clinical is False


def test_three_missing_items_are_not_scorable() -> None:
    result = score("gad-7", answers([3, 3, 3, 3]))
    assert result.total is None
    assert result.band is None
    assert result.clinical is None
    assert result.missing == ("5", "6", "7")
    assert "not-scorable" in flag_codes(result)


def test_item_8_is_accepted_but_not_scored() -> None:
    result = score("gad-7", answers([1] * 7) | {"8": 3})
    assert result.total == 7
    assert "8" not in result.missing
    # An unanswered item 8 is not a missing item either.
    assert score("gad-7", answers([1] * 7)).missing == ()


def test_no_reverse_keyed_items_and_no_risk_flag() -> None:
    assert [i.id for i in definition("gad-7").items if i.reverse] == []
    assert score("gad-7", answers([3] * 7) | {"8": 3}).flags == ()


def test_invalid_responses_name_every_offending_item() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("gad-7", {"1": 4, "2": "1", "8": -1, "9": 0})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("1", "out-of-range"), ("2", "wrong-type"), ("8", "out-of-range"), ("9", "unknown-item"),
    ]  # fmt: skip


def test_constants_are_pinned() -> None:
    d = definition("gad-7")
    assert d.total.reliable_change is not None
    assert d.total.reliable_change.threshold == 4  # NHS Talking Therapies (Clark 2018, Table 2)
    assert d.total.missing.max_missing == 2  # NHS Data Dictionary
    # Spitzer et al. 2006: >= 10 for adults.
    assert [(c.population.value, c.comparison.value, c.value) for c in d.total.cutoffs] == [
        ("adult", ">=", 10)
    ]
    # LOINC (loinc.org 69729-2 / 69737-5).
    assert d.loinc_panel == "69737-5"
    assert d.total.loinc == "70274-6"
    assert [i.loinc for i in d.items[:7]] == [
        "69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7",
    ]  # fmt: skip
    assert [o.code for o in d.items[0].response.options] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9",
    ]  # fmt: skip
    assert d.item("8").scored is False
    # The one Rapport choice: rounding a prorated total (issue 16, item 9).
    assert [s.id for s in d.sources if s.kind.value == "rapport-default"] == [
        "rapport-gad7-rounding"
    ]
