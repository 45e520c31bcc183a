"""The in-memory store's EHR-integration ports: SMART clients, accepted assertion ids,
access tokens, webhooks and their outbox, view-link secrets, FHIR's searches
(``FakeStore`` mixes this in; tests/unit/fakes.py says what the fake promises)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from service.app.ports import AdministrationRecord, AdministrationSearch
from service.domain.alerts import Alert, AlertStatus
from service.domain.audit_chain import GENESIS, ChainedEvent, extend
from service.domain.records import AccessToken, Administration, Scope, SmartClient
from service.domain.webhooks import Delivery, DeliveryStatus, EventType, Webhook

INTEGRATION_TABLES = (
    "smart_clients", "client_assertions", "access_tokens", "webhooks", "webhook_deliveries",
    "view_link_secrets",
)  # fmt: skip
INTEGRATION_UNIQUE = {"access_tokens": (lambda r: r.prefix,)}


@dataclass(frozen=True, slots=True)
class TokenRow:
    tenant_id: uuid.UUID
    client_id: uuid.UUID
    prefix: str
    secret_hash: str
    scopes: frozenset[Scope]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookRow:
    webhook: Webhook
    secret: str
    deleted: bool = False

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.webhook.tenant_id


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: Delivery
    payload: str
    leased_until: datetime | None = None


class IntegrationTables:
    """Requires ``_t`` (the transaction's tables) and ``_write`` of ``FakeStore``."""

    _t: dict[str, dict[Any, Any]]

    def _write(
        self, table: str, key: Any, row: Any, *, insert: bool = True, or_ignore: bool = False
    ) -> bool:
        raise NotImplementedError

    # SMART ----------------------------------------------------------------------------------

    def add_smart_client(self, client: SmartClient) -> None:
        self._write("smart_clients", client.id, client)

    def find_smart_client(self, client_id: uuid.UUID) -> SmartClient | None:
        found: SmartClient | None = self._t["smart_clients"].get(client_id)
        return found

    def smart_clients(self, tenant_id: uuid.UUID) -> list[SmartClient]:
        return sorted(
            (c for c in self._t["smart_clients"].values() if c.tenant_id == tenant_id),
            key=lambda c: c.id,
        )

    def accept_assertion(
        self, tenant_id: uuid.UUID, client_id: uuid.UUID, jti: str, expires_at: datetime,
        now: datetime,
    ) -> None:  # fmt: skip
        self._write("client_assertions", (client_id, jti), (tenant_id, expires_at))

    def add_access_token(
        self, token_id: uuid.UUID, client: SmartClient, prefix: str, secret_hash: str,
        scopes: frozenset[Scope], granted: tuple[str, ...], now: datetime, expires_at: datetime,
    ) -> None:  # fmt: skip
        row = TokenRow(client.tenant_id, client.id, prefix, secret_hash, scopes, expires_at)
        self._write("access_tokens", token_id, row)

    def find_access_token(self, prefix: str) -> AccessToken | None:
        for row in self._t["access_tokens"].values():
            if row.prefix == prefix:
                client = self._t["smart_clients"][row.client_id]
                return AccessToken(
                    row.tenant_id, row.client_id, row.secret_hash, row.scopes, row.expires_at,
                    client.revoked_at is not None,
                )  # fmt: skip
        return None

    # Webhooks -------------------------------------------------------------------------------

    def add_webhook(self, webhook: Webhook, secret: str) -> None:
        self._write("webhooks", webhook.id, WebhookRow(webhook, secret))

    def _live(self, tenant_id: uuid.UUID) -> list[WebhookRow]:
        rows = (r for r in self._t["webhooks"].values() if r.tenant_id == tenant_id)
        return sorted((r for r in rows if not r.deleted), key=lambda r: r.webhook.id)

    def webhook(self, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
        return next((r.webhook for r in self._live(tenant_id) if r.webhook.id == webhook_id), None)

    def webhooks(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Webhook]:
        found = [r.webhook for r in self._live(tenant_id) if after is None or r.webhook.id > after]
        return found[:limit]

    def delete_webhook(self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, now: datetime) -> bool:
        row = next((r for r in self._live(tenant_id) if r.webhook.id == webhook_id), None)
        if row is None:
            return False
        self._write("webhooks", webhook_id, replace(row, deleted=True), insert=False)
        for key, d in list(self._t["webhook_deliveries"].items()):
            if d.delivery.webhook_id == webhook_id and d.delivery.status is DeliveryStatus.PENDING:
                failed = replace(d.delivery, status=DeliveryStatus.FAILED, last_error="deleted")
                self._write("webhook_deliveries", key, replace(d, delivery=failed), insert=False)
        return True

    def queue_event(
        self, tenant_id: uuid.UUID, event: EventType, dyad_id: uuid.UUID, payload: str,
        deliveries: Sequence[tuple[uuid.UUID, uuid.UUID]], now: datetime,
    ) -> None:  # fmt: skip
        for delivery_id, webhook_id in deliveries:
            delivery = Delivery(
                delivery_id, tenant_id, webhook_id, event, dyad_id, DeliveryStatus.PENDING, 0,
                now, None, None, now, None,
            )  # fmt: skip
            self._write("webhook_deliveries", delivery_id, DeliveryRow(delivery, payload))

    def deliveries(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Delivery]:
        found = sorted(
            (r.delivery for r in self._t["webhook_deliveries"].values()
             if r.delivery.tenant_id == tenant_id and r.delivery.webhook_id == webhook_id
             and (after is None or r.delivery.id > after)),
            key=lambda d: d.id,
        )  # fmt: skip
        return found[:limit]

    def redeliver(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
    ) -> Delivery | None:
        row: DeliveryRow | None = self._t["webhook_deliveries"].get(delivery_id)
        if row is None or (row.delivery.tenant_id, row.delivery.webhook_id) != (
            tenant_id, webhook_id,
        ):  # fmt: skip
            return None
        again = replace(
            row.delivery, status=DeliveryStatus.PENDING, next_attempt_at=now, attempts=0
        )
        self._write("webhook_deliveries", delivery_id, replace(row, delivery=again), insert=False)
        return again

    def claim_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[tuple[Delivery, str, str, str]]:
        raise NotImplementedError("the delivery worker is tested against the real store")

    def settle_delivery(
        self, delivery: Delivery, status_code: int | None, error: str | None,
        retry_at: datetime | None, now: datetime,
    ) -> None:  # fmt: skip
        raise NotImplementedError("the delivery worker is tested against the real store")

    # View links (service/store/queries/view_links.py) ---------------------------------------

    def view_link_secret(self, tenant_id: uuid.UUID, candidate: str, now: datetime) -> str:
        self._write("view_link_secrets", tenant_id, candidate, or_ignore=True)
        secret: str = self._t["view_link_secrets"][tenant_id]
        return secret

    def existing_view_link_secret(self, tenant_id: uuid.UUID) -> str | None:
        found: str | None = self._t["view_link_secrets"].get(tenant_id)
        return found

    # The audit trail's chain (service/store/queries/audit_trail.py) ------------------------

    def _chained(self, tenant_id: uuid.UUID) -> list[ChainedEvent]:
        """The tenant's events as the chain links them, oldest first."""
        events = sorted(
            (e for e in self._t["audit_events"].values() if e.tenant_id == tenant_id),
            key=lambda e: e.id,
        )
        links = extend(0, GENESIS, events) if events else []
        return [ChainedEvent(link.event, link.seq, link.prev_hash, link.hash) for link in links]

    def audit_chain_head(self, tenant_id: uuid.UUID) -> tuple[int, str]:
        chained = self._chained(tenant_id)
        if not chained:
            return 0, GENESIS
        last = chained[-1]
        return last.seq or 0, last.hash or GENESIS

    def audit_chain(self, tenant_id: uuid.UUID, after_seq: int, limit: int) -> list[ChainedEvent]:
        return [c for c in self._chained(tenant_id) if (c.seq or 0) > after_seq][:limit]

    def audit_event_page(
        self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        object_type: str | None = None, object_id: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[ChainedEvent]:  # fmt: skip
        found = [
            c for c in self._chained(tenant_id)
            if object_type in (None, c.event.object_type)
            and object_id in (None, c.event.object_id)
            and (since is None or c.event.occurred_at >= since)
            and (until is None or c.event.occurred_at < until)
            and (after is None or c.event.id > after)
        ]  # fmt: skip
        return found[:limit]

    def tenant_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self._t["tenants"].values()}

    # FHIR search (service/store/queries/clinical_search.py) ---------------------------------

    def administration_record(
        self, tenant_id: uuid.UUID, administration_id: uuid.UUID
    ) -> AdministrationRecord | None:
        found = self._t["administrations"].get(administration_id)
        if found is None or found.tenant_id != tenant_id:
            return None
        return self._record(found)

    def _record(self, a: Administration) -> AdministrationRecord:
        dyad = self._t["dyads"][a.dyad_id]
        return AdministrationRecord(
            a, self._t["patients"][dyad.patient_id], self._t["practitioners"][dyad.practitioner_id]
        )

    def search_administrations(
        self, tenant_id: uuid.UUID, search: AdministrationSearch
    ) -> list[AdministrationRecord]:
        def admitted(a: Administration) -> bool:
            dyad = self._t["dyads"][a.dyad_id]
            key = (a.completed_at, a.id)
            return (
                a.tenant_id == tenant_id
                and search.patient_id in (None, dyad.patient_id)
                and (search.instruments is None or a.instrument in search.instruments)
                and (search.since is None or a.completed_at >= search.since)
                and (search.before is None or a.completed_at < search.before)
                and search.voided in (None, a.voided is not None)
                and (search.after is None
                     or (key < search.after if search.descending else key > search.after))
            )  # fmt: skip

        found = sorted(
            (a for a in self._t["administrations"].values() if admitted(a)),
            key=lambda a: (a.completed_at, a.id), reverse=search.descending,
        )  # fmt: skip
        return [self._record(a) for a in found[: search.limit]]

    def alerts_of_patient(
        self, tenant_id: uuid.UUID, patient_id: uuid.UUID, after: uuid.UUID | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None,
    ) -> list[Alert]:  # fmt: skip
        dyads = {d.id for d in self._t["dyads"].values() if d.patient_id == patient_id}
        found = sorted(
            (r.alert for r in self._t["alerts"].values()
             if r.alert.tenant_id == tenant_id and r.alert.dyad_id in dyads
             and (not statuses or r.alert.status in statuses)
             and (after is None or r.alert.id > after)),
            key=lambda a: a.id,
        )  # fmt: skip
        return found[:limit]
