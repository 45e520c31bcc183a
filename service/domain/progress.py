"""Change over sessions for one instrument in one dyad (Jacobson and Truax, 1991).

Every point's change is measured from the first scored session, always in the instrument's
own direction: for PHQ-9 or CORE (higher is worse) a fall is an improvement, for ORS or
WHO-5 (higher is better) a rise is. The episode is classified from the first to the last
scored point:

- recovered: reliable improvement and a move from the clinical to the non-clinical side of
  the clinical cut-off (J&T cut-off c where functional and clinical norms exist, a where only
  clinical norms do, otherwise the instrument's published cut-off for the population);
- improved: reliable improvement without that move (including a start below the cut-off);
- deteriorated: reliable change in the unhealthy direction;
- unchanged: neither;
- not-applicable: fewer than two scored points, or no reliable-change constants.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.domain.instruments.model import (
    Comparison,
    Direction,
    InstrumentDefinition,
    Population,
    ReliableChange,
    Scale,
)


class ReliableChangeLabel(StrEnum):
    IMPROVED = "improved"
    DETERIORATED = "deteriorated"
    NONE = "none"


class Classification(StrEnum):
    RECOVERED = "recovered"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    DETERIORATED = "deteriorated"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True, slots=True)
class Observation:
    """One scored administration: what the store hands the progress computation."""

    administration_id: uuid.UUID
    session: int
    completed_at: datetime
    total: float | None


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    administration_id: uuid.UUID
    session: int
    completed_at: datetime
    total: float | None
    change: float | None  # total minus the first scored total
    reliable_change: ReliableChangeLabel | None  # None: no constants to judge by
    clinical: bool | None


@dataclass(frozen=True, slots=True)
class ClinicalCutoff:
    method: str  # "c", "a" (Jacobson and Truax) or "published"
    value: float
    comparison: Comparison  # clinical when `score comparison value`
    source: str

    def is_clinical(self, score: float) -> bool:
        return self.comparison.holds(score, self.value)


@dataclass(frozen=True, slots=True)
class Progress:
    instrument: str
    direction: Direction
    points: tuple[ProgressPoint, ...]
    classification: Classification
    reason: str
    reliable_change: ReliableChange | None
    cutoff: ClinicalCutoff | None
    started_clinical: bool | None


def latest_per_session(observations: Iterable[Observation]) -> list[Observation]:
    """One observation per session: the last completed (a re-administration supersedes)."""
    by_session: dict[int, Observation] = {}
    for o in sorted(observations, key=lambda o: (o.session, o.completed_at)):
        by_session[o.session] = o
    return [by_session[s] for s in sorted(by_session)]


def clinical_cutoff(
    definition: InstrumentDefinition, scale: Scale, population: Population
) -> ClinicalCutoff | None:
    better_higher = definition.direction is Direction.HIGHER_IS_BETTER
    clinical_side = Comparison.LT if better_higher else Comparison.GT
    norms = scale.norms
    if norms is not None and norms.functional_mean is not None and norms.functional_sd:
        c = norms.clinical_sd * norms.functional_mean + norms.functional_sd * norms.clinical_mean
        c /= norms.clinical_sd + norms.functional_sd
        return ClinicalCutoff("c", c, clinical_side, norms.source)
    if norms is not None:
        shift = 2 * norms.clinical_sd
        a = norms.clinical_mean + shift if better_higher else norms.clinical_mean - shift
        return ClinicalCutoff("a", a, clinical_side, norms.source)
    published = scale.cutoff_for(population)
    if published is None:
        return None
    return ClinicalCutoff("published", published.value, published.comparison, published.source)


def improvement(direction: Direction, change: float) -> float:
    """Change expressed so that positive always means better."""
    return change if direction is Direction.HIGHER_IS_BETTER else -change


def label_change(
    direction: Direction, rc: ReliableChange | None, change: float
) -> ReliableChangeLabel | None:
    if rc is None:
        return None
    if not rc.is_reliable(change):
        return ReliableChangeLabel.NONE
    better = improvement(direction, change) > 0
    return ReliableChangeLabel.IMPROVED if better else ReliableChangeLabel.DETERIORATED


def progress(
    definition: InstrumentDefinition,
    observations: Sequence[Observation],
    population: Population = Population.ADULT,
) -> Progress:
    scale = definition.total
    rc = scale.reliable_change
    cutoff = clinical_cutoff(definition, scale, population)
    series = latest_per_session(observations)
    scored = [o for o in series if o.total is not None]
    first = scored[0].total if scored else None
    points = tuple(
        ProgressPoint(
            administration_id=o.administration_id,
            session=o.session,
            completed_at=o.completed_at,
            total=o.total,
            change=None if o.total is None or first is None else round(o.total - first, 9),
            reliable_change=None
            if o.total is None or first is None
            else label_change(definition.direction, rc, o.total - first),
            clinical=cutoff.is_clinical(o.total) if cutoff and o.total is not None else None,
        )
        for o in series
    )
    started = cutoff.is_clinical(scored[0].total) if cutoff and scored else None  # type: ignore[arg-type]
    label, reason = _classify(definition, scored, rc, cutoff)
    return Progress(definition.id, definition.direction, points, label, reason, rc, cutoff, started)


def _classify(
    definition: InstrumentDefinition,
    scored: Sequence[Observation],
    rc: ReliableChange | None,
    cutoff: ClinicalCutoff | None,
) -> tuple[Classification, str]:
    if len(scored) < 2:
        return Classification.NOT_APPLICABLE, "fewer than two scored sessions"
    if rc is None:
        return (
            Classification.NOT_APPLICABLE,
            f"{definition.short_name} has no published reliable-change constants",
        )
    pre, post = scored[0].total, scored[-1].total
    assert pre is not None
    assert post is not None
    label = label_change(definition.direction, rc, post - pre)
    if label is ReliableChangeLabel.DETERIORATED:
        return Classification.DETERIORATED, "reliable change in the unhealthy direction"
    if label is ReliableChangeLabel.NONE:
        return Classification.UNCHANGED, "change within measurement error"
    if cutoff is not None and cutoff.is_clinical(pre) and not cutoff.is_clinical(post):
        return Classification.RECOVERED, "reliable improvement and crossed the clinical cut-off"
    if cutoff is not None and not cutoff.is_clinical(pre):
        return Classification.IMPROVED, "reliable improvement; started below the clinical cut-off"
    return Classification.IMPROVED, "reliable improvement"
