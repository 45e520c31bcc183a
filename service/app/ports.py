"""What the use cases need from persistence, as interfaces (implemented in service.store)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from service.domain.alerts import Alert, AlertKind, AlertStatus
from service.domain.audit_chain import ChainedEvent
from service.domain.calibration import DyadDifferences
from service.domain.concordance import Rated
from service.domain.corrections import Voided
from service.domain.instruments.model import Population
from service.domain.progress import Observation
from service.domain.records import (
    AccessToken,
    Administration,
    ApiKeySummary,
    AuditEvent,
    Dyad,
    Patient,
    Practitioner,
    Scope,
    SmartClient,
    Tenant,
)
from service.domain.series_summary import SavedSummary
from service.domain.webhooks import Delivery, EventType, Webhook

T = TypeVar("T")


class ApiKeyView(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def tenant_id(self) -> uuid.UUID: ...
    @property
    def secret_hash(self) -> str: ...
    @property
    def scopes(self) -> frozenset[Scope]: ...
    @property
    def revoked(self) -> bool: ...


class StoredResponseView(Protocol):
    @property
    def request_hash(self) -> str: ...
    @property
    def status_code(self) -> int: ...
    @property
    def body(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class DyadContext:
    """A dyad with what storing to it reads first, in one query."""

    dyad: Dyad
    population: Population | None  # the patient's, for population cut-offs
    # With ``series_of``: the instrument's saved series summary (service.domain.
    # series_summary), if any, and the version of the row it was read from.
    summary: SavedSummary | None = None
    summary_version: uuid.UUID | None = None
    # With ``idempotency_key``: the answer stored under that key, if it was used before.
    stored: StoredResponseView | None = None


@dataclass(frozen=True, slots=True)
class AdministrationRecord:
    """A stored administration with the two people of its dyad (FHIR subject and author)."""

    administration: Administration
    patient: Patient
    practitioner: Practitioner


@dataclass(frozen=True, slots=True)
class AdministrationSearch:
    """Administrations of a tenant, filtered and in time order: ``since`` inclusive and
    ``before`` exclusive bound ``completed_at``; ``instruments`` None means any; ``after`` is
    the (completed_at, id) of the last row of the previous page."""

    limit: int
    patient_id: uuid.UUID | None = None
    instruments: frozenset[str] | None = None
    since: datetime | None = None
    before: datetime | None = None
    descending: bool = False
    after: tuple[datetime, uuid.UUID] | None = None
    voided: bool | None = None  # None: either; True: only those entered in error; False: none


class Store(Protocol):
    """The repository of the clinical record, over one open transaction."""

    def ensure_tenant(self, name: str, new_id: uuid.UUID, now: datetime) -> Tenant: ...
    def add_api_key(
        self, key_id: uuid.UUID, tenant_id: uuid.UUID, prefix: str, secret_hash: str,
        scopes: frozenset[Scope], now: datetime,
    ) -> None: ...  # fmt: skip
    def find_api_key(self, prefix: str) -> ApiKeyView | None: ...
    def tenant_by_name(self, name: str) -> Tenant | None: ...
    def api_keys(self, tenant_id: uuid.UUID) -> list[ApiKeySummary]: ...
    def api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeySummary: ...
    def revoke_api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID, now: datetime) -> bool: ...
    def add_patient(self, patient: Patient) -> None: ...
    def patient(self, tenant_id: uuid.UUID, patient_id: uuid.UUID) -> Patient | None: ...
    def patient_by_external_id(self, tenant_id: uuid.UUID, external_id: str) -> Patient | None: ...
    def patients(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Patient]: ...
    def patients_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]: ...
    def practitioners_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Practitioner]: ...
    def dyads_by_ids(
        self, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Dyad]: ...
    def administrations_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID]
    ) -> list[Administration]: ...
    def alerts_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID],
        statuses: frozenset[AlertStatus] | None = None,
    ) -> list[Alert]: ...  # fmt: skip
    def record_many(self, events: Sequence[AuditEvent]) -> None: ...
    def add_practitioner(self, practitioner: Practitioner) -> None: ...
    def practitioner(
        self, tenant_id: uuid.UUID, practitioner_id: uuid.UUID
    ) -> Practitioner | None: ...
    def practitioner_by_external_id(
        self, tenant_id: uuid.UUID, external_id: str
    ) -> Practitioner | None: ...
    def practitioners(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Practitioner]: ...
    def patients_of_dyads(
        self, tenant_id: uuid.UUID, dyad_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Patient]: ...
    def add_dyad(self, dyad: Dyad) -> None: ...
    def dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> Dyad | None: ...
    def dyad_context(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, series_of: str | None = None,
        idempotency_key: str | None = None,
    ) -> DyadContext | None: ...  # fmt: skip
    def dyads(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        patient_id: uuid.UUID | None = None, practitioner_id: uuid.UUID | None = None,
    ) -> list[Dyad]: ...  # fmt: skip
    def ensure_session(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, number: int, now: datetime
    ) -> uuid.UUID: ...
    def add_administration(self, a: Administration, session_id: uuid.UUID) -> None: ...
    def administration(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID
    ) -> Administration | None: ...
    def void_administration(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID, voided: Voided
    ) -> bool: ...
    def administrations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        instrument: str | None = None,
    ) -> list[Administration]: ...  # fmt: skip
    def observations(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instruments: Sequence[str]
    ) -> list[tuple[str, Rated]]: ...
    def series(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str
    ) -> list[Observation]: ...
    def session_ratings(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, session: int, instruments: Sequence[str]
    ) -> list[tuple[str, Rated]]: ...
    # Alliance summaries (service.app.alliance_summaries)
    def lock_dyad(self, tenant_id: uuid.UUID, dyad_id: uuid.UUID) -> None: ...
    def save_alliance_pair(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str, session: int,
        difference: float | None,
    ) -> None: ...  # fmt: skip
    def alliance_differences(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str
    ) -> list[float]: ...
    def save_alliance_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, client_form: str,
        summary: DyadDifferences | None,
    ) -> None: ...  # fmt: skip
    def alliance_summaries(
        self, tenant_id: uuid.UUID, practitioner_id: uuid.UUID, client_forms: Sequence[str]
    ) -> list[tuple[uuid.UUID, str, DyadDifferences]]: ...
    def alliance_forms_key(self) -> str | None: ...
    def lock_alliance_summaries(self) -> None: ...
    def clear_alliance_summaries(self) -> None: ...
    def paired_histories(
        self, tenant_id: uuid.UUID, instruments: Sequence[str]
    ) -> Iterator[tuple[uuid.UUID, list[tuple[str, Observation]]]]: ...
    def add_alliance_rows(
        self, tenant_id: uuid.UUID,
        pairs: Sequence[tuple[uuid.UUID, str, int, float]],
        summaries: Sequence[tuple[uuid.UUID, str, DyadDifferences]],
    ) -> None: ...  # fmt: skip
    def set_alliance_forms_key(self, key: str, now: datetime) -> None: ...
    def save_series_summary(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, saved: SavedSummary,
        version: uuid.UUID, read_version: uuid.UUID | None,
    ) -> None: ...  # fmt: skip
    def mark_series_summary_stale(
        self, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str, version: uuid.UUID
    ) -> None: ...
    def add_alert(self, alert: Alert, evidence_key: str) -> bool: ...
    def alert(self, tenant_id: uuid.UUID, alert_id: uuid.UUID) -> Alert | None: ...
    def alerts(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None, kind: AlertKind | None = None,
        dyad_id: uuid.UUID | None = None,
    ) -> list[Alert]: ...  # fmt: skip
    def update_alert(self, alert: Alert) -> None: ...
    def stored_response(self, tenant_id: uuid.UUID, key: str) -> StoredResponseView | None: ...
    def store_response(
        self, tenant_id: uuid.UUID, key: str, request_hash: str, status_code: int,
        body: dict[str, Any], now: datetime,
    ) -> None: ...  # fmt: skip
    def record(self, event: AuditEvent) -> None: ...
    def administration_record(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID
    ) -> AdministrationRecord | None: ...
    def search_administrations(
        self, tenant_id: uuid.UUID, search: AdministrationSearch
    ) -> list[AdministrationRecord]: ...
    def alerts_of_patient(
        self, tenant_id: uuid.UUID, patient_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None,
    ) -> list[Alert]: ...  # fmt: skip
    # SMART Backend Services (service/app/smart.py)
    def add_smart_client(self, client: SmartClient) -> None: ...
    def find_smart_client(self, client_id: uuid.UUID) -> SmartClient | None: ...
    def smart_clients(self, tenant_id: uuid.UUID) -> list[SmartClient]: ...
    def accept_assertion(
        self, tenant_id: uuid.UUID, client_id: uuid.UUID, jti: str, expires_at: datetime,
        now: datetime,
    ) -> None: ...  # fmt: skip
    def add_access_token(
        self, token_id: uuid.UUID, client: SmartClient, prefix: str, secret_hash: str,
        scopes: frozenset[Scope], granted: tuple[str, ...], now: datetime, expires_at: datetime,
    ) -> None: ...  # fmt: skip
    def find_access_token(self, prefix: str) -> AccessToken | None: ...
    # Webhooks (service/app/webhooks.py) and their outbox
    def add_webhook(self, webhook: Webhook, secret: str) -> None: ...
    def webhook(self, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None: ...
    def webhooks(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Webhook]: ...
    def delete_webhook(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, now: datetime
    ) -> bool: ...
    def queue_event(
        self, tenant_id: uuid.UUID, event: EventType, dyad_id: uuid.UUID, payload: str,
        deliveries: Sequence[tuple[uuid.UUID, uuid.UUID]], now: datetime,
    ) -> None: ...  # fmt: skip
    def deliveries(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Delivery]: ...
    def redeliver(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
    ) -> Delivery | None: ...
    def claim_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[tuple[Delivery, str, str, str]]: ...
    def settle_delivery(
        self, delivery: Delivery, status_code: int | None, error: str | None,
        retry_at: datetime | None, now: datetime,
    ) -> None: ...  # fmt: skip
    def view_link_secret(self, tenant_id: uuid.UUID, candidate: str, now: datetime) -> str: ...
    def existing_view_link_secret(self, tenant_id: uuid.UUID) -> str | None: ...
    # The audit trail's hash chain (service/store/queries/audit_trail.py).
    def audit_chain_head(self, tenant_id: uuid.UUID) -> tuple[int, str]: ...
    def audit_chain(
        self, tenant_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[ChainedEvent]: ...
    def audit_event_page(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        object_type: str | None = None, object_id: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[ChainedEvent]: ...  # fmt: skip
    def tenant_names(self) -> dict[uuid.UUID, str]: ...


class Transact(Protocol):
    """Run work in one transaction: commit on return, roll back on any exception.

    A unique-constraint violation surfaces as ``Conflict``, an unreachable database as
    ``Unavailable``. ``read_only`` marks work that writes nothing but audit events: it runs
    beside the writes (on SQLite it never waits for the one writer), and the audit events it
    records are committed before its result is returned.
    """

    async def __call__(self, work: Callable[[Store], T], /, *, read_only: bool = False) -> T: ...
