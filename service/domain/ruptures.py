"""Alliance ruptures in the client's session-by-session alliance series, and not-on-track.

Rupture (a design after Stiles et al. 2004 and Gumz et al. 2012; neither published a rule
for routine use): at session t, the baseline is the mean of the client's previous k scored
sessions and the spread is the larger of their SD and a floor (Gumz et al. recommend taking
the stricter of intra- and inter-individual variability). A rupture is a score below
baseline - m x spread. It is repaired when a later score within w sessions returns to the
baseline, unrepaired when w sessions pass without that, and open until then. Defaults
k = 3, m = 2 (the strict criterion), w = 3 (Gumz et al. found the longest decline before
repair lasted six sessions; three keeps feedback timely). All are settings.

Two simpler signals stand beside it: a session-over-session drop of at least a set size,
and (for instruments with a cut-off, such as the SRS) a score on the clinical side of it.

Not-on-track is Rapport's open rule, not OQ's or PCOMS's (their expected-recovery curves are
proprietary): reliable deterioration from the first session at any session, or no reliable
improvement by session N (default 6).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from service.domain.instruments.model import Direction, ReliableChange
from service.domain.progress import Observation, improvement, latest_per_session

RUPTURE_RULE_VERSION = "rupture-1"
NOT_ON_TRACK_RULE_VERSION = "not-on-track-1"


@dataclass(frozen=True, slots=True)
class RuptureRule:
    baseline_sessions: int = 3  # k
    drop_sds: float = 2.0  # m
    repair_window: int = 3  # w
    min_spread: float = 0.0  # floor under the within-client SD, in score points (see app)
    session_drop: float | None = None  # a drop of at least this many points, if set


class RepairStatus(StrEnum):
    REPAIRED = "repaired"
    UNREPAIRED = "unrepaired"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class Rupture:
    session: int
    administration_id: uuid.UUID
    score: float
    baseline: float
    threshold: float
    status: RepairStatus
    repaired_at_session: int | None


@dataclass(frozen=True, slots=True)
class Drop:
    session: int
    administration_id: uuid.UUID
    previous: float
    score: float


def ruptures(
    observations: Sequence[Observation], direction: Direction, rule: RuptureRule = RuptureRule()
) -> list[Rupture]:
    """Ruptures in an alliance series where higher means a stronger alliance."""
    scored = scored_sessions(observations)
    sign = orientation(direction)
    values = [sign * o.total for o in scored]  # type: ignore[operator]
    found = []
    k = rule.baseline_sessions
    for t in range(k, len(scored)):
        below = rupture_threshold(values[t - k : t], values[t], rule)
        if below is None:
            continue
        baseline, threshold = below
        status, repaired_at = RepairStatus.OPEN, None
        later = [
            (scored[j].session, values[j])
            for j in range(t + 1, len(scored))
            if scored[j].session <= scored[t].session + rule.repair_window
        ]
        repair = next((s for s, v in later if v >= baseline), None)
        if repair is not None:
            status, repaired_at = RepairStatus.REPAIRED, repair
        elif scored[-1].session >= scored[t].session + rule.repair_window:
            status = RepairStatus.UNREPAIRED
        found.append(
            Rupture(
                session=scored[t].session,
                administration_id=scored[t].administration_id,
                score=scored[t].total,  # type: ignore[arg-type]
                baseline=round(sign * baseline, 9),
                threshold=round(sign * threshold, 9),
                status=status,
                repaired_at_session=repaired_at,
            )
        )
    return found


def rupture_threshold(
    window: Sequence[float], value: float, rule: RuptureRule
) -> tuple[float, float] | None:
    """(baseline, threshold) when ``value`` falls below the previous k values' baseline by
    m spreads, else None; all values oriented so that higher is a stronger alliance."""
    baseline = math.fsum(window) / len(window)
    threshold = baseline - rule.drop_sds * max(_sd(window), rule.min_spread)
    return (baseline, threshold) if value < threshold else None


def orientation(direction: Direction) -> float:
    """The sign that turns a score into 'higher is better'."""
    return 1.0 if direction is Direction.HIGHER_IS_BETTER else -1.0


def scored_sessions(observations: Iterable[Observation]) -> list[Observation]:
    """The series the rules read: each session's latest administration, when it is scored."""
    return [o for o in latest_per_session(observations) if o.total is not None]


def session_drops(
    observations: Sequence[Observation], direction: Direction, minimum: float
) -> list[Drop]:
    scored = scored_sessions(observations)
    drops = []
    for before, after in pairwise(scored):
        assert before.total is not None
        assert after.total is not None
        if dropped(before.total, after.total, direction, minimum):
            drops.append(Drop(after.session, after.administration_id, before.total, after.total))
    return drops


def dropped(before: float, after: float, direction: Direction, minimum: float) -> bool:
    """Whether the score fell by at least ``minimum`` points from one session to the next."""
    return -improvement(direction, after - before) >= minimum - 1e-9


@dataclass(frozen=True, slots=True)
class NotOnTrack:
    reason: str  # "reliable-deterioration" or "no-reliable-improvement"
    session: int
    administration_id: uuid.UUID
    change: float


@dataclass(frozen=True, slots=True)
class Track:
    """What not-on-track remembers of a series folded so far, in session order."""

    first_session: int | None = None  # the session change is measured from
    first_total: float = 0.0
    improved: bool = False
    deteriorated: bool = False
    stalled: bool = False


def track(
    state: Track, o: Observation, direction: Direction, rc: ReliableChange, by_session: int
) -> tuple[Track, list[NotOnTrack]]:
    """Fold one more scored session (after all folded ones) into ``state``: the new state
    and the signals raised at that session."""
    assert o.total is not None
    if state.first_session is None:
        return Track(o.session, o.total), []
    change = o.total - state.first_total
    reliable, gain = rc.is_reliable(change), improvement(direction, change)
    improved = state.improved or (reliable and gain > 0)
    signals = []
    deteriorated = state.deteriorated
    if reliable and gain < 0 and not deteriorated:
        deteriorated = True
        signals.append(NotOnTrack("reliable-deterioration", o.session, o.administration_id, change))
    stalled = state.stalled
    if o.session >= by_session and not improved and not stalled:
        stalled = True
        signals.append(
            NotOnTrack("no-reliable-improvement", o.session, o.administration_id, change)
        )
    return Track(state.first_session, state.first_total, improved, deteriorated, stalled), signals


def not_on_track(
    observations: Sequence[Observation],
    direction: Direction,
    rc: ReliableChange | None,
    by_session: int = 6,
) -> list[NotOnTrack]:
    """The first reliable deterioration and the first session at or past ``by_session``
    without any reliable improvement so far; either may be absent."""
    if rc is None:
        return []
    state, signals = Track(), []
    for o in scored_sessions(observations):
        state, found = track(state, o, direction, rc, by_session)
        signals.extend(found)
    return signals


def _sd(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
