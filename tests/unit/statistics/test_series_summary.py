"""The saved series summary gives exactly what the full-series rules give.

Storing an administration steps the dyad's saved summary once when the administration
comes after everything it covers, and reads and folds the whole series otherwise
(``summarize_new``). The properties below drive it through arbitrary arrival orders
(late sessions, re-administrations in a session, unscored administrations, administrations
stored with alerts off, which the store marks ``STALE``) and compare every step with a fold
of the whole series, the definition of what the rules find.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.alerts import AlertPolicy
from service.domain.progress import Observation
from service.domain.ruptures import RuptureRule, not_on_track, ruptures, session_drops
from service.domain.series_summary import (
    STALE,
    SavedSummary,
    SeriesRules,
    SeriesSummary,
    Signals,
    fold,
    summarize_new,
)
from tests.unit.instruments.conftest import definition
from tests.unit.statistics.builders import at, series

# An outcome form of each direction, and client alliance forms (one with a cut-off).
INSTRUMENTS = ["phq-9", "ors", "core-10", "wai-sr", "srs"]


@dataclass(frozen=True)
class Arrival:
    session: int
    total: float | None
    minutes: int  # completed this many minutes after the session's usual time
    alerts_on: bool  # evaluated when stored (False: stored while alerts were off)


def arrivals(low: float, high: float) -> st.SearchStrategy[list[Arrival]]:
    totals = st.one_of(st.none(), st.integers(int(low), int(high)).map(float))
    arrival = st.builds(
        Arrival,
        session=st.integers(1, 12),
        total=totals,
        minutes=st.integers(0, 3),
        alerts_on=st.sampled_from([True, True, True, False]),  # mostly on
    )
    return st.lists(arrival, min_size=1, max_size=25)


@st.composite
def cases(draw: st.DrawFn) -> tuple[SeriesRules, list[Arrival]]:
    d = definition(draw(st.sampled_from(INSTRUMENTS)))
    low, high = d.scale_range(d.total)
    policy = AlertPolicy(
        rupture=RuptureRule(
            baseline_sessions=draw(st.integers(2, 4)),
            drop_sds=draw(st.sampled_from([1.0, 2.0])),
            min_spread=draw(st.sampled_from([0.0, 0.05 * (high - low)])),
            session_drop=draw(st.sampled_from([None, 0.1 * (high - low)])),
        ),
        not_on_track_by_session=draw(st.integers(2, 8)),
    )
    return policy.series_rules(d), draw(arrivals(low, high))


class Series:
    """A dyad's series of one instrument as the store holds it, with its saved summary."""

    def __init__(self, rules: SeriesRules) -> None:
        self.rules = rules
        self.stored: list[Observation] = []
        self.saved: SavedSummary | None = None
        self.reads = 0

    def store(self, arrival: Arrival) -> Observation:
        new = Observation(
            uuid.UUID(int=len(self.stored) + 1), arrival.session,
            at(arrival.session, arrival.minutes), arrival.total,
        )  # fmt: skip
        self.stored.append(new)
        if not arrival.alerts_on and self.saved is not None:
            self.saved = replace(self.saved, rules_key=STALE)  # what the store does
        return new

    def evaluate(self, new: Observation) -> Signals:
        """What storing ``new`` does with alerts on: summary and signals."""

        def read() -> list[Observation]:
            self.reads += 1
            return list(self.stored)

        self.saved, signals = summarize_new(self.saved, new, self.rules, read)
        return signals


@given(cases())
@settings(max_examples=400, deadline=None)
def test_every_store_finds_what_the_whole_series_shows(
    case: tuple[SeriesRules, list[Arrival]],
) -> None:
    rules, arrivals_ = case
    dyad = Series(rules)
    for arrival in arrivals_:
        new = dyad.store(arrival)
        if not arrival.alerts_on:
            continue
        summary, expected = fold(dyad.stored, rules, new.administration_id)
        assert dyad.evaluate(new) == expected
        assert dyad.saved is not None
        assert dyad.saved.summary == summary
        assert dyad.saved.administrations == len(dyad.stored)
        assert dyad.saved.last_session == max(o.session for o in dyad.stored)


