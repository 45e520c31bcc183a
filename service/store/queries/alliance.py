"""Alliance summaries: each dyad's paired sessions and their summary, kept by the writes
(service.app.alliance_summaries) and read by a practitioner's calibration."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, text

from service.domain.calibration import DyadDifferences
from service.domain.progress import Observation
from service.store.queries.base import Queries, administrations, dyads, owned
from service.store.tables import AlliancePairTable, AllianceSummaryStateTable, AllianceSummaryTable

alliance_pairs: Table = AlliancePairTable.__table__  # type: ignore[assignment]
alliance_summaries: Table = AllianceSummaryTable.__table__  # type: ignore[assignment]
alliance_summary_state: Table = AllianceSummaryStateTable.__table__  # type: ignore[assignment]
_P, _S, _A = alliance_pairs, alliance_summaries, administrations
_STATE = 1  # the one row of alliance_summary_state
_SUMMARY = (_S.c.pairs, _S.c.difference_sum, _S.c.squared_deviations)
_SUMMARY = (_S.c.pairs, _S.c.difference_sum, _S.c.squared_deviations)
_REBUILD_LOCK = "LOCK TABLE alliance_pairs, alliance_summaries IN EXCLUSIVE MODE"


class AllianceQueries(Queries):
    def lock_dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> None:
        """Hold the dyad's row until the transaction ends (PostgreSQL), so two stores in the
        same dyad pair their sessions one after the other and each sees the other's forms.
        FOR NO KEY UPDATE: it does not wait for the key-share locks that inserting a row
        which references the dyad takes (FOR UPDATE would deadlock two such stores). SQLite's
        one writer already runs them one at a time."""
        query = owned(dyads, tenant_id).with_only_columns(dyads.c.id)
        self._c.execute(query.where(dyads.c.id == dyad_id).with_for_update(key_share=True))

    def save_alliance_pair(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str, session: int,
        difference: float | None,
    ) -> None:  # fmt: skip
        """The session's difference, or no row for a session that is not paired."""
        key = {"dyad_id": dyad_id, "client_form": client_form, "session_number": session}
        if difference is None:
            self._c.execute(delete(_P).where(*(_P.c[k] == v for k, v in key.items())))
            return
        upsert = self._insert(_P).values(tenant_id=tenant_id, difference=difference, **key)
        self._c.execute(
            upsert.on_conflict_do_update(
                index_elements=list(key), set_={"difference": upsert.excluded.difference}
            )
        )

    def alliance_differences(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str
    ) -> list[float]:
        """The dyad's paired sessions' differences, by session (through the primary key:
        the dyad's rows alone)."""
        query = (
            owned(_P, tenant_id)
            .with_only_columns(_P.c.difference)
            .where(_P.c.dyad_id == dyad_id, _P.c.client_form == client_form)
            .order_by(_P.c.session_number)
        )
        return list(self._c.scalars(query))

    def save_alliance_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str,
        summary: DyadDifferences | None,
    ) -> None:  # fmt: skip
        key = {"dyad_id": dyad_id, "client_form": client_form}
        if summary is None:
            self._c.execute(delete(_S).where(*(_S.c[k] == v for k, v in key.items())))
            return
        row = _summary_row(summary)
        upsert = self._insert(_S).values(tenant_id=tenant_id, **key, **row)
        self._c.execute(
            upsert.on_conflict_do_update(
                index_elements=list(key), set_={c: upsert.excluded[c] for c in row}
            )
        )

    def alliance_summaries(
        self, tenant_id: uuid.UUID, practitioner_id: uuid.UUID, client_forms: Sequence[str]
    ) -> list[tuple[uuid.UUID, str, DyadDifferences]]:
        """The summaries of a practitioner's dyads: the practitioner's dyads through their
        index, then one row per dyad and form through the summaries' primary key."""
        query = (
            owned(_S, tenant_id)
            .with_only_columns(_S.c.dyad_id, _S.c.client_form, *_SUMMARY)
            .join(dyads, dyads.c.id == _S.c.dyad_id)
            .where(
                dyads.c.tenant_id == tenant_id,
                dyads.c.practitioner_id == practitioner_id,
                _S.c.client_form.in_(client_forms),
            )
            .order_by(_S.c.dyad_id)
        )
        return [
            (r.dyad_id, r.client_form,
             DyadDifferences(r.pairs, r.difference_sum, r.squared_deviations))
            for r in self._c.execute(query)
        ]  # fmt: skip

    # -- rebuild: every summary from the administrations -------------------------------------

    def alliance_forms_key(self) -> str | None:
        """What the stored summaries were built for (service.domain.calibration.forms_key)."""
        state = alliance_summary_state
        return self._c.scalar(state.select().with_only_columns(state.c.forms_key))

    def lock_alliance_summaries(self) -> None:
        """Before a rebuild: writers of pairs wait for it (PostgreSQL; SQLite's one writer
        already does), so no pair is written from a history the rebuild did not see."""
        if self._c.dialect.name == "postgresql":
            self._c.execute(text(_REBUILD_LOCK))

    def clear_alliance_summaries(self) -> None:
        self._c.execute(delete(_P))
        self._c.execute(delete(_S))

    def paired_histories(
        self, tenant_id: uuid.UUID, instruments: Sequence[str]
    ) -> Iterator[tuple[uuid.UUID, list[tuple[str, Observation]]]]:
        """Each of the tenant's dyads with its scored administrations of ``instruments``,
        oldest first, dyad by dyad, streamed."""
        query = (
            owned(_A, tenant_id)
            .with_only_columns(_A.c.dyad_id, _A.c.instrument, _A.c.id, _A.c.session_number,
                               _A.c.completed_at, _A.c.total)
            .where(_A.c.instrument.in_(instruments), _A.c.voided_at.is_(None))
            .order_by(_A.c.dyad_id, _A.c.id)
            .execution_options(yield_per=5_000)
        )  # fmt: skip
        dyad_id: uuid.UUID | None = None
        history: list[tuple[str, Observation]] = []
        for r in self._c.execute(query):
            if r.dyad_id != dyad_id:
                if dyad_id is not None:
                    yield dyad_id, history
                dyad_id, history = r.dyad_id, []
            history.append(
                (r.instrument, Observation(r.id, r.session_number, r.completed_at, r.total))
            )
        if dyad_id is not None:
            yield dyad_id, history

    def add_alliance_rows(
        self, tenant_id: uuid.UUID,
        pairs: Sequence[tuple[uuid.UUID, str, int, float]],
        summaries: Sequence[tuple[uuid.UUID, str, DyadDifferences]],
    ) -> None:  # fmt: skip
        if pairs:
            self._c.execute(
                insert(_P),
                [{"tenant_id": tenant_id, "dyad_id": d, "client_form": f, "session_number": s,
                  "difference": x} for d, f, s, x in pairs],
            )  # fmt: skip
        if summaries:
            self._c.execute(
                insert(_S),
                [{"tenant_id": tenant_id, "dyad_id": d, "client_form": f} | _summary_row(s)
                 for d, f, s in summaries],
            )  # fmt: skip

    def set_alliance_forms_key(self, key: str, now: datetime) -> None:
        state = alliance_summary_state
        self._c.execute(delete(state))
        self._c.execute(insert(state), {"id": _STATE, "forms_key": key, "rebuilt_at": now})


def _summary_row(s: DyadDifferences) -> dict[str, Any]:
    return {
        "pairs": s.pairs,
        "difference_sum": s.difference_sum,
        "squared_deviations": s.squared_deviations,
    }
