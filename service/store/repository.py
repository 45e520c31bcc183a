"""All SQL of the clinical record. Rows are mapped to domain records before they leave.

Every query on a tenant-owned table goes through ``_owned``, which adds the tenant filter;
``tests/unit/test_tenant_scoping.py`` fails when a statement here selects from such a table
without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from service.domain.instruments.model import Population, Respondent
from service.domain.records import (
    Administration,
    AuditEvent,
    Dyad,
    Patient,
    Practitioner,
    Scope,
    Tenant,
)
from service.store.tables import (
    AdministrationTable,
    ApiKeyTable,
    AuditEventTable,
    DyadTable,
    IdempotencyKeyTable,
    PatientTable,
    PractitionerTable,
    SessionTable,
    TenantTable,
)

_SESSION_NAMESPACE = uuid.UUID("6f1d2a52-5b1e-4bb5-9d8a-3f5e2f1c9a10")

patients: Table = PatientTable.__table__  # type: ignore[assignment]
practitioners: Table = PractitionerTable.__table__  # type: ignore[assignment]
dyads: Table = DyadTable.__table__  # type: ignore[assignment]
sessions: Table = SessionTable.__table__  # type: ignore[assignment]
administrations: Table = AdministrationTable.__table__  # type: ignore[assignment]
audit_events: Table = AuditEventTable.__table__  # type: ignore[assignment]
idempotency_keys: Table = IdempotencyKeyTable.__table__  # type: ignore[assignment]
tenants: Table = TenantTable.__table__  # type: ignore[assignment]
api_keys: Table = ApiKeyTable.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: uuid.UUID
    tenant_id: uuid.UUID
    secret_hash: str
    scopes: frozenset[Scope]
    revoked: bool


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: dict[str, Any]


def _owned(table: Table, tenant_id: uuid.UUID) -> Select[Any]:
    """SELECT from a tenant-owned table, restricted to one tenant: the only way to read one."""
    return select(table).where(table.c.tenant_id == tenant_id)


def _page(query: Select[Any], table: Table, after: uuid.UUID | None, limit: int) -> Select[Any]:
    if after is not None:
        query = query.where(table.c.id > after)
    return query.order_by(table.c.id).limit(limit)


class SqlStore:
    """The repository over one open transaction (a ``Connection`` inside ``Database.run``)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

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

    def _insert(self, table: Table) -> Any:
        """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL share it)."""
        postgres = self._c.dialect.name == "postgresql"
        return (postgresql.insert if postgres else sqlite.insert)(table)

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
        scopes = frozenset(Scope(s) for s in row.scopes.split(",") if s)
        return ApiKeyRecord(
            row.id, row.tenant_id, row.secret_hash, scopes, row.revoked_at is not None
        )

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
        row = self._c.execute(_owned(patients, tenant_id).where(patients.c.id == patient_id))
        return _patient(found) if (found := row.first()) else None

    def patient_by_external_id(self, tenant_id: uuid.UUID, external_id: str) -> Patient | None:
        query = _owned(patients, tenant_id).where(patients.c.external_id == external_id)
        return _patient(found) if (found := self._c.execute(query).first()) else None

    def patients(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Patient]:
        query = _page(_owned(patients, tenant_id), patients, after, limit)
        return [_patient(r) for r in self._c.execute(query)]

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
        query = _owned(practitioners, tenant_id).where(practitioners.c.id == practitioner_id)
        return _practitioner(found) if (found := self._c.execute(query).first()) else None

    def practitioner_by_external_id(
        self, tenant_id: uuid.UUID, external_id: str
    ) -> Practitioner | None:
        query = _owned(practitioners, tenant_id).where(practitioners.c.external_id == external_id)
        return _practitioner(found) if (found := self._c.execute(query).first()) else None

    def practitioners(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Practitioner]:
        query = _page(_owned(practitioners, tenant_id), practitioners, after, limit)
        return [_practitioner(r) for r in self._c.execute(query)]

    # Dyads ------------------------------------------------------------------------------

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

    def dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> Dyad | None:
        query = _owned(dyads, tenant_id).where(dyads.c.id == dyad_id)
        return _dyad(found) if (found := self._c.execute(query).first()) else None

    def dyads(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        patient_id: uuid.UUID | None = None, practitioner_id: uuid.UUID | None = None,
    ) -> list[Dyad]:  # fmt: skip
        query = _owned(dyads, tenant_id)
        if patient_id is not None:
            query = query.where(dyads.c.patient_id == patient_id)
        if practitioner_id is not None:
            query = query.where(dyads.c.practitioner_id == practitioner_id)
        return [_dyad(r) for r in self._c.execute(_page(query, dyads, after, limit))]

    # Sessions and administrations ---------------------------------------------------------

    def ensure_session(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, number: int, now: datetime
    ) -> uuid.UUID:
        """The session's id, creating the session when first named (safe under races)."""
        session_id = uuid.uuid5(_SESSION_NAMESPACE, f"{dyad_id}:{number}")
        dialect_insert = (
            postgresql.insert if self._c.dialect.name == "postgresql" else sqlite.insert
        )
        self._c.execute(
            dialect_insert(sessions)
            .values(id=session_id, tenant_id=tenant_id, dyad_id=dyad_id, number=number,
                    created_at=now)
            .on_conflict_do_nothing()
        )  # fmt: skip
        return session_id

    def add_administration(self, a: Administration, session_id: uuid.UUID) -> None:
        self._c.execute(
            insert(administrations).values(
                id=a.id,
                tenant_id=a.tenant_id,
                dyad_id=a.dyad_id,
                session_id=session_id,
                session_number=a.session,
                instrument=a.instrument,
                instrument_version=a.instrument_version,
                respondent=a.respondent.value,
                completed_at=a.completed_at,
                responses=a.responses,
                score=a.score,
                total=a.score.get("total"),
                created_at=a.created_at,
            )
        )

    def administrations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        instrument: str | None = None,
    ) -> list[Administration]:  # fmt: skip
        query = _owned(administrations, tenant_id).where(administrations.c.dyad_id == dyad_id)
        if instrument is not None:
            query = query.where(administrations.c.instrument == instrument)
        rows = self._c.execute(_page(query, administrations, after, limit))
        return [_administration(r) for r in rows]

    # Idempotency and audit -----------------------------------------------------------------

    def stored_response(self, tenant_id: uuid.UUID, key: str) -> StoredResponse | None:
        query = _owned(idempotency_keys, tenant_id).where(idempotency_keys.c.key == key)
        row = self._c.execute(query).first()
        return StoredResponse(row.request_hash, row.status_code, row.response) if row else None

    def store_response(
        self, tenant_id: uuid.UUID, key: str, request_hash: str, status_code: int,
        body: dict[str, Any], now: datetime,
    ) -> None:  # fmt: skip
        self._c.execute(
            insert(idempotency_keys).values(
                tenant_id=tenant_id, key=key, request_hash=request_hash,
                status_code=status_code, response=body, created_at=now,
            )
        )  # fmt: skip

    def record(self, event: AuditEvent) -> None:
        self._c.execute(
            insert(audit_events).values(
                id=event.id, tenant_id=event.tenant_id, actor=event.actor, action=event.action,
                object_type=event.object_type, object_id=event.object_id,
                outcome=event.outcome.value, occurred_at=event.occurred_at, detail=event.detail,
            )
        )  # fmt: skip

    def audit_events(self, tenant_id: uuid.UUID, limit: int = 1000) -> Sequence[Row[Any]]:
        query = _owned(audit_events, tenant_id).order_by(audit_events.c.occurred_at).limit(limit)
        return self._c.execute(query).all()


def _patient(r: Row[Any]) -> Patient:
    population = Population(r.population) if r.population else None
    return Patient(r.id, r.tenant_id, r.external_id, population, r.created_at)


def _practitioner(r: Row[Any]) -> Practitioner:
    return Practitioner(r.id, r.tenant_id, r.external_id, r.display_name, r.created_at)


def _dyad(r: Row[Any]) -> Dyad:
    return Dyad(
        r.id, r.tenant_id, r.patient_id, r.practitioner_id, r.started_on, r.ended_on, r.created_at
    )


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
    )
