"""WHO-5 vectors, pinned to Topp et al. (2015) and the developers' scoring guidance."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_raw_sum_times_4() -> None:
    result = score("who-5", answers([5, 4, 3, 2, 2]))
    assert result.total == 64  # raw 16 x 4
    assert result.scales[0].mean == pytest.approx(16 / 5)
    assert result.band is None  # no bands
    assert result.clinical is False
    assert result.flags == ()


def test_range_is_0_to_100() -> None:
    assert score("who-5", answers([0] * 5)).total == 0
    assert score("who-5", answers([5] * 5)).total == 100


@pytest.mark.parametrize(
    ("values", "total", "clinical"),
    [
        ([3, 3, 2, 2, 2], 48, True),  # raw 12: at or below 50 (50 itself is unreachable)
        ([3, 3, 3, 2, 2], 52, False),  # raw 13: just above 50
        ([5, 5, 5, 5, 5], 100, False),
        ([2, 2, 2, 2, 2], 40, True),
    ],
)
def test_clinical_when_50_or_less(values: list[int], total: int, clinical: bool) -> None:
    result = score("who-5", answers(values), "adult")
    assert result.total == total
    assert result.clinical is clinical


def test_any_item_at_0_or_1_raises_low_item_whatever_the_total() -> None:
    result = score("who-5", answers([5, 5, 5, 5, 1]))
    assert result.total == 84
    assert result.clinical is False
    assert flag_codes(result) == ["low-item"]
    assert result.flags[0].items == ("5",)
    two = score("who-5", answers([0, 4, 1, 4, 4]))
    assert two.flags[0].items == ("1", "3")


def test_item_at_2_does_not_raise_low_item() -> None:
    assert score("who-5", answers([2, 2, 2, 2, 2])).flags == ()


def test_low_item_fires_even_when_no_total_can_be_computed() -> None:
    result = score("who-5", {"3": 0})
    assert result.total is None
    assert "not-scorable" in flag_codes(result)
    assert "low-item" in flag_codes(result)


def test_one_missing_item_is_not_scorable() -> None:
    # Rapport default: no missing items.
    result = score("who-5", answers([5, 5, 5, 5]))
    assert result.total is None
    assert result.clinical is None
    assert result.missing == ("5",)
    assert "not-scorable" in flag_codes(result)


def test_higher_answers_raise_the_score_no_reverse_keying() -> None:
    assert [i.id for i in definition("who-5").items if i.reverse] == []
    assert score("who-5", answers([3, 3, 3, 3, 4])).total == 64
    assert score("who-5", answers([3, 3, 3, 3, 3])).total == 60


def test_adolescent_population_has_no_cutoff() -> None:
    result = score("who-5", answers([3] * 5), "adolescent")
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_answers_above_5_are_rejected() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("who-5", answers([6, 0, 0, 0, 0]))
    assert [(e.field, e.code) for e in caught.value.errors] == [("1", "out-of-range")]


def test_constants_are_pinned() -> None:
    d = definition("who-5")
    assert d.direction.value == "higher-is-better"
    assert d.total.aggregation.value == "sum-x4"
    # Topp et al. 2015: <= 50 (percentage score) screens for depression.
    assert [(c.population.value, c.comparison.value, c.value) for c in d.total.cutoffs] == [
        ("adult", "<=", 50)
    ]
    # Developers' guidance: a 10-point percentage difference is significant.
    assert d.total.reliable_change is not None
    assert d.total.reliable_change.threshold == 10
    # Developers' guidance: any item answered 0 or 1.
    assert [(f.code, f.items, f.comparison.value, f.value) for f in d.item_flags] == [
        ("low-item", ("1", "2", "3", "4", "5"), "<=", 1)
    ]
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "rapport-default-missing"
    ]
