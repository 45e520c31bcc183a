"""Properties of the statistics that must hold for any series (Hypothesis).

- Concordance is antisymmetric in the two raters: swapping client and therapist negates every
  difference (total and subscales) and the bias, keeps |D|, the SD, r and the convergence slope.
- Direction is only an orientation: a higher-is-better instrument classifies the mirror image
  (score -> max + min - score) of a higher-is-worse series exactly as the original, given
  equal reliable-change thresholds and the mirrored cut-off.
- Progress is causal: adding a later session never changes the earlier points.
- Ruptures are causal: a rupture found in a prefix stays found, with the same baseline, when
  sessions are appended; only an open one may change its repair status.
"""

from __future__ import annotations

import uuid
from itertools import accumulate

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.concordance import Direction as PairDirection
from service.domain.concordance import DiscordanceRule, Rated, agreement, pair_sessions
from service.domain.instruments.model import (
    Comparison,
    Direction,
    InstrumentDefinition,
    Population,
)
from service.domain.progress import Observation, progress
from service.domain.ruptures import RepairStatus, RuptureRule, ruptures
from tests.unit.instruments.conftest import definition
from tests.unit.statistics.builders import at, mirrored, with_norms

PHQ9 = definition("phq-9")  # higher is worse, 0-27, RC 6, clinical >= 10
ORS = definition("ors")  # higher is better, 0-40, RC 5, clinical <= 25
# The mirror images: score' = 27 - score, so ">= 10" becomes "<= 17"; score' = 40 - score,
# so "<= 25" becomes ">= 15". Reliable-change thresholds are unchanged (6 and 5).
PHQ9_MIRROR = mirrored(PHQ9, Direction.HIGHER_IS_BETTER, Comparison.LE, 17)
ORS_MIRROR = mirrored(ORS, Direction.HIGHER_IS_WORSE, Comparison.GE, 15)


def sessions_strategy(max_size: int = 10) -> st.SearchStrategy[list[int]]:
    """Increasing session numbers starting at 1, with occasional gaps."""
    return st.lists(st.integers(1, 3), min_size=0, max_size=max_size).map(
        lambda gaps: list(accumulate([1, *gaps]))
    )


def make(sessions: list[int], totals: list[float | None]) -> list[Observation]:
    return [Observation(uuid.uuid4(), s, at(s), t) for s, t in zip(sessions, totals, strict=False)]


# --- concordance antisymmetry ---------------------------------------------------------------

WAI_TOTAL = st.integers(12, 60).map(float)
WAI_SUB = st.one_of(st.none(), st.integers(4, 20).map(float))


@st.composite
def dyad(draw: st.DrawFn) -> tuple[list[Rated], list[Rated]]:
    # sessions may repeat: a repeat is a re-administration, completed later
    sessions = draw(st.lists(st.integers(1, 8), max_size=12))
    client: list[Rated] = []
    therapist: list[Rated] = []
    for i, s in enumerate(sessions):
        for side in (client, therapist):
            if draw(st.integers(0, 4)) == 0:
                continue  # this side did not rate the session
            total = draw(st.one_of(st.none(), WAI_TOTAL))
            scales = {"total": total, "goal": draw(WAI_SUB), "bond": draw(WAI_SUB)}
            side.append(Rated(Observation(uuid.uuid4(), s, at(s, minutes=i), total), scales))
    return client, therapist


RULE = DiscordanceRule(8.4, 8.4, 0.8, 0.8, expected_offset=0.0, source="rapport")
SWAPPED_DIRECTION = {
    PairDirection.CLIENT_HIGHER: PairDirection.THERAPIST_HIGHER,
    PairDirection.THERAPIST_HIGHER: PairDirection.CLIENT_HIGHER,
    PairDirection.EQUAL: PairDirection.EQUAL,
}


@settings(max_examples=200, deadline=None)
@given(dyad())
def test_swapping_raters_negates_every_difference(pair: tuple[list[Rated], list[Rated]]) -> None:
    client, therapist = pair
    forward = pair_sessions(client, therapist, RULE, "total")
    backward = pair_sessions(therapist, client, RULE, "total")
    assert [p.session for p in forward] == [p.session for p in backward]
    for f, b in zip(forward, backward, strict=True):
        assert b.difference == -f.difference
        assert abs(b.difference) == abs(f.difference)
        assert (b.client, b.therapist) == (f.therapist, f.client)
        assert b.direction is SWAPPED_DIRECTION[f.direction]
        # with a zero expected offset the rule is symmetric, so is the flag
        assert b.discordant is f.discordant
        assert {name: -d for name, _, _, d in f.subscales} == {
            name: d for name, _, _, d in b.subscales
        }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(12, 60).map(float), st.integers(12, 60).map(float)),
        max_size=12,
    )
)
def test_swapping_raters_negates_the_bias_and_keeps_spread_r_and_slope(
    ratings: list[tuple[float, float]],
) -> None:
    forward = agreement([(i + 1, c, t) for i, (c, t) in enumerate(ratings)])
    backward = agreement([(i + 1, t, c) for i, (c, t) in enumerate(ratings)])
    assert backward.n == forward.n
    if forward.bias is None:
        assert backward.bias is None
    else:
        assert backward.bias == -forward.bias
    assert backward.sd == forward.sd
    if forward.lower_limit is not None:
        assert backward.lower_limit == -forward.upper_limit  # type: ignore[operator]
        assert backward.upper_limit == -forward.lower_limit
    assert backward.correlation == forward.correlation
    assert backward.convergence_slope == forward.convergence_slope
    assert backward.converging == forward.converging


