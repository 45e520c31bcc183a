"""Properties of the generic scorer that hold for every instrument in the catalogue."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import InstrumentDefinition, Item, ResponseType
from service.domain.scoring.result import ScoreResult
from service.domain.scoring.scorer import Scorer

CATALOGUE = load_catalogue()
IDS = [d.id for d in CATALOGUE]


@cache
def scorer(instrument_id: str) -> Scorer:
    return Scorer(CATALOGUE.get(instrument_id))


def answer(item: Item) -> st.SearchStrategy[float]:
    r = item.response
    if r.type is ResponseType.INTEGER:
        return st.integers(int(r.min), int(r.max)).map(float)
    return st.floats(r.min, r.max, allow_nan=False).map(lambda x: round(x, 1))


@st.composite
def administrations(draw: st.DrawFn, with_missing: bool = True) -> tuple[str, dict[str, object]]:
    instrument_id = draw(st.sampled_from(IDS))
    d = CATALOGUE.get(instrument_id)
    responses: dict[str, object] = {}
    for item in d.items:
        if with_missing and draw(st.integers(0, 9)) == 0:
            continue
        responses[item.id] = draw(answer(item))
    return instrument_id, responses


def scores(result: ScoreResult) -> dict[str, float | None]:
    return {s.id: s.score for s in result.scales}


@settings(max_examples=400, deadline=None)
@given(administrations())
def test_every_score_lies_within_its_scale_range(case: tuple[str, dict[str, object]]) -> None:
    instrument_id, responses = case
    d: InstrumentDefinition = CATALOGUE.get(instrument_id)
    result = scorer(instrument_id).score(responses)
    for scale_result in result.scales:
        if scale_result.score is None:
            assert any(
                f.code == "not-scorable" and f.scale == scale_result.id for f in result.flags
            )
            continue
        low, high = d.scale_range(d.scale(scale_result.id))
        assert low - 1e-9 <= scale_result.score <= high + 1e-9
    assert result.total == scores(result)[d.total_scale]


@settings(max_examples=400, deadline=None)
@given(administrations(with_missing=False), st.data())
def test_raising_one_answer_never_moves_a_score_against_its_keying(
    case: tuple[str, dict[str, object]], data: st.DataObject
) -> None:
    instrument_id, responses = case
    d = CATALOGUE.get(instrument_id)
    item = data.draw(st.sampled_from([i for i in d.items if i.scored]))
    current = float(responses[item.id])  # type: ignore[arg-type]
    if current >= item.response.max:
        return
    raised = data.draw(st.floats(current, item.response.max).filter(lambda v: v > current))
    if item.response.type is ResponseType.INTEGER:
        raised = float(int(raised)) if int(raised) > current else current + 1
    before = scores(scorer(instrument_id).score(responses))
    after = scores(scorer(instrument_id).score(responses | {item.id: raised}))
    for scale in d.scales:
        old, new = before[scale.id], after[scale.id]
        assert old is not None
        assert new is not None
        if item.id not in scale.items:
            assert new == old
        elif item.reverse:
            assert new <= old  # a reverse-keyed answer counts the other way
        else:
            assert new >= old


@settings(max_examples=200, deadline=None)
@given(administrations(), st.randoms(use_true_random=False))
def test_item_order_does_not_matter(case: tuple[str, dict[str, object]], rnd: object) -> None:
    instrument_id, responses = case
    shuffled = list(responses.items())
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert scorer(instrument_id).score(dict(shuffled)) == scorer(instrument_id).score(responses)


@pytest.mark.parametrize("instrument_id", IDS)
def test_extremes_reach_both_ends_of_the_total_range(instrument_id: str) -> None:
    d = CATALOGUE.get(instrument_id)
    low_answers = {}
    high_answers = {}
    for item in d.items:
        if not item.scored:
            continue
        lo, hi = item.response.min, item.response.max
        low_answers[item.id] = hi if item.reverse else lo
        high_answers[item.id] = lo if item.reverse else hi
    low, high = d.scale_range(d.total)
    assert scorer(instrument_id).score(low_answers).total == pytest.approx(low)
    assert scorer(instrument_id).score(high_answers).total == pytest.approx(high)
