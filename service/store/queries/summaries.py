"""Alert evaluation's series summaries (service.domain.series_summary), one per (dyad,
instrument): read with the count of administrations they should cover, and replaced."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from service.domain.ruptures import Track
from service.domain.series_summary import SavedSummary, SeriesSummary
from service.store.prepared import Prepared
from service.store.queries.base import Queries, administrations, series_summaries

_S, _A = series_summaries, administrations
# Run on every stored administration of an instrument with series rules: prepared.
# The count needs no tenant filter of its own: the summary row is the tenant's, and every
# administration of the tenant's dyad is the tenant's (it is stored only after the dyad is
# found in the tenant). It is counted from the (dyad_id, instrument) index alone.
_SAVED = Prepared(
    select(
        _S.c.rules_key, _S.c.administrations, _S.c.last_session, _S.c.summary,
        select(func.count())
        .where(_A.c.dyad_id == _S.c.dyad_id, _A.c.instrument == _S.c.instrument)
        .scalar_subquery(),
    ).where(
        _S.c.tenant_id == bindparam("tenant_id"), _S.c.dyad_id == bindparam("dyad_id"),
        _S.c.instrument == bindparam("instrument"),
    )
)  # fmt: skip
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
    def series_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str
    ) -> tuple[SavedSummary, int] | None:
        """The saved summary of the series and how many administrations the series has now."""
        rows = _SAVED.rows(
            self._c, {"tenant_id": tenant_id, "dyad_id": dyad_id, "instrument": instrument}
        )
        if not rows:
            return None
        rules_key, covered, last_session, summary, now = rows[0]
        return SavedSummary(rules_key, covered, last_session, _summary(summary)), now

    def save_series_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, saved: SavedSummary
    ) -> None:
        _SAVE[self._c.dialect.name].rowcount(
            self._c,
            {"tenant_id": tenant_id, "dyad_id": dyad_id, "instrument": instrument,
             "rules_key": saved.rules_key, "administrations": saved.administrations,
             "last_session": saved.last_session, "summary": _document(saved.summary)},
        )  # fmt: skip


def _document(summary: SeriesSummary) -> dict[str, Any]:
    t = summary.track
    return {
        "first_session": t.first_session, "first_total": t.first_total,
        "improved": t.improved, "deteriorated": t.deteriorated, "stalled": t.stalled,
        "recent": list(summary.recent),
    }  # fmt: skip


def _summary(document: dict[str, Any]) -> SeriesSummary:
    track = Track(
        document["first_session"], document["first_total"], document["improved"],
        document["deteriorated"], document["stalled"],
    )  # fmt: skip
    return SeriesSummary(track, tuple(document["recent"]))
