"""Use cases for patients, practitioners and dyads: create, get and list, all audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from service.app.access import read_one, read_page
from service.app.audit import audited, record
from service.app.auth import require
from service.app.pagination import Page
from service.app.ports import Store, Transact
from service.domain import text
from service.domain.errors import Conflict, FieldError, ValidationFailed
from service.domain.ids import new_id
from service.domain.instruments.model import Population
from service.domain.records import Dyad, Patient, Practitioner, Principal, Scope


@dataclass(frozen=True, slots=True)
class NewPatient:
    external_id: str
    population: Population | None = None


@dataclass(frozen=True, slots=True)
class NewPractitioner:
    external_id: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class NewDyad:
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    started_on: date | None = None
    ended_on: date | None = None


class Records:
    def __init__(self, transact: Transact) -> None:
        self._transact = transact

    # Patients -----------------------------------------------------------------------------

    async def create_patient(self, principal: Principal, new: NewPatient) -> Patient:
        await require(self._transact, principal, Scope.WRITE, "patient.create")
        text.identifier("external_id", new.external_id)
        patient = Patient(
            new_id(), principal.tenant_id, new.external_id, new.population, datetime.now(UTC)
        )

        def work(store: Store) -> Patient:
            existing = store.patient_by_external_id(principal.tenant_id, new.external_id)
            if existing is not None:
                raise Conflict(
                    f"A patient with external_id '{new.external_id}' exists.", str(existing.id)
                )
            store.add_patient(patient)
            record(store, principal, "patient.create", "patient", patient.id)
            return patient

        return await audited(self._transact, principal, "patient.create", "patient", None, work)

    async def patient(self, principal: Principal, patient_id: uuid.UUID) -> Patient:
        return await read_one(
            self._transact, principal, "patient", patient_id,
            lambda store: store.patient(principal.tenant_id, patient_id),
        )  # fmt: skip

    async def patients(self, principal: Principal, cursor: str | None, limit: int) -> Page[Patient]:
        return await read_page(
            self._transact, principal, "patient",
            lambda store, after, n: store.patients(principal.tenant_id, after, n),
            lambda p: p.id, cursor, limit,
        )  # fmt: skip

    # Practitioners ------------------------------------------------------------------------

    async def create_practitioner(self, principal: Principal, new: NewPractitioner) -> Practitioner:
        await require(self._transact, principal, Scope.WRITE, "practitioner.create")
        text.identifier("external_id", new.external_id)
        text.note("display_name", new.display_name, limit=200)
        practitioner = Practitioner(
            new_id(), principal.tenant_id, new.external_id, new.display_name, datetime.now(UTC)
        )

        def work(store: Store) -> Practitioner:
            existing = store.practitioner_by_external_id(principal.tenant_id, new.external_id)
            if existing is not None:
                raise Conflict(
                    f"A practitioner with external_id '{new.external_id}' exists.",
                    str(existing.id),
                )
            store.add_practitioner(practitioner)
            record(store, principal, "practitioner.create", "practitioner", practitioner.id)
            return practitioner

        return await audited(
            self._transact, principal, "practitioner.create", "practitioner", None, work
        )

    async def practitioner(self, principal: Principal, practitioner_id: uuid.UUID) -> Practitioner:
        return await read_one(
            self._transact, principal, "practitioner", practitioner_id,
            lambda store: store.practitioner(principal.tenant_id, practitioner_id),
        )  # fmt: skip

    async def practitioners(
        self, principal: Principal, cursor: str | None, limit: int
    ) -> Page[Practitioner]:
        return await read_page(
            self._transact, principal, "practitioner",
            lambda store, after, n: store.practitioners(principal.tenant_id, after, n),
            lambda p: p.id, cursor, limit,
        )  # fmt: skip

    # Dyads --------------------------------------------------------------------------------

    async def create_dyad(self, principal: Principal, new: NewDyad) -> Dyad:
        await require(self._transact, principal, Scope.WRITE, "dyad.create")
        if new.started_on and new.ended_on and new.ended_on < new.started_on:
            raise ValidationFailed(
                "The episode ends before it starts.",
                (FieldError("ended_on", "before-start", "ended_on precedes started_on."),),
            )
        dyad = Dyad(
            new_id(), principal.tenant_id, new.patient_id, new.practitioner_id,
            new.started_on, new.ended_on, datetime.now(UTC),
        )  # fmt: skip

        def work(store: Store) -> Dyad:
            errors = []
            if store.patient(principal.tenant_id, new.patient_id) is None:
                errors.append(FieldError("patient_id", "unknown-patient", "No such patient."))
            if store.practitioner(principal.tenant_id, new.practitioner_id) is None:
                errors.append(
                    FieldError("practitioner_id", "unknown-practitioner", "No such practitioner.")
                )
            if errors:
                raise ValidationFailed("The dyad names unknown people.", tuple(errors))
            store.add_dyad(dyad)
            record(store, principal, "dyad.create", "dyad", dyad.id)
            return dyad

        return await audited(self._transact, principal, "dyad.create", "dyad", None, work)

    async def dyad(self, principal: Principal, dyad_id: uuid.UUID) -> Dyad:
        return await read_one(
            self._transact, principal, "dyad", dyad_id,
            lambda store: store.dyad(principal.tenant_id, dyad_id),
        )  # fmt: skip

    async def dyads(
        self, principal: Principal, cursor: str | None, limit: int,
        patient_id: uuid.UUID | None = None, practitioner_id: uuid.UUID | None = None,
    ) -> Page[Dyad]:  # fmt: skip
        return await read_page(
            self._transact, principal, "dyad",
            lambda store, after, n: store.dyads(
                principal.tenant_id, after, n, patient_id, practitioner_id
            ),
            lambda d: d.id, cursor, limit,
        )  # fmt: skip

    async def dyad_of_pair(
        self, principal: Principal, patient_external_id: str, practitioner_external_id: str
    ) -> Dyad:
        """The one dyad pairing two people known by their EHR identifiers."""
        await require(self._transact, principal, Scope.READ, "dyad.read")
        text.identifier("subject", patient_external_id)
        text.identifier("author", practitioner_external_id)

        def work(store: Store) -> Dyad:
            patient = store.patient_by_external_id(principal.tenant_id, patient_external_id)
            practitioner = store.practitioner_by_external_id(
                principal.tenant_id, practitioner_external_id
            )
            errors = []
            if patient is None:
                errors.append(FieldError("subject", "unknown-patient", "No such patient."))
            if practitioner is None:
                errors.append(FieldError("author", "unknown-practitioner", "No such practitioner."))
            if patient is None or practitioner is None:
                raise ValidationFailed("The response names unknown people.", tuple(errors))
            found = store.dyads(principal.tenant_id, None, 2, patient.id, practitioner.id)
            if len(found) != 1:
                how = "no dyad pairs" if not found else "more than one dyad pairs"
                raise ValidationFailed(
                    f"{how.capitalize()} this patient and practitioner; name the dyad.",
                    (FieldError("dyad", "dyad-ambiguous" if found else "no-dyad", how),),
                )
            record(store, principal, "dyad.read", "dyad", found[0].id)
            return found[0]

        return await audited(
            self._transact, principal, "dyad.read", "dyad", None, work, read_only=True
        )
