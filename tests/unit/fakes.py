"""An in-memory ``Store`` and ``Transact`` (service/app/ports.py) for the use-case unit tests.

The pattern of cosmicpython's ``FakeRepository``/``FakeUnitOfWork``: the use cases run
unchanged against plain dictionaries, so their unit tests read as a specification of what
they promise, without a database. The fake keeps the promises of the real store that the
use cases rely on:

- A transaction works on its own copy of the tables and is committed only when the work
  returns; an exception discards the copy, so a rollback is real (nothing the failed work
  wrote, audit events included, survives).
- Unique keys are those of ``service/store/tables.py``: a duplicate insert fails the
  transaction with ``Conflict``, as ``StoreTransact`` reports an ``IntegrityError``;
  "insert unless present" writes (tenants, sessions, alerts) do nothing instead.
- Reads are tenant-scoped and ordered by id (ids are time-ordered), like the SQL.
- ``FakeTransact.meanwhile`` commits another transaction between a transaction's work and
  its commit, so a test can stage the race two concurrent requests run; the commit then
  replays the transaction's writes onto what the other one committed, and a unique key the
  other one took fails it as it fails on PostgreSQL.

``tests/unit/test_fakes.py`` checks these promises; ``mypy`` checks that ``FakeStore``
satisfies the ``Store`` protocol (pyproject.toml lists this file).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from service.app.ports import DyadContext, Store, Transact
from service.domain.alerts import Alert, AlertKind, AlertStatus
from service.domain.calibration import DyadDifferences
from service.domain.concordance import Rated
from service.domain.corrections import Voided, replacements
from service.domain.errors import Conflict
from service.domain.progress import Observation
from service.domain.records import (
    Administration,
    ApiKeySummary,
    AuditEvent,
    Dyad,
    Patient,
    Practitioner,
    Scope,
    Tenant,
)
from service.domain.series_summary import STALE, SavedSummary
from tests.unit.fakes_integration import (
    INTEGRATION_TABLES,
    INTEGRATION_UNIQUE,
    IntegrationTables,
)

T = TypeVar("T")
_SESSION_NAMESPACE = uuid.UUID("6f1d2a52-5b1e-4bb5-9d8a-3f5e2f1c9a10")


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    prefix: str
    secret_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    dyad_id: uuid.UUID
    number: int


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert: Alert
    evidence_key: str


@dataclass(frozen=True, slots=True)
class AllianceRow:
    """A row of alliance_pairs (a difference), alliance_summaries (a summary) or
    alliance_summary_state (its key); ``value`` None: deleted."""

    tenant_id: uuid.UUID | None
    value: Any


@dataclass(frozen=True, slots=True)
class SummaryRow:
    tenant_id: uuid.UUID
    saved: SavedSummary
    version: uuid.UUID


# Each table's unique keys beside its primary key (service/store/tables.py).
_UNIQUE: dict[str, tuple[Callable[[Any], object], ...]] = {
    "tenants": (lambda r: r.name,),
    "api_keys": (lambda r: r.prefix,),
    "patients": (lambda r: (r.tenant_id, r.external_id),),
    "practitioners": (lambda r: (r.tenant_id, r.external_id),),
    "alerts": (lambda r: (r.alert.tenant_id, r.alert.dyad_id, r.alert.kind, r.evidence_key),),
}
TABLES = (
    "tenants", "api_keys", "patients", "practitioners", "dyads", "sessions", "administrations",
    "idempotency_keys", "audit_events", "alerts", "series_summaries", "alliance_pairs",
    "alliance_summaries", "alliance_summary_state", *INTEGRATION_TABLES,
)  # fmt: skip
_UNIQUE |= INTEGRATION_UNIQUE


class UniqueViolation(Exception):
    """What the database raises on a duplicate key; ``FakeTransact`` reports it as
    ``Conflict`` after rolling back, as ``StoreTransact`` does."""


@dataclass
class Database:
    """The committed tables: table name to primary key to row (frozen dataclasses)."""

    tables: dict[str, dict[Any, Any]] = field(default_factory=lambda: {t: {} for t in TABLES})
    version: int = 0  # counts commits

    def copy(self) -> dict[str, dict[Any, Any]]:
        return {name: dict(rows) for name, rows in self.tables.items()}

    def rows(self, table: str) -> list[Any]:
        return list(self.tables[table].values())

    @property
    def audit_events(self) -> list[AuditEvent]:
        return self.rows("audit_events")


@dataclass(frozen=True, slots=True)
class _Write:
    table: str
    key: Any
    row: Any
    insert: bool  # False: replace the row with that key
    or_ignore: bool  # an insert that does nothing when the key is taken


def _put(tables: dict[str, dict[Any, Any]], w: _Write) -> bool:
    rows = tables[w.table]
    if w.insert:
        taken = w.key in rows or any(
            unique(w.row) == unique(other)
            for unique in _UNIQUE.get(w.table, ())
            for other in rows.values()
        )
        if taken:
            if w.or_ignore:
                return False
            raise UniqueViolation(f"duplicate key in {w.table}")
    rows[w.key] = w.row
    return True


class FakeStore(IntegrationTables):
    """Implements ``service.app.ports.Store`` over one transaction's copy of the tables."""

    def __init__(self, tables: dict[str, dict[Any, Any]]) -> None:
        self._t = tables
        self.journal: list[_Write] = []

    # Writes ---------------------------------------------------------------------------------

    def _write(
        self, table: str, key: Any, row: Any, *, insert: bool = True, or_ignore: bool = False
    ) -> bool:
        w = _Write(table, key, row, insert, or_ignore)
        done = _put(self._t, w)
        if done:
            self.journal.append(w)
        return done

    def _owned(self, table: str, tenant_id: uuid.UUID) -> list[Any]:
        return sorted(
            (r for r in self._t[table].values() if r.tenant_id == tenant_id), key=lambda r: r.id
        )

    # Tenants and API keys -------------------------------------------------------------------

    def ensure_tenant(self, name: str, new_id: uuid.UUID, now: datetime) -> Tenant:
        self._write("tenants", new_id, Tenant(new_id, name, now), or_ignore=True)
        found = self.tenant_by_name(name)
        assert found is not None
        return found

    def tenant_by_name(self, name: str) -> Tenant | None:
        return next((t for t in self._t["tenants"].values() if t.name == name), None)

    def add_api_key(
        self, key_id: uuid.UUID, tenant_id: uuid.UUID, prefix: str, secret_hash: str,
        scopes: frozenset[Scope], now: datetime,
    ) -> None:  # fmt: skip
        self._write("api_keys", key_id, ApiKeyRow(key_id, tenant_id, prefix, secret_hash,
                                                  scopes, now))  # fmt: skip

    def find_api_key(self, prefix: str) -> ApiKeyRow | None:
        return next((k for k in self._t["api_keys"].values() if k.prefix == prefix), None)

    def api_keys(self, tenant_id: uuid.UUID) -> list[ApiKeySummary]:
        keys = sorted(self._owned("api_keys", tenant_id), key=lambda k: (k.created_at, k.id))
        return [_summary(k) for k in keys]

    def api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeySummary:
        key = self._t["api_keys"][key_id]
        assert key.tenant_id == tenant_id
        return _summary(key)

    def revoke_api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID, now: datetime) -> bool:
        key = self._t["api_keys"].get(key_id)
        if key is None or key.tenant_id != tenant_id or key.revoked_at is not None:
            return False
        return self._write("api_keys", key_id, replace(key, revoked_at=now), insert=False)

    # Patients, practitioners and dyads ------------------------------------------------------

    def add_patient(self, patient: Patient) -> None:
        self._write("patients", patient.id, patient)

    def patient(self, tenant_id: uuid.UUID, patient_id: uuid.UUID) -> Patient | None:
        return _mine(self._t["patients"].get(patient_id), tenant_id)

    def patient_by_external_id(self, tenant_id: uuid.UUID, external_id: str) -> Patient | None:
        found = (p for p in self._owned("patients", tenant_id) if p.external_id == external_id)
        return next(found, None)

    def patients(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Patient]:
        return _page(self._owned("patients", tenant_id), after, limit)

    def patients_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]:
        return {p.id: p for p in self._owned("patients", tenant_id) if p.id in ids}

    def add_practitioner(self, practitioner: Practitioner) -> None:
        self._write("practitioners", practitioner.id, practitioner)

    def practitioner(self, tenant_id: uuid.UUID, practitioner_id: uuid.UUID) -> Practitioner | None:
        return _mine(self._t["practitioners"].get(practitioner_id), tenant_id)

    def practitioner_by_external_id(
        self, tenant_id: uuid.UUID, external_id: str
    ) -> Practitioner | None:
        found = (p for p in self._owned("practitioners", tenant_id) if p.external_id == external_id)
        return next(found, None)

    def practitioners(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Practitioner]:
        return _page(self._owned("practitioners", tenant_id), after, limit)

    def practitioners_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Practitioner]:
        return {p.id: p for p in self._owned("practitioners", tenant_id) if p.id in ids}

    def add_dyad(self, dyad: Dyad) -> None:
        # Foreign keys, as the database checks them (within the tenant: the use case asks).
        if dyad.patient_id not in self._t["patients"]:
            raise UniqueViolation("dyads.patient_id names no patient")
        if dyad.practitioner_id not in self._t["practitioners"]:
            raise UniqueViolation("dyads.practitioner_id names no practitioner")
        self._write("dyads", dyad.id, dyad)

    def dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> Dyad | None:
        return _mine(self._t["dyads"].get(dyad_id), tenant_id)

    def dyads(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        patient_id: uuid.UUID | None = None, practitioner_id: uuid.UUID | None = None,
    ) -> list[Dyad]:  # fmt: skip
        found = [
            d for d in self._owned("dyads", tenant_id)
            if patient_id in (None, d.patient_id) and practitioner_id in (None, d.practitioner_id)
        ]  # fmt: skip
        return _page(found, after, limit)

    def dyads_by_ids(self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Dyad]:
        return {d.id: d for d in self._owned("dyads", tenant_id) if d.id in ids}

    def patients_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]:
        found = {}
        for d in self._owned("dyads", tenant_id):
            patient = self.patient(tenant_id, d.patient_id)
            if d.id in dyad_ids and patient is not None:
                found[d.id] = patient
        return found

    def dyad_context(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, series_of: str | None = None,
        idempotency_key: str | None = None,
    ) -> DyadContext | None:  # fmt: skip
        dyad = self.dyad(tenant_id, dyad_id)
        if dyad is None:
            return None
        patient = self.patient(tenant_id, dyad.patient_id)
        summary = version = None
        if series_of is not None and (row := self._t["series_summaries"].get((dyad_id, series_of))):
            summary, version = row.saved, row.version
        stored = (
            None if idempotency_key is None else self.stored_response(tenant_id, idempotency_key)
        )
        population = patient.population if patient else None
        return DyadContext(dyad, population, summary, version, stored)

    # Sessions and administrations -----------------------------------------------------------

    def ensure_session(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, number: int, now: datetime
    ) -> uuid.UUID:
        session_id = uuid.uuid5(_SESSION_NAMESPACE, f"{dyad_id}:{number}")
        row = SessionRow(session_id, tenant_id, dyad_id, number)
        self._write("sessions", (dyad_id, number), row, or_ignore=True)
        return session_id

    def add_administration(self, a: Administration, session_id: uuid.UUID) -> None:
        session = self._t["sessions"].get((a.dyad_id, a.session))
        if session is None or session.id != session_id:
            raise UniqueViolation("administrations.session_id names no session of the dyad")
        self._write("administrations", a.id, a)

    def administrations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        instrument: str | None = None,
    ) -> list[Administration]:  # fmt: skip
        found = [
            a for a in self._owned("administrations", tenant_id)
            if a.dyad_id == dyad_id and instrument in (None, a.instrument)
        ]  # fmt: skip
        return self._with_replacements(tenant_id, _page(found, after, limit))

    def administrations_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID]
    ) -> list[Administration]:
        found = [a for a in self._owned("administrations", tenant_id) if a.dyad_id in dyad_ids]
        return self._with_replacements(tenant_id, found)

    def administration(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID
    ) -> Administration | None:
        found = _mine(self._t["administrations"].get(administration_id), tenant_id)
        return None if found is None else self._with_replacements(tenant_id, [found])[0]

    def void_administration(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID, voided: Voided
    ) -> bool:
        found = _mine(self._t["administrations"].get(administration_id), tenant_id)
        if found is None or found.voided is not None:
            return False
        self._write("administrations", found.id, replace(found, voided=voided), insert=False)
        return True

    def _with_replacements(
        self, tenant_id: uuid.UUID, found: list[Administration]
    ) -> list[Administration]:
        counted = (
            (a.id, a.dyad_id, a.session, a.instrument, a.completed_at)
            for a in self._owned("administrations", tenant_id)
            if a.voided is None
        )
        replaced = replacements(counted)
        return [replace(a, superseded_by=replaced.get(a.id)) for a in found]

    def _scored(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instruments: Iterable[str],
        session: int | None = None,
    ) -> list[tuple[str, Rated]]:  # fmt: skip
        wanted = set(instruments)
        return [
            (a.instrument, Rated(_observation(a), _scale_scores(a)))
            for a in self._owned("administrations", tenant_id)
            if a.dyad_id == dyad_id and a.instrument in wanted and session in (None, a.session)
            and a.voided is None
        ]  # fmt: skip

    def observations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instruments: Sequence[str]
    ) -> list[tuple[str, Rated]]:
        return self._scored(tenant_id, dyad_id, instruments)

    def series(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str
    ) -> list[Observation]:
        return [r.observation for _, r in self._scored(tenant_id, dyad_id, [instrument])]

    def session_ratings(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, session: int, instruments: Sequence[str]
    ) -> list[tuple[str, Rated]]:
        return self._scored(tenant_id, dyad_id, instruments, session)

    # Alliance summaries (a row of None stands for a deleted one) ---------------------------

    def lock_dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> None:
        """Nothing to wait for: the fake runs one transaction at a time."""

    def save_alliance_pair(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str, session: int,
        difference: float | None,
    ) -> None:  # fmt: skip
        row = AllianceRow(tenant_id, difference)
        self._write("alliance_pairs", (dyad_id, client_form, session), row, insert=False)

    def alliance_differences(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str
    ) -> list[float]:
        return [
            row.value
            for (dyad, form, _), row in sorted(self._t["alliance_pairs"].items())
            if dyad == dyad_id and form == client_form and row.tenant_id == tenant_id
            and row.value is not None
        ]  # fmt: skip

    def save_alliance_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str,
        summary: DyadDifferences | None,
    ) -> None:  # fmt: skip
        row = AllianceRow(tenant_id, summary)
        self._write("alliance_summaries", (dyad_id, client_form), row, insert=False)

    def alliance_summaries(
        self, tenant_id: uuid.UUID, practitioner_id: uuid.UUID, client_forms: Sequence[str]
    ) -> list[tuple[uuid.UUID, str, DyadDifferences]]:
        theirs = {
            d.id for d in self._owned("dyads", tenant_id) if d.practitioner_id == practitioner_id
        }
        return [
            (dyad, form, row.value)
            for (dyad, form), row in sorted(self._t["alliance_summaries"].items())
            if dyad in theirs and form in client_forms and row.value is not None
        ]

    def alliance_forms_key(self) -> str | None:
        row = self._t["alliance_summary_state"].get(1)
        return None if row is None else str(row.value)

    def lock_alliance_summaries(self) -> None:
        """Nothing to wait for: the fake runs one transaction at a time."""

    def clear_alliance_summaries(self) -> None:
        for table in ("alliance_pairs", "alliance_summaries"):
            for key, row in list(self._t[table].items()):
                self._write(table, key, AllianceRow(row.tenant_id, None), insert=False)

    def paired_histories(
        self, tenant_id: uuid.UUID, instruments: Sequence[str]
    ) -> Iterator[tuple[uuid.UUID, list[tuple[str, Observation]]]]:
        by_dyad: dict[uuid.UUID, list[tuple[str, Observation]]] = {}
        for a in self._owned("administrations", tenant_id):
            if a.instrument in instruments and a.voided is None:
                by_dyad.setdefault(a.dyad_id, []).append((a.instrument, _observation(a)))
        yield from sorted(by_dyad.items())

    def add_alliance_rows(
        self, tenant_id: uuid.UUID,
        pairs: Sequence[tuple[uuid.UUID, str, int, float]],
        summaries: Sequence[tuple[uuid.UUID, str, DyadDifferences]],
    ) -> None:  # fmt: skip
        for dyad, form, session, difference in pairs:
            self.save_alliance_pair(tenant_id, dyad, form, session, difference)
        for dyad, form, summary in summaries:
            self.save_alliance_summary(tenant_id, dyad, form, summary)

    def set_alliance_forms_key(self, key: str, now: datetime) -> None:
        self._write("alliance_summary_state", 1, AllianceRow(None, key), insert=False)

    # Series summaries -----------------------------------------------------------------------

    def save_series_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, saved: SavedSummary,
        version: uuid.UUID, read_version: uuid.UUID | None,
    ) -> None:  # fmt: skip
        """An upsert; a row changed since ``read_version`` was read is marked stale."""
        old = self._t["series_summaries"].get((dyad_id, instrument))
        if old is not None and old.version != read_version:
            saved = replace(saved, rules_key=STALE)
        row = SummaryRow(tenant_id, saved, version)
        self._write("series_summaries", (dyad_id, instrument), row, insert=False)

    def mark_series_summary_stale(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, version: uuid.UUID
    ) -> None:
        old = self._t["series_summaries"].get((dyad_id, instrument))
        if old is not None and old.tenant_id == tenant_id:
            row = SummaryRow(tenant_id, replace(old.saved, rules_key=STALE), version)
            self._write("series_summaries", (dyad_id, instrument), row, insert=False)

    # Alerts ---------------------------------------------------------------------------------

    def add_alert(self, alert: Alert, evidence_key: str) -> bool:
        return self._write("alerts", alert.id, AlertRow(alert, evidence_key), or_ignore=True)

    def alert(self, tenant_id: uuid.UUID, alert_id: uuid.UUID) -> Alert | None:
        row = self._t["alerts"].get(alert_id)
        return _mine(row.alert if row else None, tenant_id)

    def _alerts(self, tenant_id: uuid.UUID) -> list[Alert]:
        mine = [r.alert for r in self._t["alerts"].values() if r.alert.tenant_id == tenant_id]
        return sorted(mine, key=lambda a: a.id)

    def alerts(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None, kind: AlertKind | None = None,
        dyad_id: uuid.UUID | None = None,
    ) -> list[Alert]:  # fmt: skip
        found = [
            a for a in self._alerts(tenant_id)
            if (not statuses or a.status in statuses) and kind in (None, a.kind)
            and dyad_id in (None, a.dyad_id)
        ]  # fmt: skip
        return _page(found, after, limit)

    def alerts_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID],
        statuses: frozenset[AlertStatus] | None = None,
    ) -> list[Alert]:  # fmt: skip
        return [
            a for a in self._alerts(tenant_id)
            if a.dyad_id in dyad_ids and (not statuses or a.status in statuses)
        ]  # fmt: skip

    def update_alert(self, alert: Alert) -> None:
        row = self._t["alerts"].get(alert.id)
        if row is not None and row.alert.tenant_id == alert.tenant_id:
            self._write("alerts", alert.id, replace(row, alert=alert), insert=False)

    # Idempotency keys and audit -------------------------------------------------------------

    def stored_response(self, tenant_id: uuid.UUID, key: str) -> StoredResponse | None:
        found: StoredResponse | None = self._t["idempotency_keys"].get((tenant_id, key))
        return found

    def store_response(
        self, tenant_id: uuid.UUID, key: str, request_hash: str, status_code: int,
        body: dict[str, Any], now: datetime,
    ) -> None:  # fmt: skip
        self._write(
            "idempotency_keys", (tenant_id, key), StoredResponse(request_hash, status_code, body)
        )

    def record(self, event: AuditEvent) -> None:
        self._write("audit_events", event.id, event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            self.record(event)


class FakeTransact:
    """Implements ``service.app.ports.Transact`` over a ``Database``; counts what it did."""

    def __init__(self, database: Database | None = None) -> None:
        self.database = database or Database()
        self.commits = 0
        self.rollbacks = 0
        self.read_only_calls = 0
        self._meanwhile: list[Callable[[Store], object]] = []

    def meanwhile(self, work: Callable[[Store], object]) -> None:
        """Commit ``work`` in its own transaction after the next transaction's work ran and
        before it commits: a concurrent request that got there first."""
        self._meanwhile.append(work)

    async def __call__(self, work: Callable[[Store], T], /, *, read_only: bool = False) -> T:
        self.read_only_calls += read_only
        started = self.database.version
        store = FakeStore(self.database.copy())
        try:
            result = work(store)
            while self._meanwhile:
                await self(self._meanwhile.pop(0))
            self._commit(store, started)
        except UniqueViolation as exc:
            self.rollbacks += 1
            raise Conflict("The request conflicts with data stored at the same time.") from exc
        except BaseException:
            self.rollbacks += 1
            raise
        self.commits += 1
        return result

    def _commit(self, store: FakeStore, started: int) -> None:
        if self.database.version == started:
            self.database.tables = store._t
        else:  # another transaction committed meanwhile: replay the writes onto its result
            tables = self.database.copy()
            for w in store.journal:
                _put(tables, w)
            self.database.tables = tables
        self.database.version += 1


def _mine(row: T | None, tenant_id: uuid.UUID) -> T | None:
    return row if row is not None and getattr(row, "tenant_id", None) == tenant_id else None


def _page(rows: list[T], after: uuid.UUID | None, limit: int) -> list[T]:
    ordered = sorted(rows, key=lambda r: getattr(r, "id"))  # noqa: B009
    return [r for r in ordered if after is None or getattr(r, "id") > after][:limit]  # noqa: B009


def _observation(a: Administration) -> Observation:
    total = a.score.get("total")
    return Observation(a.id, a.session, a.completed_at, None if total is None else float(total))


def _scale_scores(a: Administration) -> dict[str, float | None]:
    return {name: scale["score"] for name, scale in a.score.get("scales", {}).items()}


def _summary(k: ApiKeyRow) -> ApiKeySummary:
    return ApiKeySummary(k.id, k.tenant_id, k.prefix, k.scopes, k.created_at, k.revoked_at)


def conforms(store: FakeStore, transact: FakeTransact) -> tuple[Store, Transact]:
    """Never called: mypy checks here that the fakes satisfy the ports."""
    return store, transact
