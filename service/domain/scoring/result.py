"""What scoring an administration produces, with the provenance of every number.

Results are NamedTuples rather than frozen dataclasses: equally immutable, and several
times cheaper to build, which matters on the scoring hot path (bench/scorer.py).
"""

from __future__ import annotations

from typing import NamedTuple

from service.domain.instruments.model import Aggregation, Population


class Flag(NamedTuple):
    """Something a clinician or an integrator must see beside the numbers.

    Codes are stable: ``risk`` (a risk item endorsed), ``not-scorable`` (a scale had too
    many missing items), ``cutoff-unavailable`` (no cut-off for the requested population),
    ``population-not-validated`` (the instrument is not declared for that population),
    and the codes an instrument's own rules declare (``low-item``, ``provisional-diagnosis``).
    """

    code: str
    message: str
    items: tuple[str, ...] = ()
    scale: str | None = None
    source: str | None = None


class AppliedRule(NamedTuple):
    """The missing-item rule a scale was scored under."""

    max_missing: int
    prorate: bool
    source: str


class ScaleScore(NamedTuple):
    id: str
    name: str
    # In the scale's reporting metric: unrounded but for float noise, unless the scale
    # declares `rounding` (then rounded half up, as a clinician sees it).
    score: float | None
    metric: Aggregation
    mean: float | None  # mean of the answered items, after reverse keying
    band: str | None
    clinical: bool | None
    answered: int
    missing: tuple[str, ...]
    prorated: bool
    rule: AppliedRule


class CriterionOutcome(NamedTuple):
    id: str
    met: bool | None  # None: missing items could change the answer
    description: str
    source: str


class Provenance(NamedTuple):
    definition_id: str
    definition_version: str
    population: Population
    population_defaulted: bool
    scorer_version: str


class ScoreResult(NamedTuple):
    instrument: str
    total: float | None
    band: str | None
    clinical: bool | None
    scales: tuple[ScaleScore, ...]
    flags: tuple[Flag, ...]
    prorated: bool
    missing: tuple[str, ...]
    criteria: tuple[CriterionOutcome, ...]
    provenance: Provenance
