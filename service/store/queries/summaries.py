"""Alert evaluation's series summaries (service.domain.series_summary), one per (dyad,
instrument). They are read with the dyad when an administration is stored
(``PeopleQueries.dyad_context``) and replaced here."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from service.domain.ruptures import Track
from service.domain.series_summary import SavedSummary, SeriesSummary
from service.store.prepared import Prepared
from service.store.queries.base import Queries, series_summaries

_S = series_summaries
# Saved on every stored administration of an instrument with series rules: prepared.
_REPLACED = ("rules_key", "administrations", "last_session", "summary")
_SAVE = {
    name: Prepared(
        (insert := dialect.insert(_S)).on_conflict_do_update(
            index_elements=["dyad_id", "instrument"],
            set_={column: insert.excluded[column] for column in _REPLACED},
        )
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


class SummaryQueries(Queries):
    def save_series_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, saved: SavedSummary
    ) -> None:
        """Store the series' summary with the transaction's deferred writes."""
        self._later(
            _SAVE[self._c.dialect.name],
            {"tenant_id": tenant_id, "dyad_id": dyad_id, "instrument": instrument,
             "rules_key": saved.rules_key, "administrations": saved.administrations,
             "last_session": saved.last_session, "summary": document_of(saved.summary)},
        )  # fmt: skip


def document_of(summary: SeriesSummary) -> dict[str, Any]:
    t = summary.track
    return {
        "first_session": t.first_session, "first_total": t.first_total,
        "improved": t.improved, "deteriorated": t.deteriorated, "stalled": t.stalled,
        "recent": list(summary.recent),
    }  # fmt: skip


def summary_of(document: dict[str, Any]) -> SeriesSummary:
    track = Track(
        document["first_session"], document["first_total"], document["improved"],
        document["deteriorated"], document["stalled"],
    )  # fmt: skip
    return SeriesSummary(track, tuple(document["recent"]))
