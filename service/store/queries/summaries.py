"""Alert evaluation's series summaries (service.domain.series_summary), one per (dyad,
instrument). They are read with the dyad when an administration is stored
(``PeopleQueries.dyad_context``) and written here."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, case, update
from sqlalchemy.dialects import postgresql, sqlite

from service.domain.ruptures import Track
from service.domain.series_summary import STALE, SavedSummary, SeriesSummary
from service.store.queries.base import Queries, series_summaries

_S = series_summaries
# Saved on every stored administration of an instrument with series rules. A row changed
# since it was read (its version is no longer the one read) is not replaced but marked stale:
# another store stepped the same summary at the same time, and neither step saw the other's
# administration (service.domain.series_summary).
_REPLACED = ("administrations", "last_session", "summary", "version")
_SAVE = {
    name: (insert := dialect.insert(_S)).on_conflict_do_update(
            index_elements=["dyad_id", "instrument"],
            set_={column: insert.excluded[column] for column in _REPLACED}
            | {"rules_key": case(
                (_S.c.version.is_not_distinct_from(bindparam("read_version", type_=Uuid)),
                 insert.excluded.rules_key),
                else_=bindparam("stale"),
            )},
        )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}  # fmt: skip


class SummaryQueries(Queries):
    def save_series_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, saved: SavedSummary,
        version: uuid.UUID, read_version: uuid.UUID | None,
    ) -> None:  # fmt: skip
        """Store the series' summary as ``version`` of the row, unless the row is no longer
        ``read_version`` (None: there was none)."""
        self._c.execute(
            _SAVE[self._c.dialect.name],
            {"tenant_id": tenant_id, "dyad_id": dyad_id, "instrument": instrument,
             "rules_key": saved.rules_key, "administrations": saved.administrations,
             "last_session": saved.last_session, "summary": document_of(saved.summary),
             "version": version, "read_version": read_version, "stale": STALE},
        )  # fmt: skip

    def mark_series_summary_stale(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, version: uuid.UUID
    ) -> None:
        """An administration was stored without stepping the summary (alerts off): the
        next store that evaluates alerts rebuilds it."""
        self._c.execute(
            update(_S)
            .where(_S.c.tenant_id == tenant_id, _S.c.dyad_id == dyad_id,
                   _S.c.instrument == instrument)
            .values(rules_key=STALE, version=version)
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
