"""DASS-21 vectors, pinned to the Lovibond and Lovibond (1995) x2 severity bands."""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from service.domain.scoring.result import ScaleScore, ScoreResult
from tests.unit.instruments.conftest import definition, flag_codes, score

DEPRESSION = ["3", "5", "10", "13", "16", "17", "21"]
ANXIETY = ["2", "4", "7", "9", "15", "19", "20"]
STRESS = ["1", "6", "8", "11", "12", "14", "18"]
ALL = [str(i) for i in range(1, 22)]


def _get(result: ScoreResult, scale_id: str) -> ScaleScore:
    return next(s for s in result.scales if s.id == scale_id)


def _fill(items: list[str], raw: int) -> dict[str, object]:
    """Answers for one scale's items adding up to ``raw`` (3s first); every other item 0."""
    responses: dict[str, object] = dict.fromkeys(ALL, 0)
    for item in items:
        value = min(3, raw)
        responses[item] = value
        raw -= value
    assert raw == 0
    return responses


def test_each_scale_is_its_raw_sum_times_2_and_total_is_the_plain_sum() -> None:
    responses = dict.fromkeys(DEPRESSION, 1) | dict.fromkeys(ANXIETY, 2) | dict.fromkeys(STRESS, 3)
    result = score("dass-21", responses)
    assert _get(result, "depression").score == 14  # raw 7
    assert _get(result, "depression").band == "moderate"
    assert _get(result, "anxiety").score == 28  # raw 14
    assert _get(result, "anxiety").band == "extremely-severe"
    assert _get(result, "stress").score == 42  # raw 21
    assert _get(result, "stress").band == "extremely-severe"
    assert result.total == 42  # 7 + 14 + 21, not doubled
    assert result.band is None
    assert result.clinical is None


def test_items_map_to_their_own_scale_only() -> None:
    result = score("dass-21", dict.fromkeys(ALL, 0) | {"21": 3})
    assert _get(result, "depression").score == 6
    assert _get(result, "anxiety").score == 0
    assert _get(result, "stress").score == 0
    assert result.total == 3


# x2 scores are even, so an odd band minimum (21, 15, 19) is checked at the achievable scores
# either side of it.
@pytest.mark.parametrize(
    ("raw", "expected", "band"),
    [
        (0, 0, "normal"), (4, 8, "normal"), (5, 10, "mild"), (6, 12, "mild"),
        (7, 14, "moderate"), (10, 20, "moderate"), (11, 22, "severe"), (13, 26, "severe"),
        (14, 28, "extremely-severe"), (21, 42, "extremely-severe"),
    ],
)  # fmt: skip
def test_depression_bands(raw: int, expected: int, band: str) -> None:
    s = _get(score("dass-21", _fill(DEPRESSION, raw)), "depression")
    assert (s.score, s.band) == (expected, band)


@pytest.mark.parametrize(
    ("raw", "expected", "band"),
    [
        (0, 0, "normal"), (3, 6, "normal"), (4, 8, "mild"), (5, 10, "moderate"),
        (7, 14, "moderate"), (8, 16, "severe"), (9, 18, "severe"),
        (10, 20, "extremely-severe"), (21, 42, "extremely-severe"),
    ],
)  # fmt: skip
def test_anxiety_bands(raw: int, expected: int, band: str) -> None:
    # Raw 5 (x2 = 10) is moderate on the x2 bands, though raw tables list raw 4-5 as mild.
    s = _get(score("dass-21", _fill(ANXIETY, raw)), "anxiety")
    assert (s.score, s.band) == (expected, band)


@pytest.mark.parametrize(
    ("raw", "expected", "band"),
    [
        (0, 0, "normal"), (7, 14, "normal"), (8, 16, "mild"), (9, 18, "mild"),
        (10, 20, "moderate"), (12, 24, "moderate"), (13, 26, "severe"), (16, 32, "severe"),
        (17, 34, "extremely-severe"), (21, 42, "extremely-severe"),
    ],
)  # fmt: skip
def test_stress_bands(raw: int, expected: int, band: str) -> None:
    s = _get(score("dass-21", _fill(STRESS, raw)), "stress")
    assert (s.score, s.band) == (expected, band)


def test_no_cutoffs_so_clinical_is_unset_and_no_cutoff_flag() -> None:
    result = score("dass-21", dict.fromkeys(ALL, 3), "adult")
    assert result.total == 63
    assert all(s.clinical is None for s in result.scales)
    assert "cutoff-unavailable" not in flag_codes(result)


def test_one_missing_item_blocks_its_scale_and_the_total_only() -> None:
    responses = dict.fromkeys(ALL, 1)
    del responses["13"]  # a depression item
    result = score("dass-21", responses)
    assert _get(result, "depression").score is None
    assert _get(result, "anxiety").score == 14
    assert _get(result, "stress").score == 14
    assert result.total is None
    assert result.missing == ("13",)
    not_scorable = [f.scale for f in result.flags if f.code == "not-scorable"]
    assert not_scorable == ["depression", "total"]


def test_no_reverse_keyed_items_and_no_item_flags() -> None:
    d = definition("dass-21")
    assert [i.id for i in d.items if i.reverse] == []
    assert d.item_flags == ()
    assert score("dass-21", dict.fromkeys(ALL, 3)).flags == ()


def test_invalid_responses_are_rejected() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("dass-21", dict.fromkeys(ALL, 0) | {"4": 4, "22": 0})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("4", "out-of-range"), ("22", "unknown-item"),
    ]  # fmt: skip


def test_constants_are_pinned() -> None:
    d = definition("dass-21")
    assert d.total_scale == "total"
    assert [(s.id, s.aggregation.value) for s in d.scales] == [
        ("depression", "sum-x2"), ("anxiety", "sum-x2"), ("stress", "sum-x2"), ("total", "sum"),
    ]  # fmt: skip
    assert list(d.scale("depression").items) == DEPRESSION
    assert list(d.scale("anxiety").items) == ANXIETY
    assert list(d.scale("stress").items) == STRESS
    assert list(d.scale("total").items) == ALL
    # Lovibond and Lovibond (1995) band minimums on the x2 metric.
    mins = {s.id: [b.min for b in s.bands.bands] for s in d.scales if s.bands is not None}
    assert mins == {
        "depression": [0, 10, 14, 21, 28],
        "anxiety": [0, 8, 10, 15, 20],
        "stress": [0, 15, 19, 26, 34],
    }
    assert all(s.cutoffs == () and s.reliable_change is None for s in d.scales)
    assert all(s.missing.max_missing == 0 for s in d.scales)
    assert d.licence.item_text_allowed is False
    assert all(i.text is None for i in d.items)
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "rapport-default-missing"
    ]
