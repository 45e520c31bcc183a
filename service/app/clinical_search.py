"""Reading the clinical record back by patient, instrument and time, for FHIR read and search.

Same rules as every other read: the READ scope, the caller's tenant only (another tenant's
record is not found, never forbidden), and one audit event per access, naming the object
read or, for a search, the patient searched (``None`` for a tenant-wide search).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from service.app.access import read_one, read_page
from service.app.audit import audited, record
from service.app.auth import require
from service.app.pagination import Page
from service.app.ports import AdministrationRecord, AdministrationSearch, Store, Transact
from service.app.rendering import administration_of
from service.domain import text
from service.domain.alerts import Alert, AlertStatus
from service.domain.errors import NotFound
from service.domain.records import Administration, Dyad, Patient, Practitioner, Principal, Scope


@dataclass(frozen=True, slots=True)
class DyadPeople:
    dyad: Dyad
    patient: Patient
    practitioner: Practitioner


class ClinicalSearch:
    def __init__(self, transact: Transact) -> None:
        self._transact = transact

    async def administration(
        self, principal: Principal, administration_id: uuid.UUID
    ) -> AdministrationRecord:
        return await read_one(
            self._transact, principal, "administration", administration_id,
            lambda store: store.administration_record(principal.tenant_id, administration_id),
        )  # fmt: skip

    async def administrations(
        self, principal: Principal, search: AdministrationSearch
    ) -> list[AdministrationRecord]:
        """One more row than ``search.limit`` when another page follows."""
        action = "administration.search"
        await require(self._transact, principal, Scope.READ, action)
        wider = replace(search, limit=search.limit + 1)

        def work(store: Store) -> list[AdministrationRecord]:
            found = store.search_administrations(principal.tenant_id, wider)
            record(store, principal, action, "patient", search.patient_id)
            return found

        return await audited(self._transact, principal, action, "patient", search.patient_id, work)

    async def patient_by_external_id(
        self, principal: Principal, external_id: str
    ) -> Patient | None:
        found = await self._by_external_id(principal, "patient", external_id)
        return found if isinstance(found, Patient) else None

    async def practitioner_by_external_id(
        self, principal: Principal, external_id: str
    ) -> Practitioner | None:
        found = await self._by_external_id(principal, "practitioner", external_id)
        return found if isinstance(found, Practitioner) else None

    async def _by_external_id(
        self, principal: Principal, kind: str, external_id: str
    ) -> Patient | Practitioner | None:
        action = f"{kind}.search"
        await require(self._transact, principal, Scope.READ, action)
        text.identifier("identifier", external_id)

        def work(store: Store) -> Patient | Practitioner | None:
            found: Patient | Practitioner | None = (
                store.patient_by_external_id(principal.tenant_id, external_id)
                if kind == "patient"
                else store.practitioner_by_external_id(principal.tenant_id, external_id)
            )
            record(store, principal, action, kind, found.id if found else None)
            return found

        return await audited(self._transact, principal, action, kind, None, work)

    async def alerts_of_patient(
        self, principal: Principal, patient_id: uuid.UUID, cursor: str | None, limit: int,
        statuses: frozenset[AlertStatus] | None,
    ) -> Page[Alert]:  # fmt: skip
        return await read_page(
            self._transact, principal, "alert",
            lambda store, after, n: store.alerts_of_patient(
                principal.tenant_id, patient_id, after, n, statuses
            ),
            lambda a: a.id, cursor, limit,
        )  # fmt: skip

    async def dyad_people(self, principal: Principal, dyad_id: uuid.UUID) -> DyadPeople:
        """A dyad with its patient and practitioner: what a response stored to it must name.
        Part of storing, so it needs the WRITE scope, not READ."""
        action = "administration.create"
        await require(self._transact, principal, Scope.WRITE, action)

        def work(store: Store) -> DyadPeople:
            dyad = store.dyad(principal.tenant_id, dyad_id)
            patient = store.patient(principal.tenant_id, dyad.patient_id) if dyad else None
            practitioner = (
                store.practitioner(principal.tenant_id, dyad.practitioner_id) if dyad else None
            )
            if dyad is None or patient is None or practitioner is None:
                raise NotFound(f"No dyad {dyad_id}.")
            return DyadPeople(dyad, patient, practitioner)

        return await audited(self._transact, principal, action, "dyad", dyad_id, work)

    async def stored_under(self, principal: Principal, identifier: str) -> Administration | None:
        """The administration stored under a response's identifier, if any (FHIR conditional
        create: the match for ``If-None-Exist``)."""
        action = "administration.replay"
        await require(self._transact, principal, Scope.WRITE, action)
        key = text.fhir_identifier_key("If-None-Exist", identifier)

        def work(store: Store) -> Administration | None:
            stored = store.stored_response(principal.tenant_id, key)
            if stored is None or "id" not in stored.body:
                return None
            record(store, principal, action, "administration", stored.body["id"])
            return administration_of(stored.body, principal.tenant_id)

        return await audited(self._transact, principal, action, "administration", None, work)
