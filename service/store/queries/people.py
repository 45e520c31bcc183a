"""Tenants, API keys, patients, practitioners and dyads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, insert, select, update

from service.app.ports import DyadContext
from service.domain.instruments.model import Population
from service.domain.records import ApiKeySummary, Dyad, Patient, Practitioner, Scope, Tenant
from service.domain.series_summary import SavedSummary
from service.store.queries.audit import StoredResponse
from service.store.queries.base import (
    Queries,
    api_keys,
    dyads,
    idempotency_keys,
    owned,
    page,
    patients,
    practitioners,
    series_summaries,
    tenants,
)
from service.store.queries.summaries import summary_of


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: uuid.UUID
    tenant_id: uuid.UUID
    secret_hash: str
    scopes: frozenset[Scope]
    revoked: bool


# Every stored administration reads its dyad and the patient's population at once ...
_DYAD_AND_POPULATION = (
    owned(dyads, bindparam("tenant_id"))
    .add_columns(patients.c.population)
    .join(patients, patients.c.id == dyads.c.patient_id)
    .where(dyads.c.id == bindparam("id"), patients.c.tenant_id == bindparam("tenant_id"))
)
# ... and, storing to a series that alert rules read, the series' saved summary; and, for
# a request with an Idempotency-Key, the answer stored under it, if any (an outer join on the
# key alone: one read whether the key was used or not).
_S, _K = series_summaries, idempotency_keys


def _dyad_context(summary: bool, key: bool) -> Select[Any]:
    query = _DYAD_AND_POPULATION
    if summary:
        query = query.add_columns(
            _S.c.rules_key, _S.c.administrations, _S.c.last_session, _S.c.summary, _S.c.version,
        ).outerjoin(
            _S,
            and_(_S.c.dyad_id == dyads.c.id, _S.c.instrument == bindparam("instrument"),
                 _S.c.tenant_id == bindparam("tenant_id")),
        )  # fmt: skip
    if key:
        query = query.add_columns(_K.c.request_hash, _K.c.status_code, _K.c.response).outerjoin(
            _K, and_(_K.c.tenant_id == bindparam("tenant_id"), _K.c.key == bindparam("key"))
        )
    return query


_DYAD_CONTEXT = {(s, k): _dyad_context(s, k) for s in (False, True) for k in (False, True)}


class PeopleQueries(Queries):
    # Tenants and API keys -------------------------------------------------------------

    def ensure_tenant(self, name: str, new_id: uuid.UUID, now: datetime) -> Tenant:
        """The tenant of that name, created if new (safe when two processes race)."""
        self._c.execute(
            self._insert(tenants)
            .values(id=new_id, name=name, created_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = self._c.execute(select(tenants).where(tenants.c.name == name)).one()
        return Tenant(row.id, row.name, row.created_at)

    def tenant_by_name(self, name: str) -> Tenant | None:
        row = self._c.execute(select(tenants).where(tenants.c.name == name)).first()
        return Tenant(row.id, row.name, row.created_at) if row else None

    def add_api_key(
        self, key_id: uuid.UUID, tenant_id: uuid.UUID, prefix: str, secret_hash: str,
        scopes: frozenset[Scope], now: datetime,
    ) -> None:  # fmt: skip
        self._c.execute(
            insert(api_keys).values(
                id=key_id,
                tenant_id=tenant_id,
                prefix=prefix,
                secret_hash=secret_hash,
                scopes=",".join(sorted(scopes)),
                created_at=now,
            )
        )

    def find_api_key(self, prefix: str) -> ApiKeyRecord | None:
        row = self._c.execute(select(api_keys).where(api_keys.c.prefix == prefix)).first()
        if row is None:
            return None
        return ApiKeyRecord(
            row.id, row.tenant_id, row.secret_hash, _scopes(row.scopes), row.revoked_at is not None
        )

    def api_keys(self, tenant_id: uuid.UUID) -> list[ApiKeySummary]:
        query = owned(api_keys, tenant_id).order_by(api_keys.c.created_at, api_keys.c.id)
        return [_api_key(r) for r in self._c.execute(query)]

    def api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeySummary:
        """The key of that id, which must exist (keys are revoked, never deleted)."""
        query = owned(api_keys, tenant_id).where(api_keys.c.id == key_id)
        return _api_key(self._c.execute(query).one())

    def revoke_api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID, now: datetime) -> bool:
        """Set ``revoked_at`` unless it is set already; True when this call revoked the key."""
        result = self._c.execute(
            update(api_keys)
            .where(api_keys.c.tenant_id == tenant_id, api_keys.c.id == key_id)
            .where(api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount == 1

    # Patients and practitioners --------------------------------------------------------

    def add_patient(self, patient: Patient) -> None:
        self._c.execute(
            insert(patients).values(
                id=patient.id,
                tenant_id=patient.tenant_id,
                external_id=patient.external_id,
                population=patient.population.value if patient.population else None,
                created_at=patient.created_at,
            )
        )

    def patient(self, tenant_id: uuid.UUID, patient_id: uuid.UUID) -> Patient | None:
        query = owned(patients, tenant_id).where(patients.c.id == patient_id)
        return _patient(found) if (found := self._c.execute(query).first()) else None

    def patient_by_external_id(self, tenant_id: uuid.UUID, external_id: str) -> Patient | None:
        query = owned(patients, tenant_id).where(patients.c.external_id == external_id)
        return _patient(found) if (found := self._c.execute(query).first()) else None

    def patients(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Patient]:
        query = page(owned(patients, tenant_id), patients, after, limit)
        return [_patient(r) for r in self._c.execute(query)]

    def patients_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]:
        query = owned(patients, tenant_id).where(patients.c.id.in_(ids))
        return {r.id: _patient(r) for r in self._c.execute(query)}

    def add_practitioner(self, practitioner: Practitioner) -> None:
        self._c.execute(
            insert(practitioners).values(
                id=practitioner.id,
                tenant_id=practitioner.tenant_id,
                external_id=practitioner.external_id,
                display_name=practitioner.display_name,
                created_at=practitioner.created_at,
            )
        )

    def practitioner(self, tenant_id: uuid.UUID, practitioner_id: uuid.UUID) -> Practitioner | None:
        query = owned(practitioners, tenant_id).where(practitioners.c.id == practitioner_id)
        return _practitioner(found) if (found := self._c.execute(query).first()) else None

    def practitioner_by_external_id(
        self, tenant_id: uuid.UUID, external_id: str
    ) -> Practitioner | None:
        query = owned(practitioners, tenant_id).where(practitioners.c.external_id == external_id)
        return _practitioner(found) if (found := self._c.execute(query).first()) else None

    def practitioners_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Practitioner]:
        query = owned(practitioners, tenant_id).where(practitioners.c.id.in_(ids))
        return {r.id: _practitioner(r) for r in self._c.execute(query)}

    def practitioners(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Practitioner]:
        query = page(owned(practitioners, tenant_id), practitioners, after, limit)
        return [_practitioner(r) for r in self._c.execute(query)]

    # Dyads ------------------------------------------------------------------------------

    def patients_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]:
        query = (
            owned(patients, tenant_id)
            .add_columns(dyads.c.id.label("dyad_id"))
            .join(dyads, dyads.c.patient_id == patients.c.id)
            .where(dyads.c.tenant_id == tenant_id, dyads.c.id.in_(dyad_ids))
        )
        return {r.dyad_id: _patient(r) for r in self._c.execute(query)}

    def add_dyad(self, dyad: Dyad) -> None:
        self._c.execute(
            insert(dyads).values(
                id=dyad.id,
                tenant_id=dyad.tenant_id,
                patient_id=dyad.patient_id,
                practitioner_id=dyad.practitioner_id,
                started_on=dyad.started_on,
                ended_on=dyad.ended_on,
                created_at=dyad.created_at,
            )
        )

    def dyads_by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Dyad]:
        query = owned(dyads, tenant_id).where(dyads.c.id.in_(ids))
        return {r.id: _dyad(r) for r in self._c.execute(query)}

    def dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> Dyad | None:
        query = owned(dyads, tenant_id).where(dyads.c.id == dyad_id)
        return _dyad(found) if (found := self._c.execute(query).first()) else None

    def dyad_context(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, series_of: str | None = None,
        idempotency_key: str | None = None,
    ) -> DyadContext | None:  # fmt: skip
        """The dyad, its patient's population, for ``series_of`` that instrument's saved
        series summary, and the answer stored under ``idempotency_key``: everything storing
        reads, at once."""
        params = {"tenant_id": tenant_id, "id": dyad_id, "instrument": series_of,
                  "key": idempotency_key}  # fmt: skip
        query = _DYAD_CONTEXT[series_of is not None, idempotency_key is not None]
        row = self._c.execute(query, params).first()
        if row is None:
            return None
        rest = row[8:]
        summary = version = stored = None
        if series_of is not None:
            (rules_key, covered, last_session, document, read), rest = rest[:5], rest[5:]
            if rules_key is not None:
                summary = SavedSummary(rules_key, covered, last_session, summary_of(document))
                version = read
        if idempotency_key is not None and rest[0] is not None:
            stored = StoredResponse(*rest)
        population = Population(row[7]) if row[7] else None
        return DyadContext(_dyad(row), population, summary, version, stored)

    def dyads(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        patient_id: uuid.UUID | None = None, practitioner_id: uuid.UUID | None = None,
    ) -> list[Dyad]:  # fmt: skip
        query = owned(dyads, tenant_id)
        if patient_id is not None:
            query = query.where(dyads.c.patient_id == patient_id)
        if practitioner_id is not None:
            query = query.where(dyads.c.practitioner_id == practitioner_id)
        return [_dyad(r) for r in self._c.execute(page(query, dyads, after, limit))]


def _scopes(text: str) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in text.split(",") if s)


def _api_key(r: Row[Any]) -> ApiKeySummary:
    return ApiKeySummary(r.id, r.tenant_id, r.prefix, _scopes(r.scopes), r.created_at, r.revoked_at)


# Rows are read by position (the table's column order): ``dyad_context`` adds columns after.
def _patient(r: Sequence[Any]) -> Patient:
    id_, tenant_id, external_id, population, created_at = r[:5]
    return Patient(
        id_, tenant_id, external_id, Population(population) if population else None, created_at
    )


def _practitioner(r: Row[Any]) -> Practitioner:
    return Practitioner(r.id, r.tenant_id, r.external_id, r.display_name, r.created_at)


def _dyad(r: Sequence[Any]) -> Dyad:
    return Dyad(*r[:7])
