"""Sessions and administrations, and the scored series the statistics read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Row, Select, bindparam, insert, select, update

from service.domain.concordance import Rated
from service.domain.corrections import Voided, replacements
from service.domain.instruments.model import Respondent
from service.domain.progress import Observation
from service.domain.records import Administration
from service.store.queries.base import Queries, administrations, owned, page, sessions

_SESSION_NAMESPACE = uuid.UUID("6f1d2a52-5b1e-4bb5-9d8a-3f5e2f1c9a10")
_A = administrations


def _scored(
    tenant_id: uuid.UUID | BindParameter[Any], dyad_id: uuid.UUID | BindParameter[Any]
) -> Select[Any]:
    """One dyad's scored administrations: what the statistics read (those entered in error,
    voided, count nowhere)."""
    return (
        owned(_A, tenant_id)
        .with_only_columns(_A.c.id, _A.c.instrument, _A.c.session_number, _A.c.completed_at,
                           _A.c.total, _A.c.scale_scores)
        .where(_A.c.dyad_id == dyad_id, _A.c.voided_at.is_(None))
    )  # fmt: skip


# Built once, with its values as parameters: progress and concordance read a dyad's history on
# every request, and building the statement anew cost more than running it (bench/insights.py).
_OBSERVATIONS = (
    _scored(bindparam("tenant_id"), bindparam("dyad_id"))
    .where(_A.c.instrument.in_(bindparam("instruments", expanding=True)))
    .order_by(_A.c.id)
)


def _rated(rows: Iterable[Sequence[Any]]) -> list[tuple[str, Rated]]:
    """Scored rows as (instrument, its total and subscale scores)."""
    return [
        (instrument, Rated(Observation(id_, session, completed_at, total), scale_scores))
        for id_, instrument, session, completed_at, total, scale_scores in rows
    ]


class AdministrationQueries(Queries):
    # Sessions and administrations ---------------------------------------------------------

    def ensure_session(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, number: int, now: datetime
    ) -> uuid.UUID:
        """The session's id, creating the session when first named (safe under races: its
        id is derived from the dyad and number, and a second insert does nothing)."""
        session_id = uuid.uuid5(_SESSION_NAMESPACE, f"{dyad_id}:{number}")
        self._c.execute(
            self._insert(sessions).on_conflict_do_nothing(),
            {"id": session_id, "tenant_id": tenant_id, "dyad_id": dyad_id, "number": number,
             "created_at": now},
        )  # fmt: skip
        return session_id

    def add_administration(self, a: Administration, session_id: uuid.UUID) -> None:
        self._c.execute(
            insert(administrations),
            {
                "id": a.id,
                "tenant_id": a.tenant_id,
                "dyad_id": a.dyad_id,
                "session_id": session_id,
                "session_number": a.session,
                "instrument": a.instrument,
                "instrument_version": a.instrument_version,
                "respondent": a.respondent.value,
                "completed_at": a.completed_at,
                "responses": a.responses,
                "score": a.score,
                "total": a.score.get("total"),
                "scale_scores": {k: v["score"] for k, v in a.score.get("scales", {}).items()},
                "created_at": a.created_at,
            },
        )

    def administrations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        instrument: str | None = None,
    ) -> list[Administration]:  # fmt: skip
        query = owned(administrations, tenant_id).where(administrations.c.dyad_id == dyad_id)
        if instrument is not None:
            query = query.where(administrations.c.instrument == instrument)
        rows = self._c.execute(page(query, administrations, after, limit))
        return self._with_replacements(tenant_id, [_administration(r) for r in rows])

    def administration(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID
    ) -> Administration | None:
        query = owned(administrations, tenant_id).where(administrations.c.id == administration_id)
        row = self._c.execute(query).first()
        if row is None:
            return None
        return self._with_replacements(tenant_id, [_administration(row)])[0]

    def void_administration(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID, voided: Voided
    ) -> bool:
        """Mark it entered in error (once: False when it already was, or is not there)."""
        done = self._c.execute(
            update(administrations)
            .where(
                administrations.c.tenant_id == tenant_id,
                administrations.c.id == administration_id,
                administrations.c.voided_at.is_(None),
            )
            .values(voided_at=voided.at, voided_by=voided.by, void_reason=voided.reason)
        )
        return bool(done.rowcount)

    def _with_replacements(
        self, tenant_id: uuid.UUID, found: list[Administration]
    ) -> list[Administration]:
        """Each administration with the one that superseded it, if any (one query)."""
        current = [a for a in found if a.voided is None]
        if not current:
            return found
        a = administrations
        rows = self._c.execute(
            select(a.c.id, a.c.dyad_id, a.c.session_number, a.c.instrument, a.c.completed_at).where(
                a.c.tenant_id == tenant_id,
                a.c.dyad_id.in_(sorted({x.dyad_id for x in current})),
                a.c.session_number.in_(sorted({x.session for x in current})),
                a.c.instrument.in_(sorted({x.instrument for x in current})),
                a.c.voided_at.is_(None),
            )
        )
        replaced = replacements(
            (r.id, r.dyad_id, r.session_number, r.instrument, r.completed_at) for r in rows
        )
        return [replace(x, superseded_by=replaced.get(x.id)) for x in found]

    def administrations_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID]
    ) -> list[Administration]:
        query = (
            owned(administrations, tenant_id)
            .where(administrations.c.dyad_id.in_(dyad_ids))
            .order_by(administrations.c.id)
        )
        found = [_administration(r) for r in self._c.execute(query)]
        return self._with_replacements(tenant_id, found)

    def observations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instruments: Sequence[str]
    ) -> list[tuple[str, Rated]]:
        """Scored history of some instruments in one dyad, oldest first."""
        params = {"tenant_id": tenant_id, "dyad_id": dyad_id, "instruments": list(instruments)}
        # ``all()`` fetches the rows at once (the driver's fetchall): row by row, psycopg
        # spent more on fetching than the query took.
        return _rated(self._c.execute(_OBSERVATIONS, params).all())

    def series(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str
    ) -> list[Observation]:
        """Scored history of one instrument in one dyad, oldest first, without subscales."""
        query = (
            owned(_A, tenant_id)
            .with_only_columns(_A.c.id, _A.c.session_number, _A.c.completed_at, _A.c.total)
            .where(_A.c.dyad_id == dyad_id, _A.c.instrument == instrument)
            .where(_A.c.voided_at.is_(None))
            .order_by(_A.c.id)
        )
        return [Observation(*row) for row in self._c.execute(query)]

    def session_ratings(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, session: int, instruments: Sequence[str]
    ) -> list[tuple[str, Rated]]:
        """The scored administrations of some instruments in one session, oldest first
        (through the index on the dyad's sessions: the dyad's other sessions are not read)."""
        query = _scored(tenant_id, dyad_id).where(
            _A.c.session_number == session, _A.c.instrument.in_(instruments)
        )
        return _rated(self._c.execute(query.order_by(_A.c.id)))


def _administration(r: Row[Any]) -> Administration:
    return Administration(
        id=r.id,
        tenant_id=r.tenant_id,
        dyad_id=r.dyad_id,
        session=r.session_number,
        instrument=r.instrument,
        instrument_version=r.instrument_version,
        respondent=Respondent(r.respondent),
        completed_at=r.completed_at,
        responses=r.responses,
        score=r.score,
        created_at=r.created_at,
        voided=None if r.voided_at is None else Voided(r.voided_at, r.voided_by, r.void_reason),
    )
