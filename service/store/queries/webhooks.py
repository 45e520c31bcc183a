"""Webhook subscriptions and their outbox of deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, and_, exists, insert, select, update
from sqlalchemy.orm import aliased

from service.domain.webhooks import Delivery, DeliveryStatus, EventType, Webhook
from service.store.queries.base import Queries, owned, page
from service.store.tables import WebhookDeliveryTable, WebhookTable

webhooks: Table = WebhookTable.__table__  # type: ignore[assignment]
webhook_deliveries: Table = WebhookDeliveryTable.__table__  # type: ignore[assignment]
_PENDING = DeliveryStatus.PENDING.value


class WebhookQueries(Queries):
    def add_webhook(self, webhook: Webhook, secret: str) -> None:
        self._c.execute(
            insert(webhooks).values(
                id=webhook.id, tenant_id=webhook.tenant_id, url=webhook.url,
                events=",".join(sorted(webhook.events)), secret=secret,
                created_at=webhook.created_at,
            )
        )  # fmt: skip

    def _live(self, tenant_id: uuid.UUID) -> Any:
        return owned(webhooks, tenant_id).where(webhooks.c.deleted_at.is_(None))

    def webhook(self, tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
        row = self._c.execute(self._live(tenant_id).where(webhooks.c.id == webhook_id)).first()
        return None if row is None else _webhook(row)

    def webhooks(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Webhook]:
        query = page(self._live(tenant_id), webhooks, after, limit)
        return [_webhook(row) for row in self._c.execute(query)]

    def delete_webhook(self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, now: datetime) -> bool:
        """Stop a subscription: it is no longer listed, and its pending deliveries fail."""
        done = self._c.execute(
            update(webhooks)
            .where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == webhook_id)
            .where(webhooks.c.deleted_at.is_(None))
            .values(deleted_at=now)
        )
        self._c.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.tenant_id == tenant_id,
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.status == _PENDING,
            )
            .values(status=DeliveryStatus.FAILED.value, last_error="webhook deleted")
        )
        return bool(done.rowcount)

    def queue_event(
        self, tenant_id: uuid.UUID, event: EventType, dyad_id: uuid.UUID, payload: str,
        deliveries: Sequence[tuple[uuid.UUID, uuid.UUID]], now: datetime,
    ) -> None:  # fmt: skip
        """Write the pending ``(delivery id, webhook id)`` deliveries of one event, in the
        caller's transaction: no event without its write, no event for a write rolled back."""
        self._c.execute(
            insert(webhook_deliveries),
            [
                {"id": delivery_id, "tenant_id": tenant_id, "webhook_id": webhook_id,
                 "dyad_id": dyad_id, "event_type": event.value, "payload": payload,
                 "status": _PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
                for delivery_id, webhook_id in deliveries
            ],
        )  # fmt: skip

    def deliveries(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[Delivery]:
        query = owned(webhook_deliveries, tenant_id).where(
            webhook_deliveries.c.webhook_id == webhook_id
        )
        return [
            _delivery(r) for r in self._c.execute(page(query, webhook_deliveries, after, limit))
        ]

    def redeliver(
        self, tenant_id: uuid.UUID, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
    ) -> Delivery | None:
        """Send a delivery again (as a new try of the same message), whatever its status."""
        self._c.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.tenant_id == tenant_id,
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.id == delivery_id,
            )
            .values(status=_PENDING, next_attempt_at=now, leased_until=None, attempts=0)
        )
        query = owned(webhook_deliveries, tenant_id).where(
            webhook_deliveries.c.webhook_id == webhook_id, webhook_deliveries.c.id == delivery_id
        )
        row = self._c.execute(query).first()
        return None if row is None else _delivery(row)

    def claim_deliveries(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[tuple[Delivery, str, str, str]]:
        """Due deliveries of every tenant, leased to the caller until ``lease_until``: each
        with its URL, secret and payload. The delivery worker serves all tenants, so this
        is the one read of the outbox without a tenant filter.

        A delivery is due when its time has come, no process holds a live lease on it, and
        no earlier delivery of the same webhook and dyad is still pending: events of one
        dyad arrive in order. On PostgreSQL, rows another process is claiming at the same
        moment are skipped (SKIP LOCKED); SQLite has one writer.
        """
        earlier = aliased(webhook_deliveries)
        due = (
            select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.status == _PENDING,
                webhook_deliveries.c.next_attempt_at <= now,
                (webhook_deliveries.c.leased_until.is_(None))
                | (webhook_deliveries.c.leased_until < now),
                ~exists().where(
                    and_(
                        earlier.c.webhook_id == webhook_deliveries.c.webhook_id,
                        earlier.c.dyad_id == webhook_deliveries.c.dyad_id,
                        earlier.c.status == _PENDING,
                        earlier.c.id < webhook_deliveries.c.id,
                    )
                ),
            )
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=webhook_deliveries)
        ids = [row.id for row in self._c.execute(due)]
        if not ids:
            return []
        self._c.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(ids))
            .values(leased_until=lease_until)
        )
        rows = self._c.execute(
            select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .where(webhook_deliveries.c.id.in_(ids))
            .order_by(webhook_deliveries.c.id)
        )
        return [(_delivery(r), r.url, r.secret, r.payload) for r in rows]

    def settle_delivery(
        self, delivery: Delivery, status_code: int | None, error: str | None,
        retry_at: datetime | None, now: datetime,
    ) -> None:  # fmt: skip
        """Record a try: delivered on a 2xx, else pending until ``retry_at`` or failed."""
        if status_code is not None and 200 <= status_code < 300:
            status, retry_at = DeliveryStatus.DELIVERED, None
        else:
            status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
        self._c.execute(
            update(webhook_deliveries)
            .where(
                webhook_deliveries.c.tenant_id == delivery.tenant_id,
                webhook_deliveries.c.id == delivery.id,
            )
            .values(
                status=status.value, attempts=webhook_deliveries.c.attempts + 1,
                next_attempt_at=retry_at, leased_until=None, last_status_code=status_code,
                last_error=None if error is None else error[:200],
                delivered_at=now if status is DeliveryStatus.DELIVERED else None,
            )
        )  # fmt: skip


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        row.id, row.tenant_id, row.url,
        frozenset(EventType(e) for e in row.events.split(",") if e), row.created_at,
    )  # fmt: skip


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        row.id, row.tenant_id, row.webhook_id, EventType(row.event_type), row.dyad_id,
        DeliveryStatus(row.status), row.attempts, row.next_attempt_at, row.last_status_code,
        row.last_error, row.created_at, row.delivered_at,
    )  # fmt: skip
