"""View links and the dyad page, in-process on SQLite and PostgreSQL: what a link opens,
for how long, for whom, and that every use is audited. (The page in a real browser:
tests/e2e/test_dyad_page_browser.py.)"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from service.app.auth import revoke_api_key
from service.settings import Settings
from service.store.repository import SqlStore
from tests.charts_support import seed_dyad
from tests.conftest import Api, migrated, running_api


async def _audit(api: Api, tenant_name: str, action: str) -> list[tuple[str, str | None]]:
    def read(connection: Any) -> list[Any]:
        store = SqlStore(connection)
        tenant = store.tenant_by_name(tenant_name)
        assert tenant is not None
        return list(store.audit_events(tenant.id))

    events = await api.services.database.read(read)
    return [(e.outcome, e.detail) for e in events if e.action == action]


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


async def _link(client: httpx.AsyncClient, dyad: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/dyads/{dyad}/view-links", json=body)
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


async def test_a_link_opens_the_dyad_page_read_only_and_is_audited_on_every_use(
    api: Api,
) -> None:
    client = await api.client_for("clinic-a")
    dyad, _ = await seed_dyad(client, 8)
    before = datetime.now(UTC)
    link = await _link(client, dyad)
    expires = datetime.fromisoformat(link["expires_at"])
    assert before + timedelta(seconds=899) <= expires <= before + timedelta(seconds=901)
    assert link["url"].startswith("http://rapport.test/view/")
    bare = httpx.AsyncClient(transport=api.http._transport, base_url="http://rapport.test")
    for _ in range(2):
        page = await bare.get(_path(link["url"]))  # no API key: the link is the credential
        assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp  # default-src 'none' forbids every script
    assert "frame-ancestors 'none'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    html = page.text
    assert html.count("<svg") == 2
    assert 'id="progress-title"' in html
    assert 'id="alliance-title"' in html
    assert 'data-kind="risk"' in html
    assert "A risk item was endorsed at session 2 (item 9)." in html
    assert 'data-kind="rupture"' in html
    assert "Discordance is descriptive information, not an outcome predictor" in html
    assert "No validated threshold exists.</p>" in html
    assert await _audit(api, "clinic-a", "view-link.create") == [("success", None)]
    assert await _audit(api, "clinic-a", "view-link.open") == [("success", None)] * 2
    stylesheet = await bare.get("/view/page.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


async def test_a_link_lasts_at_most_fifteen_minutes(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad, _ = await seed_dyad(client, 2)
    short = await _link(client, dyad, expires_in=60)
    expires = datetime.fromisoformat(short["expires_at"])
    assert expires <= datetime.now(UTC) + timedelta(seconds=61)
    too_long = await client.post(f"/v1/dyads/{dyad}/view-links", json={"expires_in": 901})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["pointer"] == "/expires_in"


async def test_an_expired_link_is_refused_and_the_refusal_audited(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad, _ = await seed_dyad(client, 2)
    link = await _link(client, dyad, expires_in=1)
    await asyncio.sleep(1.2)
    page = await client.get(_path(link["url"]))
    assert page.status_code == 403
    assert "<svg" not in page.text
    assert "expired" in page.text
    assert await _audit(api, "clinic-a", "view-link.open") == [("denied", "expired")]


async def test_revoking_the_key_kills_its_links_at_once(api: Api) -> None:
    token = await api.token("clinic-a")
    client = httpx.AsyncClient(
        transport=api.http._transport, base_url="http://rapport.test",
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    dyad, _ = await seed_dyad(client, 2)
    link = await _link(client, dyad)
    assert (await client.get(_path(link["url"]))).status_code == 200
    await revoke_api_key(api.services.transact, token)
    page = await client.get(_path(link["url"]))
    assert page.status_code == 403
    assert "<svg" not in page.text
    assert ("denied", "key-revoked") in await _audit(api, "clinic-a", "view-link.open")


async def test_an_altered_or_foreign_link_is_refused_as_not_found(api: Api) -> None:
    a = await api.client_for("clinic-a")
    b = await api.client_for("clinic-b")
    dyad_a, _ = await seed_dyad(a, 2)
    dyad_b, _ = await seed_dyad(b, 2)
    link_a = _path((await _link(a, dyad_a))["url"])
    link_b = _path((await _link(b, dyad_b))["url"])
    tenant_a, signed_a = link_a.removeprefix("/view/").split(".", 1)
    tenant_b, signed_b = link_b.removeprefix("/view/").split(".", 1)
    # The signature's last character carries two bits of padding ('A' and 'B' decode alike),
    # so the one before it is changed.
    near_last = signed_a[-2]
    altered = [
        f"/view/{tenant_a}.{signed_a[:-2]}{'A' if near_last != 'A' else 'B'}{signed_a[-1]}",
        f"/view/{tenant_b}.{signed_a}",  # A's link presented as tenant B's
        f"/view/{tenant_a}.{signed_b}",  # B's link presented as tenant A's
        f"/view/{uuid.uuid4()}.{signed_a}",  # a tenant that does not exist
        f"/view/{tenant_a}",  # no payload
        "/view/not-a-link",
        f"/view/{tenant_a}.{signed_a.replace('.', '', 1)}",  # payload and signature joined
    ]
    for path in altered:
        page = await a.get(path)
        assert page.status_code == 404, path
        assert "<svg" not in page.text
        assert dyad_a[-8:] not in page.text
        assert dyad_b[-8:] not in page.text
    # A valid link of tenant A opens A's dyad alone: its page names no other dyad.
    page = await a.get(link_a)
    assert page.status_code == 200
    assert dyad_a[-8:] in page.text
    assert dyad_b[-8:] not in page.text


async def test_a_link_to_another_tenants_dyad_cannot_be_created(api: Api) -> None:
    a = await api.client_for("clinic-a")
    b = await api.client_for("clinic-b")
    dyad_a, _ = await seed_dyad(a, 1)
    response = await b.post(f"/v1/dyads/{dyad_a}/view-links", json={})
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"


@pytest.mark.parametrize("ancestors", ["https://ehr.example.org", "'self' https://a.example"])
async def test_frame_ancestors_come_from_the_setting(sqlite_url: str, ancestors: str) -> None:
    migrated(sqlite_url)
    from service.api.app import create_app

    app = create_app(Settings(database_url=sqlite_url, frame_ancestors=ancestors))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rapport.test") as c:
            api = Api(c, app.state.services)
            client = await api.client_for("clinic-a")
            dyad, _ = await seed_dyad(client, 1)
            page = await client.get(_path((await _link(client, dyad))["url"]))
    assert page.status_code == 200
    assert re.search(
        rf"frame-ancestors {re.escape(ancestors)}$", page.headers["content-security-policy"]
    )
    assert "x-frame-options" not in page.headers


def test_frame_ancestors_refuse_a_directive_break() -> None:
    with pytest.raises(ValueError, match="frame_ancestors"):
        Settings(frame_ancestors="https://ehr.example; script-src *")


async def test_the_page_of_a_dyad_without_data_says_so(api: Api) -> None:
    client = await api.client_for("clinic-a")
    patient = (await client.post("/v1/patients", json={"external_id": "empty"})).json()["id"]
    practitioner = (await client.post("/v1/practitioners", json={"external_id": "t"})).json()["id"]
    dyad = (
        await client.post(
            "/v1/dyads", json={"patient_id": patient, "practitioner_id": practitioner}
        )
    ).json()["id"]
    page = await client.get(_path((await _link(client, dyad))["url"]))
    assert page.status_code == 200
    assert "No outcome measure has been scored yet." in page.text
    assert "No open alerts." in page.text
    assert "<svg" not in page.text


__all__ = ["running_api"]
