"""Batched reads for adapters that resolve many objects at once (GraphQL DataLoaders).

Each call is one transaction with one query per kind of object, whatever the number of
ids, and audits every object it returns with a single multi-row insert, so the number of
SQL statements does not grow with the batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from service.app.audit import audit_event
from service.app.auth import require
from service.app.ports import Store, Transact
from service.domain.alerts import Alert, AlertStatus
from service.domain.records import (
    Administration,
    Dyad,
    Outcome,
    Patient,
    Practitioner,
    Principal,
    Scope,
)


class BatchReads:
    def __init__(self, transact: Transact) -> None:
        self._transact = transact

    async def patients(
        self, principal: Principal, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]:
        await require(self._transact, principal, Scope.READ, "patient.read")

        def work(store: Store) -> dict[uuid.UUID, Patient]:
            found = store.patients_by_ids(principal.tenant_id, ids)
            _audit(store, principal, "patient.read", "patient", found)
            return found

        return await self._transact(work, read_only=True)

    async def practitioners(
        self, principal: Principal, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Practitioner]:
        await require(self._transact, principal, Scope.READ, "practitioner.read")

        def work(store: Store) -> dict[uuid.UUID, Practitioner]:
            found = store.practitioners_by_ids(principal.tenant_id, ids)
            _audit(store, principal, "practitioner.read", "practitioner", found)
            return found

        return await self._transact(work, read_only=True)

    async def dyads(self, principal: Principal, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Dyad]:
        await require(self._transact, principal, Scope.READ, "dyad.read")

        def work(store: Store) -> dict[uuid.UUID, Dyad]:
            found = store.dyads_by_ids(principal.tenant_id, ids)
            _audit(store, principal, "dyad.read", "dyad", found)
            return found

        return await self._transact(work, read_only=True)

    async def administrations(
        self, principal: Principal, dyad_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Administration]]:
        await require(self._transact, principal, Scope.READ, "administration.list")

        def work(store: Store) -> dict[uuid.UUID, list[Administration]]:
            grouped: dict[uuid.UUID, list[Administration]] = {d: [] for d in dyad_ids}
            for a in store.administrations_of_dyads(principal.tenant_id, dyad_ids):
                grouped[a.dyad_id].append(a)
            _audit(store, principal, "administration.list", "dyad", grouped)
            return grouped

        return await self._transact(work, read_only=True)

    async def alerts(
        self, principal: Principal, dyad_ids: Sequence[uuid.UUID],
        statuses: frozenset[AlertStatus] | None = None,
    ) -> dict[uuid.UUID, list[Alert]]:  # fmt: skip
        await require(self._transact, principal, Scope.READ, "alert.list")

        def work(store: Store) -> dict[uuid.UUID, list[Alert]]:
            grouped: dict[uuid.UUID, list[Alert]] = {d: [] for d in dyad_ids}
            for a in store.alerts_of_dyads(principal.tenant_id, dyad_ids, statuses):
                grouped[a.dyad_id].append(a)
            _audit(store, principal, "alert.list", "dyad", grouped)
            return grouped

        return await self._transact(work, read_only=True)


def _audit(
    store: Store, principal: Principal, action: str, kind: str, ids: Iterable[uuid.UUID]
) -> None:
    store.record_many(
        [
            audit_event(principal.tenant_id, principal.actor, action, kind, str(i), Outcome.SUCCESS)
            for i in ids
        ]
    )
