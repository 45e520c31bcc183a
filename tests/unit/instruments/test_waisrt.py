"""WAI-SR-T (therapist) vectors. Numbering parallel to the client form (Li et al. 2023 [S73]);
the 1-5 scale and the missing rule are rapport-defaults. Expected values are hand-computed.
"""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from service.domain.instruments.model import Direction, Respondent
from tests.unit.instruments.conftest import answers, definition, flag_codes, scale, score

# item:   1  2  3  4  5  6  7  8  9 10 11 12
MIXED = [2, 3, 4, 5, 5, 4, 3, 2, 1, 2, 3, 4]


def test_total_and_subscales_are_sums() -> None:
    result = score("wai-sr-t", answers(MIXED))
    assert scale(result, "goal") == 14  # items 4, 6, 8, 11: 5 + 4 + 2 + 3
    assert scale(result, "task") == 11  # items 1, 2, 10, 12: 2 + 3 + 2 + 4
    assert scale(result, "bond") == 13  # items 3, 5, 7, 9: 4 + 5 + 3 + 1
    assert result.total == 38


def test_same_answers_score_the_same_on_both_forms() -> None:
    client = score("wai-sr", answers(MIXED))
    therapist = score("wai-sr-t", answers(MIXED))
    assert [(s.id, s.score) for s in client.scales] == [(s.id, s.score) for s in therapist.scales]


def test_range_is_12_to_60() -> None:
    assert score("wai-sr-t", answers([1] * 12)).total == 12
    assert score("wai-sr-t", answers([5] * 12)).total == 60


@pytest.mark.parametrize("item", ["1", "3", "4", "12"])
def test_no_item_is_reverse_keyed(item: str) -> None:
    result = score("wai-sr-t", answers([3] * 12) | {item: 4})
    assert result.total == 37


def test_one_missing_item_prorates_the_total() -> None:
    # Item 9 missing; answered sum: 2+3+4+5+5+4+3+2+2+3+4 = 37 over 11 items.
    result = score("wai-sr-t", answers(MIXED) | {"9": None})
    assert result.total == pytest.approx(37 * 12 / 11)
    assert result.prorated is True
    assert scale(result, "bond") is None
    assert [(f.code, f.scale) for f in result.flags] == [("not-scorable", "bond")]


def test_two_missing_items_are_not_scorable() -> None:
    result = score("wai-sr-t", answers(MIXED) | {"9": None, "10": None})
    assert result.total is None
    assert ("not-scorable", "total") in [(f.code, f.scale) for f in result.flags]


def test_no_cutoffs_or_flags() -> None:
    result = score("wai-sr-t", answers([1] * 12))
    assert result.clinical is None
    assert result.band is None
    assert flag_codes(result) == []


def test_seven_point_answers_are_rejected() -> None:
    # The pair is defined on 1-5; a 7-point therapist form must not be scored here.
    with pytest.raises(InvalidResponses) as caught:
        score("wai-sr-t", answers([7] + [4] * 11))
    assert [(e.field, e.code) for e in caught.value.errors] == [("1", "out-of-range")]


def test_pairs_with_the_client_form() -> None:
    therapist = definition("wai-sr-t")
    assert therapist.paired_form == "wai-sr"
    assert definition(therapist.paired_form).paired_form == "wai-sr-t"


def test_constants_are_pinned() -> None:
    d = definition("wai-sr-t")
    assert d.respondent is Respondent.THERAPIST
    assert d.direction is Direction.HIGHER_IS_BETTER
    assert d.scale("goal").items == ("4", "6", "8", "11")
    assert d.scale("task").items == ("1", "2", "10", "12")
    assert d.scale("bond").items == ("3", "5", "7", "9")
    # Rapport default: the client form's 1-5 scale.
    assert {(i.response.min, i.response.max) for i in d.items} == {(1, 5)}
    assert d.items[0].response.source == "wai-sr-t-scale"
    assert [i.id for i in d.items if i.reverse] == []
    assert [(s.id, s.missing.max_missing) for s in d.scales] == [
        ("goal", 0), ("task", 0), ("bond", 0), ("total", 1),
    ]  # fmt: skip
    for s in d.scales:
        assert (s.cutoffs, s.bands, s.reliable_change, s.loinc) == ((), None, None, None)
    assert d.licence.item_text_allowed is False


def test_every_rapport_default_is_listed() -> None:
    d = definition("wai-sr-t")
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "wai-missing",
        "wai-sr-t-scale",
    ]
