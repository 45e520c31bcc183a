"""Alert webhooks (Standard Webhooks): subscribed, written to an outbox with the alert, sent
signed to a real receiving server, retried with backoff, in order per dyad, only to allowed
hosts and never through a redirect."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from service.api.app import create_app
from service.app.ports import Store
from service.app.webhooks import Webhooks, queue_alert_event
from service.domain.alerts import Alert, AlertKind, AlertStatus, Severity
from service.domain.ids import new_id
from service.domain.webhooks import Delivery, EventType
from service.settings import Settings
from tests.conftest import Api, migrated
from tests.integration.webhook_receiver import Receiver, receiving

PHQ9 = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "9": 0}
EVENTS = ["alert.raised", "alert.acknowledged", "alert.resolved"]


@asynccontextmanager
async def rapport(url: str, **settings: object) -> AsyncIterator[Api]:
    """Rapport in-process with its delivery worker, polling fast, retrying fast."""
    migrated(url)
    chosen = {"webhook_allowed_hosts": "127.0.0.1", "webhook_retry_seconds": 0.05,
              "webhook_poll_seconds": 0.05} | settings  # fmt: skip
    app = create_app(Settings(database_url=url, **chosen))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rapport.test") as c:
            yield Api(c, app.state.services)


@dataclass
class Clinic:
    client: httpx.AsyncClient
    dyad: str

    async def store(self, session: int, item9: int = 0) -> None:
        body = {"instrument": "phq-9", "session": session, "responses": PHQ9 | {"9": item9}}
        answer = await self.client.post(f"/v1/dyads/{self.dyad}/administrations", json=body)
        assert answer.status_code == 201, answer.text

    async def subscribe(self, url: str, events: list[str] = EVENTS) -> dict[str, str]:
        answer = await self.client.post("/v1/webhooks", json={"url": url, "events": events})
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def first_delivery_failed(self, webhook_id: str) -> list[dict[str, Any]]:
        """The webhook's deliveries, once the first has failed for good (at most 5 s)."""
        for _ in range(100):
            answer = await self.client.get(f"/v1/webhooks/{webhook_id}/deliveries")
            items: list[dict[str, Any]] = answer.json()["items"]
            if items and items[0]["status"] == "failed":
                return items
            await asyncio.sleep(0.05)
        raise AssertionError(f"the first delivery did not fail: {items}")

    async def alerts(self) -> list[dict[str, object]]:
        answer = await self.client.get("/v1/alerts", params={"dyad_id": self.dyad})
        return answer.json()["items"]  # type: ignore[no-any-return]