@given(cases())
@settings(max_examples=200, deadline=None)
def test_the_fold_finds_what_each_full_series_rule_finds(
    case: tuple[SeriesRules, list[Arrival]],
) -> None:
    # The fold's signal at an administration is that rule's finding there, for every
    # administration of the series: it shares the arithmetic, not a copy of it.
    rules, arrivals_ = case
    dyad = Series(rules)
    for arrival in arrivals_:
        dyad.store(arrival)
    stored, r = dyad.stored, rules
    for o in stored:
        _, signals = fold(stored, r, o.administration_id)
        if r.alliance:
            rupture = [x for x in ruptures(stored, r.direction, r.rupture)
                       if x.administration_id == o.administration_id]  # fmt: skip
            if rupture:
                (found,) = rupture
                assert signals.rupture is not None
                assert (signals.rupture.session, signals.rupture.score) == (
                    found.session,
                    found.score,
                )
                assert (signals.rupture.baseline, signals.rupture.threshold) == (
                    found.baseline,
                    found.threshold,
                )
            else:
                assert signals.rupture is None
            minimum = r.rupture.session_drop
            drops = [] if minimum is None else [
                x for x in session_drops(stored, r.direction, minimum)
                if x.administration_id == o.administration_id
            ]  # fmt: skip
            assert [signals.drop] == (drops or [None])
        else:
            assert signals.rupture is None
            assert signals.drop is None
        expected = [
            x for x in not_on_track(stored, r.direction, r.reliable_change,
                                    r.not_on_track_by_session)
            if x.administration_id == o.administration_id
        ]  # fmt: skip
        assert list(signals.not_on_track) == expected


def test_sessions_in_order_read_the_series_once() -> None:
    # PHQ-9 12 each session: the first store builds the summary from the series, every
    # later one steps it; not-on-track at session 6 (no reliable improvement).
    dyad = Series(AlertPolicy().series_rules(definition("phq-9")))
    found = [dyad.evaluate(dyad.store(Arrival(s, 12.0, 0, True))) for s in range(1, 9)]
    assert dyad.reads == 1
    assert [[x.reason for x in f.not_on_track] for f in found] == (
        [[]] * 5 + [["no-reliable-improvement"]] + [[]] * 2
    )


def test_what_rebuilds_the_summary() -> None:
    rules = AlertPolicy().series_rules(definition("phq-9"))
    dyad = Series(rules)
    for s in (1, 2, 3):
        dyad.evaluate(dyad.store(Arrival(s, 12.0, 0, True)))
    assert dyad.reads == 1
    dyad.evaluate(dyad.store(Arrival(3, 14.0, 5, True)))  # a re-administration in session 3
    assert dyad.reads == 2
    dyad.evaluate(dyad.store(Arrival(2, 20.0, 5, True)))  # an earlier session, late
    assert dyad.reads == 3
    dyad.store(Arrival(4, 12.0, 0, False))  # stored while alerts were off
    dyad.evaluate(dyad.store(Arrival(5, 12.0, 0, True)))
    assert dyad.reads == 4
    dyad.evaluate(dyad.store(Arrival(6, 12.0, 0, True)))  # in order again: a step
    assert dyad.reads == 4
    # Rules changed (another not-on-track session): the saved summary no longer applies.
    dyad.rules = replace(rules, not_on_track_by_session=9)
    dyad.evaluate(dyad.store(Arrival(7, 12.0, 0, True)))
    assert dyad.reads == 5


def test_an_unscored_administration_moves_the_summary_on_without_a_point() -> None:
    rules = AlertPolicy().series_rules(definition("phq-9"))
    dyad = Series(rules)
    dyad.evaluate(dyad.store(Arrival(1, 10.0, 0, True)))
    assert dyad.evaluate(dyad.store(Arrival(2, None, 0, True))) == Signals()
    assert dyad.saved is not None
    assert (dyad.saved.administrations, dyad.saved.last_session) == (2, 2)
    assert dyad.saved.summary == fold(series([10.0]), rules, uuid.uuid4())[0]
    assert dyad.reads == 1


def test_rules_keys_name_everything_a_summary_depends_on() -> None:
    phq9 = AlertPolicy().series_rules(definition("phq-9"))
    assert phq9.key == AlertPolicy().series_rules(definition("phq-9")).key
    assert len(phq9.key) == 32
    others = {
        replace(phq9, not_on_track_by_session=7),
        replace(phq9, rupture=RuptureRule(baseline_sessions=4)),
        AlertPolicy().series_rules(definition("ors")),
        AlertPolicy().series_rules(definition("wai-sr")),
    }
    assert phq9.key not in {r.key for r in others}
    assert len({r.key for r in others}) == len(others)


def test_an_empty_summary_is_the_fold_of_nothing() -> None:
    rules = AlertPolicy().series_rules(definition("wai-sr"))
    assert fold([], rules, uuid.uuid4()) == (SeriesSummary(), Signals())
