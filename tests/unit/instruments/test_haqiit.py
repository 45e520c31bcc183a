"""HAq-II therapist-form vectors: same numbering and keying as the patient form (instruments.md
[S16]); the 1-6 scale and the missing rule are rapport-defaults. Expected values are hand-computed
(keyed value = 7 - answer for items 4, 8, 11, 16, 19).
"""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from service.domain.instruments.model import Direction, Respondent
from tests.unit.instruments.conftest import answers, definition, flag_codes, score

REVERSED = ["4", "8", "11", "16", "19"]


def test_all_sixes_sum_with_five_items_reversed() -> None:
    # 14 x 6 + 5 x 1 = 89.
    result = score("haq-ii-t", answers([6] * 19))
    assert result.total == 89
    assert result.clinical is None


def test_same_answers_score_the_same_on_both_forms() -> None:
    values = [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1]
    # Non-reversed: 1+2+3+5+6+1+3+4+6+1+2+3+5+6 = 48; reversed 4, 8, 11, 16, 19 answered
    # 4, 2, 5, 4, 1 -> keyed 3, 5, 2, 3, 6 = 19. Total 67.
    assert score("haq-ii-t", answers(values)).total == 67
    assert score("haq-ii", answers(values)).total == 67


@pytest.mark.parametrize("item", REVERSED)
def test_reversed_item_moves_the_total_the_opposite_way(item: str) -> None:
    # Base all 3s = 62; one reversed item answered 6 -> keyed 1: 59.
    assert score("haq-ii-t", answers([3] * 19) | {item: 6}).total == 59


def test_one_missing_item_is_prorated() -> None:
    # Item 1 missing; others 6: 13 x 6 + 5 x 1 = 83 over 18 items; total 83 x 19 / 18.
    result = score("haq-ii-t", answers([6] * 18, first=2))
    assert result.total == pytest.approx(83 * 19 / 18)
    assert result.prorated is True
    assert result.missing == ("1",)


def test_two_missing_items_are_not_scorable() -> None:
    result = score("haq-ii-t", answers([6] * 17, first=3))
    assert result.total is None
    assert "not-scorable" in flag_codes(result)


def test_out_of_range_answers_are_rejected() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("haq-ii-t", answers([7] + [3] * 18))
    assert [(e.field, e.code) for e in caught.value.errors] == [("1", "out-of-range")]


def test_pairs_with_the_patient_form() -> None:
    therapist = definition("haq-ii-t")
    assert therapist.paired_form == "haq-ii"
    assert definition(therapist.paired_form).paired_form == "haq-ii-t"


def test_constants_are_pinned() -> None:
    d = definition("haq-ii-t")
    assert d.respondent is Respondent.THERAPIST
    assert d.direction is Direction.HIGHER_IS_BETTER
    assert [i.id for i in d.items if i.reverse] == REVERSED  # [S16], PARTIALLY CONFIRMED
    assert {(i.response.min, i.response.max) for i in d.items} == {(1, 6)}
    assert (d.total.missing.max_missing, d.total.missing.prorate) == (1, True)
    assert d.total.cutoffs == ()
    assert d.total.bands is None
    assert d.total.reliable_change is None
    assert d.licence.item_text_allowed is False


def test_every_rapport_default_is_listed() -> None:
    d = definition("haq-ii-t")
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == [
        "haq2-missing",
        "haq2-scale",
    ]
