"""CORE-10 vectors, pinned to Barkham et al. (2013) and the CORE System Trust scoring rules.

The clinical score is 10 x the mean item score (the plain sum when all ten are answered);
items 2 and 3 are reverse keyed (keyed = 4 - answer).
"""

from __future__ import annotations

import pytest

from service.domain.instruments.model import Aggregation, Comparison, SourceKind
from tests.unit.instruments.conftest import answers, definition, flag_codes, score

REVERSED = {"2", "3"}


def from_keyed(keyed: list[int]) -> dict[str, object]:
    """Raw answers that produce the given keyed values (items 2 and 3 are answered 4 - v)."""
    return {str(i): (4 - v if str(i) in REVERSED else v) for i, v in enumerate(keyed, start=1)}


def spread(total: int) -> list[int]:
    """Ten keyed values (each 0-4) summing to ``total``."""
    values = [min(4, max(0, total - 4 * i)) for i in range(10)]
    assert sum(values) == total
    return values


def test_clinical_score_is_the_keyed_sum_when_all_ten_are_answered() -> None:
    # Raw 1,3,2,0,4,0,2,1,3,2 -> keyed 1,(4-3)=1,(4-2)=2,0,4,0,2,1,3,2 = 16.
    result = score("core-10", answers([1, 3, 2, 0, 4, 0, 2, 1, 3, 2]))
    assert result.total == 16
    assert result.band == "moderate"
    assert result.clinical is True
    assert result.prorated is False
    assert result.missing == ()
    assert result.scales[0].metric is Aggregation.MEAN_X10
    assert result.scales[0].mean == pytest.approx(1.6)


def test_reverse_keyed_items_2_and_3_move_the_score_the_other_way() -> None:
    all_zero = score("core-10", answers([0] * 10))
    assert all_zero.total == 8  # items 2 and 3 answered 0 are keyed 4 each
    item2_high = score("core-10", answers([0, 4, 0, 0, 0, 0, 0, 0, 0, 0]))
    assert item2_high.total == 4  # answering 4 on item 2 lowers the score by 4
    both_high = score("core-10", answers([0, 4, 4, 0, 0, 0, 0, 0, 0, 0]))
    assert both_high.total == 0
    item1_high = score("core-10", answers([4, 4, 4, 0, 0, 0, 0, 0, 0, 0]))
    assert item1_high.total == 4  # a forward item raises it


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "healthy-or-low"), (10, "healthy-or-low"), (11, "mild"), (14, "mild"),
        (15, "moderate"), (19, "moderate"), (20, "moderate-to-severe"),
        (24, "moderate-to-severe"), (25, "severe"), (40, "severe"),
    ],
)  # fmt: skip
def test_bands_at_every_boundary(total: int, band: str) -> None:
    result = score("core-10", from_keyed(spread(total)))
    assert result.total == total
    assert result.band == band


@pytest.mark.parametrize(
    ("population", "total", "clinical"),
    [("adult", 10, False), ("adult", 11, True)],
)
def test_adult_cutoff_is_11_or_more(population: str, total: int, clinical: bool) -> None:
    result = score("core-10", from_keyed(spread(total)), population)
    assert result.total == total
    assert result.clinical is clinical


@pytest.mark.parametrize("population", ["adolescent", "child"])
def test_no_cutoff_outside_adults(population: str) -> None:
    result = score("core-10", from_keyed(spread(20)), population)
    assert result.total == 20
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_one_missing_item_is_prorated_from_the_mean_of_nine() -> None:
    # Keyed 4,0,0,4,1,0,2,1,1 (sum 13) on items 1-9, item 10 missing: 10 x 13/9.
    result = score("core-10", from_keyed([4, 0, 0, 4, 1, 0, 2, 1, 1]))
    assert result.total == pytest.approx(130 / 9)  # 14.44...
    assert result.band == "mild"
    assert result.clinical is True
    assert result.prorated is True
    assert result.missing == ("10",)


def test_prorated_scores_keep_their_decimals_at_the_cutoff() -> None:
    # Nine answered, keyed sum 9 -> exactly 10.0 (not clinical); sum 10 -> 11.1 (clinical).
    at_ten = score("core-10", from_keyed([1] * 9))
    assert at_ten.total == 10
    assert at_ten.clinical is False
    above = score("core-10", from_keyed([2] + [1] * 8))
    assert above.total == pytest.approx(100 / 9)
    assert above.band == "mild"
    assert above.clinical is True


def test_two_missing_items_are_not_scorable() -> None:
    result = score("core-10", from_keyed([2] * 8))
    assert result.total is None
    assert result.band is None
    assert result.clinical is None
    assert "not-scorable" in flag_codes(result)
    assert result.missing == ("9", "10")


def test_item_6_raises_risk_even_when_the_total_is_low_or_missing() -> None:
    low = score("core-10", from_keyed([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))
    assert low.total == 1
    assert flag_codes(low) == ["risk"]
    assert low.flags[0].items == ("6",)
    incomplete = score("core-10", {"6": 1})
    assert incomplete.total is None
    assert "risk" in flag_codes(incomplete)


def test_item_6_at_zero_raises_no_risk_flag() -> None:
    result = score("core-10", from_keyed([4, 4, 4, 4, 4, 0, 4, 4, 4, 4]))
    assert result.total == 36
    assert "risk" not in flag_codes(result)


def test_constants_are_pinned() -> None:
    d = definition("core-10")
    total = d.total
    # Barkham et al. (2013): RCI 6 clinical-score points at 90% confidence; cut-off 11.
    assert total.reliable_change is not None
    assert total.reliable_change.threshold == 6
    assert total.reliable_change.z == 1.645
    assert [(c.population.value, c.comparison, c.value) for c in total.cutoffs] == [
        ("adult", Comparison.GE, 11)
    ]
    # CamCOPS core10.py / softoutcomes form: items 2 and 3 reverse scored.
    assert [i.id for i in d.items if i.reverse] == ["2", "3"]
    # CORE System Trust: 10 x mean, prorate with at most one (10%) missing.
    assert total.aggregation is Aggregation.MEAN_X10
    assert (total.missing.max_missing, total.missing.prorate) == (1, True)
    assert [(b.label, b.min) for b in total.bands.bands] == [  # type: ignore[union-attr]
        ("healthy-or-low", 0), ("mild", 11), ("moderate", 15),
        ("moderate-to-severe", 20), ("severe", 25),
    ]  # fmt: skip
    # No LOINC codes were found for the CORE-10.
    assert d.loinc_panel is None
    assert total.loinc is None
    assert all(i.loinc is None for i in d.items)


def test_licence_forbids_item_wording() -> None:
    d = definition("core-10")
    assert d.licence.item_text_allowed is False
    assert all(i.text is None for i in d.items)
    assert all(not i.response.options for i in d.items)


def test_every_rapport_default_is_listed() -> None:
    d = definition("core-10")
    defaults = sorted(s.id for s in d.sources if s.kind is SourceKind.RAPPORT_DEFAULT)
    assert defaults == ["rapport-core10-bands", "rapport-risk-any"]
