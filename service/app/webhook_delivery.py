"""The delivery worker: sends the webhook outbox, signed, with retries.

Each process runs one worker. It claims due deliveries with a lease (on PostgreSQL rows
being claimed elsewhere are skipped), so with several processes each delivery is sent by
one of them; a process killed mid-send leaves its lease to expire and another try follows.
So delivery is at least once: receivers de-duplicate on the ``webhook-id`` header, which is
the same on every try of one delivery. Events of one dyad go out in order (the claim holds
back a delivery while an earlier one of its dyad is pending).

Every request is signed as the Standard Webhooks specification says (the standardwebhooks
package signs), goes only to hosts in ``RAPPORT_WEBHOOK_ALLOWED_HOSTS`` and never follows
a redirect: a webhook must not become a way into the clinic's network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook as Signer

from service.app.ports import Transact
from service.domain.webhooks import Delivery, Retry

log = logging.getLogger("rapport.webhooks")


class DeliveryWorker:
    def __init__(
        self, transact: Transact, allowed_hosts: frozenset[str], retry: Retry,
        poll_seconds: float = 1.0, batch: int = 20, lease_seconds: float = 60.0,
        timeout_seconds: float = 10.0,
    ) -> None:  # fmt: skip
        self._transact = transact
        self._allowed_hosts = allowed_hosts
        self._retry = retry
        self._poll = poll_seconds
        self._batch = batch
        self._lease = timedelta(seconds=lease_seconds)
        self._timeout = timeout_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; a failure of one round is logged, not fatal."""
        async with httpx.AsyncClient(follow_redirects=False, timeout=self._timeout) as client:
            while not stop.is_set():
                try:
                    sent = await self.deliver_due(client)
                except Exception:  # the database may be away for a moment: try again later
                    log.exception("webhook delivery round failed")
                    sent = 0
                if sent == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._poll)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Claim and send one batch of due deliveries; how many were tried."""
        now = datetime.now(UTC)
        claimed = await self._transact(
            lambda store: store.claim_deliveries(now, now + self._lease, self._batch)
        )
        await asyncio.gather(
            *(self._deliver(client, d, url, secret, body) for d, url, secret, body in claimed)
        )
        return len(claimed)

    async def _deliver(
        self, client: httpx.AsyncClient, delivery: Delivery, url: str, secret: str, body: str
    ) -> None:
        status, error = await self._send(client, delivery, url, secret, body)
        now = datetime.now(UTC)
        delivered = status is not None and 200 <= status < 300
        retry_at = None if delivered else self._retry.after(delivery.attempts + 1, now)
        await self._transact(
            lambda store: store.settle_delivery(delivery, status, error, retry_at, now)
        )
        if not delivered:
            log.warning(
                "webhook delivery %s try %d failed (%s)%s", delivery.id, delivery.attempts + 1,
                error or status, "" if retry_at else "; no more tries",
            )  # fmt: skip

    async def _send(
        self, client: httpx.AsyncClient, delivery: Delivery, url: str, secret: str, body: str
    ) -> tuple[int | None, str | None]:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._allowed_hosts:
            return None, "host not allowed (RAPPORT_WEBHOOK_ALLOWED_HOSTS)"
        now = datetime.now(UTC)
        message_id = str(delivery.id)
        headers = {
            "content-type": "application/json",
            "user-agent": "Rapport-Webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(secret).sign(message_id, now, body),
        }
        try:
            answer = await client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return None, f"no answer: {type(exc).__name__}"
        if answer.is_redirect:
            return answer.status_code, "redirect not followed"
        return answer.status_code, None if answer.is_success else f"HTTP {answer.status_code}"
