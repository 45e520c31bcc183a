"""Webhook subscriptions, and the events written to their outbox.

``queue_alert_event`` runs inside the transaction that raises or changes an alert, so an
event exists exactly when its change does; the delivery worker (service/app/
webhook_delivery.py) sends it afterwards, from whichever process claims it.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from service.app.access import read_one, read_page
from service.app.audit import audited, record
from service.app.auth import require
from service.app.pagination import Page
from service.app.ports import Store, Transact
from service.domain.alerts import Alert
from service.domain.errors import NotFound
from service.domain.ids import new_id
from service.domain.records import Principal, Scope
from service.domain.webhooks import (
    Delivery,
    EventType,
    Webhook,
    alert_payload,
    event_types,
    webhook_url,
)


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str  # shown once, at creation


def queue_alert_event(store: Store, event: EventType, alert: Alert) -> None:
    """Write the event's deliveries to the outbox, in the caller's transaction."""
    subscribers = [w.id for w in store.webhooks(alert.tenant_id, None, 1000) if event in w.events]
    if subscribers:
        now = datetime.now(UTC)
        payload = json.dumps(alert_payload(event, alert, now), separators=(",", ":"))
        deliveries = [(new_id(), webhook_id) for webhook_id in subscribers]
        store.queue_event(alert.tenant_id, event, alert.dyad_id, payload, deliveries, now)


class Webhooks:
    def __init__(self, transact: Transact, allowed_hosts: frozenset[str]) -> None:
        self._transact = transact
        self._allowed_hosts = allowed_hosts

    async def create(self, principal: Principal, url: str, events: list[str]) -> CreatedWebhook:
        action = "webhook.create"
        await require(self._transact, principal, Scope.WRITE, action)
        webhook = Webhook(
            new_id(), principal.tenant_id, webhook_url(url, self._allowed_hosts),
            event_types(events), datetime.now(UTC),
        )  # fmt: skip
        # A Standard Webhooks secret: "whsec_" and 32 random bytes in base64.
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

        def work(store: Store) -> None:
            store.add_webhook(webhook, secret)
            record(store, principal, action, "webhook", webhook.id)

        await audited(self._transact, principal, action, "webhook", webhook.id, work)
        return CreatedWebhook(webhook, secret)

    async def get(self, principal: Principal, webhook_id: uuid.UUID) -> Webhook:
        return await read_one(
            self._transact, principal, "webhook", webhook_id,
            lambda store: store.webhook(principal.tenant_id, webhook_id),
        )  # fmt: skip

    async def list(self, principal: Principal, cursor: str | None, limit: int) -> Page[Webhook]:
        return await read_page(
            self._transact, principal, "webhook",
            lambda store, after, n: store.webhooks(principal.tenant_id, after, n),
            lambda w: w.id, cursor, limit,
        )  # fmt: skip

    async def delete(self, principal: Principal, webhook_id: uuid.UUID) -> None:
        action = "webhook.delete"
        await require(self._transact, principal, Scope.WRITE, action)

        def work(store: Store) -> None:
            if not store.delete_webhook(principal.tenant_id, webhook_id, datetime.now(UTC)):
                raise NotFound(f"No webhook {webhook_id}.")
            record(store, principal, action, "webhook", webhook_id)

        await audited(self._transact, principal, action, "webhook", webhook_id, work)

    async def deliveries(
        self, principal: Principal, webhook_id: uuid.UUID, cursor: str | None, limit: int
    ) -> Page[Delivery]:
        await self.get(principal, webhook_id)  # 404 for a webhook not the caller's
        return await read_page(
            self._transact, principal, "webhook-delivery",
            lambda store, after, n: store.deliveries(principal.tenant_id, webhook_id, after, n),
            lambda d: d.id, cursor, limit,
        )  # fmt: skip

    async def redeliver(
        self, principal: Principal, webhook_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> Delivery:
        action = "webhook-delivery.redeliver"
        await require(self._transact, principal, Scope.WRITE, action)

        def work(store: Store) -> Delivery:
            if store.webhook(principal.tenant_id, webhook_id) is None:
                raise NotFound(f"No webhook {webhook_id}.")
            again = store.redeliver(principal.tenant_id, webhook_id, delivery_id, datetime.now(UTC))
            if again is None:
                raise NotFound(f"No delivery {delivery_id} of webhook {webhook_id}.")
            record(store, principal, action, "webhook-delivery", delivery_id)
            return again

        return await audited(
            self._transact, principal, action, "webhook-delivery", delivery_id, work
        )
