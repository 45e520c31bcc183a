"""WAI-SR (client) vectors: item map from Rivet and Blueprint (instruments.md [S1, S2]),
items 9/10/11 corroborated by Li et al. 2023 [S73]; missing rule is a rapport-default.
Expected values are hand-computed.
"""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from service.domain.instruments.model import Aggregation, Direction, Respondent
from service.domain.scoring.result import ScoreResult
from tests.unit.instruments.conftest import answers, definition, flag_codes, scale, score

# item:   1  2  3  4  5  6  7  8  9 10 11 12
MIXED = [5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5, 4]


def mean(result: ScoreResult, scale_id: str) -> float | None:
    return next(s.mean for s in result.scales if s.id == scale_id)


def test_total_and_subscales_are_sums() -> None:
    result = score("wai-sr", answers(MIXED))
    assert scale(result, "goal") == 15  # items 4, 6, 8, 11: 2 + 5 + 3 + 5
    assert scale(result, "task") == 14  # items 1, 2, 10, 12: 5 + 4 + 1 + 4
    assert scale(result, "bond") == 10  # items 3, 5, 7, 9: 3 + 1 + 4 + 2
    assert result.total == 39
    assert result.prorated is False
    assert result.missing == ()


def test_item_means_are_reported_beside_the_sums() -> None:
    result = score("wai-sr", answers(MIXED))
    assert mean(result, "goal") == 3.75
    assert mean(result, "task") == 3.5
    assert mean(result, "bond") == 2.5
    assert mean(result, "total") == 3.25
    assert all(s.metric is Aggregation.SUM for s in result.scales)


def test_range_is_12_to_60() -> None:
    low = score("wai-sr", answers([1] * 12))
    high = score("wai-sr", answers([5] * 12))
    assert (low.total, high.total) == (12, 60)
    assert [scale(low, s) for s in ("goal", "task", "bond")] == [4, 4, 4]
    assert [scale(high, s) for s in ("goal", "task", "bond")] == [20, 20, 20]


@pytest.mark.parametrize("item", [str(i) for i in range(1, 13)])
def test_no_item_is_reverse_keyed(item: str) -> None:
    # All 3s = 36; raising any single item to 4 raises the total by exactly 1.
    result = score("wai-sr", answers([3] * 12) | {item: 4})
    assert result.total == 37


def test_one_missing_item_prorates_the_total_and_drops_its_subscale() -> None:
    # Item 12 missing; answered: item 1 = 1, items 2-11 = 4 -> sum 41 over 11 items.
    result = score("wai-sr", answers([1] + [4] * 10))
    assert result.total == pytest.approx(41 * 12 / 11)
    assert result.prorated is True
    assert result.missing == ("12",)
    assert scale(result, "task") is None  # subscales allow no missing item
    assert scale(result, "goal") == 16
    assert scale(result, "bond") == 16
    assert [(f.code, f.scale) for f in result.flags] == [("not-scorable", "task")]


def test_two_missing_items_are_not_scorable() -> None:
    result = score("wai-sr", answers([4] * 10))
    assert result.total is None
    assert result.clinical is None
    assert ("not-scorable", "total") in [(f.code, f.scale) for f in result.flags]


@pytest.mark.parametrize(
    ("population", "flags"),
    [
        ("adult", []),
        ("adolescent", ["population-not-validated"]),
        ("child", ["population-not-validated"]),
    ],
)
def test_no_cutoffs_bands_or_flags(population: str, flags: list[str]) -> None:
    result = score("wai-sr", answers([1] * 12), population)
    assert result.clinical is None
    assert result.band is None
    assert flag_codes(result) == flags


def test_invalid_responses_are_rejected() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("wai-sr", {"1": 0, "2": 6, "3": 2.5, "13": 1})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("1", "out-of-range"), ("2", "out-of-range"), ("3", "not-integer"), ("13", "unknown-item"),
    ]  # fmt: skip


def test_pairs_with_the_therapist_form() -> None:
    client, therapist = definition("wai-sr"), definition("wai-sr-t")
    assert client.paired_form == "wai-sr-t"
    assert therapist.paired_form == "wai-sr"
    assert (client.respondent, therapist.respondent) == (Respondent.CLIENT, Respondent.THERAPIST)
    assert [(i.id, i.response.min, i.response.max, i.reverse) for i in client.items] == [
        (i.id, i.response.min, i.response.max, i.reverse) for i in therapist.items
    ]
    assert [(s.id, s.items, s.aggregation) for s in client.scales] == [
        (s.id, s.items, s.aggregation) for s in therapist.scales
    ]


def test_constants_are_pinned() -> None:
    d = definition("wai-sr")
    assert d.respondent is Respondent.CLIENT
    assert d.direction is Direction.HIGHER_IS_BETTER
    assert [p.value for p in d.populations] == ["adult"]
    # Item map, Rivet / Blueprint [S1, S2]; 9 bond, 10 task, 11 goal per Li et al. 2023 [S73].
    assert d.scale("goal").items == ("4", "6", "8", "11")
    assert d.scale("task").items == ("1", "2", "10", "12")
    assert d.scale("bond").items == ("3", "5", "7", "9")
    assert len(d.total.items) == 12
    # 1-5, Seldom .. Always [S1]; no reverse-keyed items [S1, S2].
    assert {(i.response.min, i.response.max) for i in d.items} == {(1, 5)}
    assert [o.label for o in d.items[0].response.options] == [
        "Seldom", "Sometimes", "Fairly often", "Very often", "Always",
    ]  # fmt: skip
    assert [i.id for i in d.items if i.reverse] == []
    # Rapport default: subscales complete, total at most 1 missing (prorated).
    assert [(s.id, s.missing.max_missing, s.missing.prorate) for s in d.scales] == [
        ("goal", 0, False), ("task", 0, False), ("bond", 0, False), ("total", 1, True),
    ]  # fmt: skip
    # Nothing published: no cut-offs, no bands (vendor bands not shipped), no RC, no LOINC.
    for s in d.scales:
        assert (s.cutoffs, s.bands, s.reliable_change, s.loinc) == ((), None, None, None)
    assert d.item_flags == ()
    assert d.licence.item_text_allowed is False
    assert all(i.text is None for i in d.items)


def test_every_rapport_default_is_listed() -> None:
    d = definition("wai-sr")
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "rapport-concordance-wai",
        "wai-missing",
    ]