async def clinic(api: Api, tenant: str = "clinic-a") -> Clinic:
    client = await api.client_for(tenant)
    tag = uuid.uuid4().hex[:6]
    patient = await client.post("/v1/patients", json={"external_id": f"MRN-{tag}"})
    practitioner = await client.post("/v1/practitioners", json={"external_id": f"NPI-{tag}"})
    dyad = await client.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )
    return Clinic(client, dyad.json()["id"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def verified(secret: str, received: object) -> dict[str, object]:
    """The body, after the standardwebhooks package checked the signature headers."""
    payload = Webhook(secret).verify(received.body, received.headers)  # type: ignore[attr-defined]
    return payload  # type: ignore[no-any-return]


async def test_alert_events_arrive_signed_and_in_order(
    database_url: str, receiver: Receiver
) -> None:
    async with rapport(database_url) as api:
        clinic_a = await clinic(api)
        hook = await clinic_a.subscribe(receiver.url)
        assert hook["secret"].startswith("whsec_")
        assert sorted(hook["events"]) == sorted(EVENTS)
        await clinic_a.store(1, item9=2)  # a risk alert
        [alert] = await clinic_a.alerts()
        ack = await clinic_a.client.post(
            f"/v1/alerts/{alert['id']}/acknowledge", json={"note": "called", "actor": "ehr-user-7"}
        )
        assert ack.status_code == 200
        assert ack.json()["acknowledged_actor"] == "ehr-user-7"
        assert ack.json()["acknowledged_by"] != "ehr-user-7"  # the key, beside the actor
        resolved = await clinic_a.client.post(
            f"/v1/alerts/{alert['id']}/resolve", json={"actor": "NPI-9"}
        )
        assert resolved.json()["resolved_actor"] == "NPI-9"
        arrived = await asyncio.to_thread(receiver.wait_for, 3)
        bodies = [verified(hook["secret"], r) for r in arrived]
        assert [b["type"] for b in bodies] == EVENTS
        for body in bodies:
            data = body["data"]
            assert data["alert_id"] == alert["id"]  # type: ignore[index]
            assert data["dyad_id"] == clinic_a.dyad  # type: ignore[index]
            assert data["links"]["alert"] == f"/v1/alerts/{alert['id']}"  # type: ignore[index]
        # Ids, kinds and links: never answers, scores or identifiers of the patient.
        raw = b"".join(r.body for r in arrived).decode()
        for leaked in ('"responses"', '"total"', '"score"', "MRN-", "evidence"):
            assert leaked not in raw
        ids = {r.headers["webhook-id"] for r in arrived}
        listed = await clinic_a.client.get(f"/v1/webhooks/{hook['id']}/deliveries")
        assert {d["id"] for d in listed.json()["items"]} == ids
        assert {d["status"] for d in listed.json()["items"]} == {"delivered"}


async def test_a_receiver_down_for_a_while_gets_every_event_in_order(
    database_url: str, receiver: Receiver
) -> None:
    receiver.answer = lambda n: (503, {}) if n < 4 else (200, {})
    async with rapport(database_url) as api:
        clinic_a = await clinic(api)
        hook = await clinic_a.subscribe(receiver.url, ["alert.raised"])
        await clinic_a.store(1, item9=1)
        await clinic_a.store(2, item9=2)  # new evidence: a second risk alert, same dyad
        alerts = await clinic_a.alerts()
        assert len(alerts) == 2
        arrived = await asyncio.to_thread(receiver.wait_for, 2)
        order = [verified(hook["secret"], r)["data"]["alert_id"] for r in arrived]  # type: ignore[index]
        assert order == [a["id"] for a in alerts]  # oldest first, never overtaken
        listed = (await clinic_a.client.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()
        assert [d["status"] for d in listed["items"]] == ["delivered", "delivered"]
        assert listed["items"][0]["attempts"] == 5  # four refusals, then accepted
        # Every try of one delivery carries the same webhook-id.
        first = listed["items"][0]["id"]
        assert sum(r.headers["webhook-id"] == first for r in receiver.received) == 5


async def test_a_delivery_fails_after_its_tries_and_can_be_sent_again(
    database_url: str, receiver: Receiver
) -> None:
    receiver.answer = lambda n: (500, {}) if n < 2 else (204, {})
    async with rapport(database_url, webhook_max_attempts=2) as api:
        clinic_a = await clinic(api)
        hook = await clinic_a.subscribe(receiver.url)
        await clinic_a.store(1, item9=1)
        path = f"/v1/webhooks/{hook['id']}/deliveries"
        items = await clinic_a.first_delivery_failed(hook["id"])
        assert (items[0]["attempts"], items[0]["last_status_code"]) == (2, 500)
        again = await clinic_a.client.post(f"{path}/{items[0]['id']}/redeliver")
        assert again.status_code == 202
        arrived = await asyncio.to_thread(receiver.wait_for, 1)
        assert arrived[0].headers["webhook-id"] == items[0]["id"]
        verified(hook["secret"], arrived[0])


async def test_redirects_are_not_followed(database_url: str, receiver: Receiver) -> None:
    with receiving() as elsewhere:
        receiver.answer = lambda n: (302, {"Location": elsewhere.url})
        async with rapport(database_url, webhook_max_attempts=2) as api:
            clinic_a = await clinic(api)
            hook = await clinic_a.subscribe(receiver.url)
            await clinic_a.store(1, item9=1)
            items = await clinic_a.first_delivery_failed(hook["id"])
            assert items[0]["last_status_code"] == 302
            assert items[0]["last_error"] == "redirect not followed"
        assert elsewhere.received == []
        assert len(receiver.received) == 2


async def test_only_allowed_hosts_can_be_subscribed(database_url: str) -> None:
    async with rapport(database_url) as api:
        clinic_a = await clinic(api)
        for url in ("http://10.0.0.5/hook", "http://localhost/hook", "ftp://127.0.0.1/x",
                    "http://user:pw@127.0.0.1/x"):  # fmt: skip
            answer = await clinic_a.client.post(
                "/v1/webhooks", json={"url": url, "events": ["alert.raised"]}
            )
            assert answer.status_code == 422, url
            assert answer.json()["errors"][0]["pointer"] == "/url", answer.json()
        bad_event = await clinic_a.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1/x", "events": ["alert.eaten"]}
        )
        assert bad_event.status_code == 422
    async with rapport(database_url, webhook_allowed_hosts="") as api:
        clinic_b = await clinic(api, "clinic-b")
        answer = await clinic_b.client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1/x", "events": ["alert.raised"]}
        )
        assert answer.status_code == 422
        assert "RAPPORT_WEBHOOK_ALLOWED_HOSTS" in answer.json()["detail"]


async def test_an_event_exists_exactly_when_its_write_does(database_url: str) -> None:
    # No worker runs here (no allowed host), so the outbox is seen as written.
    async with rapport(database_url, webhook_allowed_hosts="") as api:
        clinic_a = await clinic(api)
        tenant_id = (await api.services.transact(lambda s: s.tenant_by_name("clinic-a"))).id
        webhooks_on = Settings(database_url="sqlite://", webhook_allowed_hosts="127.0.0.1")

        principal = await api.services.authenticator.authenticate(
            clinic_a.client.headers["Authorization"]
        )
        hook = await Webhooks(api.services.transact, webhooks_on.webhook_hosts).create(
            principal, "http://127.0.0.1:9/hook", EVENTS
        )
        alert = Alert(
            new_id(), tenant_id, uuid.UUID(clinic_a.dyad), AlertKind.RISK, Severity.HIGH,
            AlertStatus.OPEN, "test", {}, hook.webhook.created_at,
        )  # fmt: skip

        def rolled_back(store: object) -> None:
            queue_alert_event(store, EventType.ALERT_RAISED, alert)  # type: ignore[arg-type]
            raise RuntimeError("the write failed after the event was queued")

        with pytest.raises(RuntimeError):
            await api.services.transact(rolled_back)

        def listed(store: Store) -> list[Delivery]:
            return store.deliveries(tenant_id, hook.webhook.id, None, 10)

        assert await api.services.transact(listed) == []
        await clinic_a.store(1, item9=1)  # a real alert, committed with its event
        [delivery] = await api.services.transact(listed)
        assert (delivery.event_type, delivery.status.value) == (EventType.ALERT_RAISED, "pending")


def _never(_: int) -> tuple[int, dict[str, str]]:
    raise AssertionError("nothing should be sent")


async def test_a_deleted_webhook_gets_nothing_more(database_url: str, receiver: Receiver) -> None:
    receiver.answer = _never
    async with rapport(database_url) as api:
        clinic_a = await clinic(api)
        hook = await clinic_a.subscribe(receiver.url)
        assert (await clinic_a.client.delete(f"/v1/webhooks/{hook['id']}")).status_code == 204
        assert (await clinic_a.client.get(f"/v1/webhooks/{hook['id']}")).status_code == 404
        assert (await clinic_a.client.get("/v1/webhooks")).json()["items"] == []
        await clinic_a.store(1, item9=1)
        await asyncio.sleep(0.3)
    assert receiver.received == []