# --- direction is an orientation --------------------------------------------------------------


def classify_alike(
    original: InstrumentDefinition,
    mirror: InstrumentDefinition,
    high: float,
    sessions: list[int],
    totals: list[float | None],
) -> None:
    obs = make(sessions, totals)
    flipped = [
        Observation(o.administration_id, o.session, o.completed_at, None)
        if o.total is None
        else Observation(o.administration_id, o.session, o.completed_at, round(high - o.total, 9))
        for o in obs
    ]
    a, b = progress(original, obs), progress(mirror, flipped)
    assert b.classification is a.classification
    assert b.started_clinical == a.started_clinical
    assert [p.reliable_change for p in b.points] == [p.reliable_change for p in a.points]
    assert [p.clinical for p in b.points] == [p.clinical for p in a.points]
    for pa, pb in zip(a.points, b.points, strict=True):
        if pa.change is None:
            assert pb.change is None
        else:
            assert pb.change is not None
            assert abs(pb.change + pa.change) < 1e-9


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    sessions_strategy(),
)
def test_phq9_like_mirror_classifies_the_same(data: st.DataObject, sessions: list[int]) -> None:
    totals = data.draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, 27).map(float)),
            min_size=len(sessions),
            max_size=len(sessions),
        )
    )
    classify_alike(PHQ9, PHQ9_MIRROR, 27, sessions, totals)


@settings(max_examples=300, deadline=None)
@given(st.data(), sessions_strategy())
def test_ors_like_mirror_classifies_the_same(data: st.DataObject, sessions: list[int]) -> None:
    tenths = st.integers(0, 400).map(lambda x: x / 10)  # VAS totals to 0.1 cm
    totals = data.draw(
        st.lists(st.one_of(st.none(), tenths), min_size=len(sessions), max_size=len(sessions))
    )
    classify_alike(ORS, ORS_MIRROR, 40, sessions, totals)


@settings(max_examples=200, deadline=None)
@given(
    st.data(),
    sessions_strategy(),
    st.integers(8, 20),
    st.integers(1, 5),
)
def test_jt_cutoff_a_mirrors_too(
    data: st.DataObject, sessions: list[int], clinical_mean: int, clinical_sd: int
) -> None:
    # a = M1 - 2 SD1 (higher is worse); on the mirror M1' = 27 - M1 and
    # a' = M1' + 2 SD1 = 27 - a, with clinical "> a" becoming "< 27 - a"
    original = with_norms("phq-9", clinical_mean, clinical_sd)
    mirror = with_norms("phq-9", 27 - clinical_mean, clinical_sd)
    mirror = mirrored(mirror, Direction.HIGHER_IS_BETTER, Comparison.LE, 17)
    totals = data.draw(
        st.lists(st.integers(0, 27).map(float), min_size=len(sessions), max_size=len(sessions))
    )
    classify_alike(original, mirror, 27, sessions, totals)


# --- causality ------------------------------------------------------------------------------

DEFINITIONS = [
    PHQ9,
    ORS,
    definition("wai-sr"),
    definition("core-10"),
    with_norms("phq-9", 15, 5, 3, 3),
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(DEFINITIONS),
    st.sampled_from(list(Population)),
    sessions_strategy(12),
    st.data(),
)
def test_adding_a_later_session_never_changes_earlier_points(
    d: InstrumentDefinition, population: Population, sessions: list[int], data: st.DataObject
) -> None:
    low, high = d.scale_range(d.total)
    value = st.integers(int(low), int(high)).map(float)
    totals = data.draw(
        st.lists(st.one_of(st.none(), value), min_size=len(sessions), max_size=len(sessions))
    )
    obs = make(sessions, totals)
    full = progress(d, obs, population).points
    for n in range(len(obs) + 1):
        assert progress(d, obs[:n], population).points == full[:n]


@settings(max_examples=300, deadline=None)
@given(
    sessions_strategy(14),
    st.data(),
    st.sampled_from(list(Direction)),
    st.integers(2, 4),
    st.sampled_from([1.0, 1.5, 2.0]),
    st.integers(1, 4),
    st.sampled_from([0.0, 1.0, 2.5]),
)
def test_ruptures_found_in_a_prefix_stay_found(
    sessions: list[int],
    data: st.DataObject,
    direction: Direction,
    k: int,
    m: float,
    w: int,
    floor: float,
) -> None:
    totals = data.draw(
        st.lists(
            st.one_of(st.none(), st.integers(0, 40).map(float)),
            min_size=len(sessions),
            max_size=len(sessions),
        )
    )
    rule = RuptureRule(baseline_sessions=k, drop_sds=m, repair_window=w, min_spread=floor)
    obs = make(sessions, totals)
    full = {(r.session, r.baseline): r for r in ruptures(obs, direction, rule)}
    for n in range(len(obs) + 1):
        for r in ruptures(obs[:n], direction, rule):
            later = full.get((r.session, r.baseline))
            assert later is not None, f"rupture at session {r.session} lost"
            assert (later.score, later.threshold) == (r.score, r.threshold)
            if r.status is not RepairStatus.OPEN:
                # repaired and unrepaired are final: the window has been seen in full
                assert (later.status, later.repaired_at_session) == (
                    r.status,
                    r.repaired_at_session,
                )
