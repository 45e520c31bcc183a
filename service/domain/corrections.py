"""Corrections: an administration entered in error is voided, and a later submission for
the same session and instrument supersedes an earlier one. Neither deletes anything; both
are shown where the administration is listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AdministrationStatus(StrEnum):
    FINAL = "final"  # the one that counts for its session and instrument
    SUPERSEDED = "superseded"  # a later submission of the same session and instrument counts
    ENTERED_IN_ERROR = "entered-in-error"  # voided: counted nowhere


@dataclass(frozen=True, slots=True)
class Voided:
    at: datetime
    by: str  # the API key or client that voided it (Principal.actor)
    reason: str


def replacements(
    entries: Iterable[tuple[uuid.UUID, uuid.UUID, int, str, datetime]],
) -> dict[uuid.UUID, uuid.UUID]:
    """Which administration replaced which: of the (id, dyad, session, instrument,
    completed_at) of administrations not voided, the last completed of each dyad's session
    and instrument counts (ties: the later stored), as ``progress.latest_per_session``
    counts it; each other one maps to it."""
    current: dict[tuple[uuid.UUID, int, str], tuple[datetime, uuid.UUID]] = {}
    groups: dict[tuple[uuid.UUID, int, str], list[uuid.UUID]] = {}
    for id_, dyad, session, instrument, completed_at in entries:
        key = (dyad, session, instrument)
        groups.setdefault(key, []).append(id_)
        if key not in current or (completed_at, id_) > current[key]:
            current[key] = (completed_at, id_)
    return {
        id_: current[key][1] for key, ids in groups.items() for id_ in ids if id_ != current[key][1]
    }
