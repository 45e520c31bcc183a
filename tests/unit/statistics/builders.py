"""Small builders shared by the statistics specifications (no database, no scorer).

Sessions are numbered from 1; session ``n`` is completed at 2026-01-01 + 7n days (UTC), so
the order of completion follows the session order unless a test says otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from service.domain.instruments.model import (
    Comparison,
    Cutoff,
    Direction,
    InstrumentDefinition,
    Norms,
    Population,
    ReliableChange,
)
from service.domain.progress import Observation
from tests.unit.instruments.conftest import definition

START = datetime(2026, 1, 1, tzinfo=UTC)


def at(session: int, minutes: int = 0) -> datetime:
    """When session ``session`` was completed (``minutes`` later for a re-administration)."""
    return START + timedelta(days=7 * session, minutes=minutes)


def obs(session: int, total: float | None, minutes: int = 0) -> Observation:
    return Observation(uuid.uuid4(), session, at(session, minutes), total)


def series(totals: Sequence[float | None], first_session: int = 1) -> list[Observation]:
    """One observation per consecutive session, starting at ``first_session``."""
    return [obs(first_session + i, t) for i, t in enumerate(totals)]


def with_total(d: InstrumentDefinition, **changes: object) -> InstrumentDefinition:
    """``d`` with its total scale replaced by ``dataclasses.replace(total, **changes)``."""
    total = replace(d.total, **changes)  # type: ignore[arg-type]
    scales = tuple(total if s.id == d.total_scale else s for s in d.scales)
    return replace(d, scales=scales)


def with_norms(
    instrument_id: str,
    clinical_mean: float,
    clinical_sd: float,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
) -> InstrumentDefinition:
    d = definition(instrument_id)
    source = d.total.cutoffs[0].source  # an existing source id of that definition
    norms = Norms(
        clinical_mean=clinical_mean,
        clinical_sd=clinical_sd,
        functional_mean=functional_mean,
        functional_sd=functional_sd,
        source=source,
    )
    return with_total(d, norms=norms)


def mirrored(
    d: InstrumentDefinition, direction: Direction, comparison: Comparison, value: float
) -> InstrumentDefinition:
    """``d`` turned round: another direction and a single adult cut-off ``comparison value``."""
    source = d.total.cutoffs[0].source
    cutoff = Cutoff(Population.ADULT, comparison, value, source)
    return replace(with_total(d, cutoffs=(cutoff,)), direction=direction)


def with_rc(d: InstrumentDefinition, rc: ReliableChange | None) -> InstrumentDefinition:
    return with_total(d, reliable_change=rc)
