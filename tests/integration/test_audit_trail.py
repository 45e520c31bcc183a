"""The audit trail (issue 16, item 6): every refusal and failure leaves a row, the rows form
a hash chain per tenant that ``rapport audit verify`` checks, and a tenant reads its own
trail through ``GET /v1/audit-events`` with a key holding the ``audit`` scope."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import column as sa_column
from sqlalchemy import text

from service.api.app import create_app
from service.app.audit_trail import verify
from service.app.auth import issue_api_key
from service.bootstrap import Services
from service.cli.main import main as cli
from service.domain.records import Scope
from service.settings import Settings
from service.store.engine import create_engine
from tests.conftest import migrated

PHQ9 = {str(i): 1 for i in range(1, 10)}


@asynccontextmanager
async def serving(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """Rapport in-process; a 500 is answered (not re-raised into the test)."""
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://rapport.test") as c:
            yield c, app.state.services


async def _key(services: Services, tenant: str, *scopes: Scope) -> dict[str, str]:
    token = await issue_api_key(services.transact, tenant, frozenset(scopes or Scope))
    return {"Authorization": f"Bearer {token}"}


def _rows(url: str, tenant: str = "clinic-a") -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return list(
                c.execute(
                    text(
                        "SELECT e.* FROM audit_events e JOIN tenants t ON t.id = e.tenant_id "
                        "WHERE t.name = :name ORDER BY e.seq"
                    ),
                    {"name": tenant},
                )
            )
    finally:
        engine.dispose()


def _sql(url: str, statement: str, **params: Any) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as c:
            c.execute(text(statement), params)
    finally:
        engine.dispose()


async def _dyad(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    patient = await client.post("/v1/patients", json={"external_id": "p-1"}, headers=headers)
    practitioner = await client.post(
        "/v1/practitioners", json={"external_id": "t-1", "display_name": "T"}, headers=headers
    )
    dyad = await client.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
        headers=headers,
    )
    assert dyad.status_code == 201, dyad.text
    return str(dyad.json()["id"])


# Every refusal and failure leaves a row -----------------------------------------------------


async def test_refusals_and_failures_are_audited(database_url: str) -> None:
    migrated(database_url)
    async with serving(database_url) as (client, services):
        headers = await _key(services, "clinic-a")
        dyad = await _dyad(client, headers)
        before = len(_rows(database_url))

        # 422: invalid answers to an existing dyad.
        bad = {"instrument": "phq-9", "session": 1, "responses": PHQ9 | {"1": 7}}
        r = await client.post(f"/v1/dyads/{dyad}/administrations", json=bad, headers=headers)
        assert r.status_code == 422
        # 422: a malformed id.
        r = await client.get("/v1/dyads/not-a-uuid/administrations", headers=headers)
        assert r.status_code == 422
        # 401: a known key prefix with a wrong secret.
        prefix = headers["Authorization"].split("_")[1]
        wrong = {"Authorization": f"Bearer rap_{prefix}_{'x' * 43}"}
        r = await client.get(f"/v1/dyads/{dyad}/administrations", headers=wrong)
        assert r.status_code == 401
        # 500: the use case fails unexpectedly.
        records: Any = services.records

        async def broken(*_args: Any) -> Any:
            raise RuntimeError("boom")

        records.patient = broken
        r = await client.get(f"/v1/patients/{uuid.uuid4()}", headers=headers)
        assert r.status_code == 500

    new = [(e.action, e.outcome, e.detail) for e in _rows(database_url)[before:]]
    # Answers are refused before any transaction, by the use case, which audits it once.
    assert new[0] == ("administration.create", "invalid", "invalid-responses")
    assert new[1] == ("GET /v1/dyads/{dyad_id}/administrations", "invalid", "validation-failed")
    assert new[2] == ("authenticate", "unauthenticated", "wrong-secret")
    assert new[3][:2] == ("GET /v1/patients/{patient_id}", "error")
    assert new[3][2].startswith("internal-error incident ")
    assert len(new) == 4
    # No value the caller sent reaches the trail.
    assert not any("not-a-uuid" in str(row) or "x" * 20 in str(row) for row in new)


async def test_graphql_refusals_are_audited_as_on_rest(database_url: str) -> None:
    migrated(database_url)
    async with serving(database_url) as (client, services):
        headers = await _key(services, "clinic-a")
        dyad = await _dyad(client, headers)
        before = len(_rows(database_url))
        mutation = (
            "mutation($i: AdministrationInput!) { submitAdministration(input: $i) { __typename } }"
        )
        bad = {"dyadId": dyad, "instrument": "phq-9", "session": 1,
               "responses": [{"item": "1", "value": 7}]}  # fmt: skip
        r = await client.post(
            "/graphql", json={"query": mutation, "variables": {"i": bad}}, headers=headers
        )
        assert r.status_code == 200
        assert r.json()["data"]["submitAdministration"]["__typename"] != "Administration"
    new = [(e.action, e.outcome, e.detail) for e in _rows(database_url)[before:]]
    assert new == [("administration.create", "invalid", "invalid-responses")]


# The hash chain -------------------------------------------------------------------------------


async def _activity(url: str) -> None:
    migrated(url)
    async with serving(url) as (client, services):
        headers = await _key(services, "clinic-a")
        other = await _key(services, "clinic-b")
        await _dyad(client, headers)
        await _dyad(client, other)
        for _ in range(3):
            await client.get("/v1/patients", headers=headers)


async def _verify(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """The real command (it runs its own event loop, hence the thread)."""
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    return await asyncio.to_thread(cli, ["audit", "verify", *args])


async def test_an_untouched_trail_verifies(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await _activity(database_url)
    rows = _rows(database_url)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert await _verify(database_url, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "tenant 'clinic-a'" in out
    assert "tenant 'clinic-b'" in out
    assert "intact" in out


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("update", "content does not match its hash"),
        ("delete-middle", "events are missing"),
        ("delete-last", "newest events were deleted"),
        ("insert-forged", "prev_hash does not match"),
        ("insert-rehashed", "chain head"),
        ("update-head", "chain head"),
    ],
)
async def test_tampering_behind_the_services_back_is_caught(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tamper: str, expected: str,
) -> None:  # fmt: skip
    await _activity(database_url)
    rows = _rows(database_url)
    middle, last = rows[len(rows) // 2], rows[-1]
    if tamper == "update":
        _sql(database_url, "UPDATE audit_events SET outcome = 'denied' WHERE id = :id",
             id=middle.id)  # fmt: skip
    elif tamper == "delete-middle":
        _sql(database_url, "DELETE FROM audit_events WHERE id = :id", id=middle.id)
    elif tamper == "delete-last":
        _sql(database_url, "DELETE FROM audit_events WHERE id = :id", id=last.id)
    elif tamper in ("insert-forged", "insert-rehashed"):
        from service.domain.audit_chain import event_hash
        from service.domain.records import AuditEvent, Outcome

        when = last.occurred_at  # raw text on SQLite, a datetime on PostgreSQL
        if isinstance(when, str):
            when = datetime.fromisoformat(when).replace(tzinfo=UTC)
        forged = AuditEvent(
            uuid.uuid4(), uuid.UUID(str(last.tenant_id)), last.actor, "patient.read",
            "patient", str(uuid.uuid4()), Outcome.SUCCESS, when, None,
        )  # fmt: skip
        seq = last.seq + 1
        prev = last.hash if tamper == "insert-rehashed" else "f" * 64
        _sql(
            database_url,
            "INSERT INTO audit_events (id, tenant_id, actor, action, object_type, object_id,"
            " outcome, occurred_at, detail, seq, prev_hash, hash) VALUES (:id, :tenant_id,"
            " :actor, :action, :object_type, :object_id, :outcome, :occurred_at, NULL, :seq,"
            " :prev_hash, :hash)",
            id=forged.id.hex if isinstance(last.id, str) else forged.id,
            tenant_id=last.tenant_id, actor=forged.actor,
            action=forged.action, object_type=forged.object_type, object_id=forged.object_id,
            outcome="success", occurred_at=last.occurred_at, seq=seq, prev_hash=prev,
            hash=event_hash(forged, seq, prev),
        )  # fmt: skip
    elif tamper == "update-head":
        _sql(database_url, "UPDATE audit_chain_heads SET seq = seq - 1 WHERE tenant_id = :t",
             t=last.tenant_id)  # fmt: skip
    capsys.readouterr()
    assert await _verify(database_url, monkeypatch) == 1
    out = capsys.readouterr().out
    assert "tenant 'clinic-b'" in out
    assert "intact" in out
    broken = next(line for line in out.splitlines() if "clinic-a" in line)
    assert "BROKEN at seq" in broken
    assert expected in broken
    if tamper in ("update", "delete-middle"):
        shown = middle.seq if tamper == "update" else middle.seq + 1
        assert f"seq {shown} " in broken
    # One tenant only, by name.
    assert await _verify(database_url, monkeypatch, "--tenant", "clinic-b") == 0
    assert await _verify(database_url, monkeypatch, "--tenant", "clinic-a") == 1


async def test_concurrent_writers_in_two_processes_keep_one_chain(database_url: str) -> None:
    """Two app instances (two engines, as two processes would have) write at once."""
    migrated(database_url)
    async with serving(database_url) as (one, s1), serving(database_url) as (two, s2):
        headers = await _key(s1, "clinic-a")

        async def create(client: httpx.AsyncClient, n: int) -> int:
            r = await client.post("/v1/patients", json={"external_id": f"p{n}"}, headers=headers)
            return r.status_code

        statuses = await asyncio.gather(
            *(create(one if n % 2 else two, n) for n in range(60)),
            *(one.get("/v1/patients", headers=headers) for _ in range(20)),
        )
        assert statuses[:60] == [201] * 60
        verdicts = await verify(s2.transact, "clinic-a")
    assert [v.broken for v in verdicts] == [None]
    rows = _rows(database_url)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) >= 1 + 60 + 20  # key creation, the creates, the lists


async def test_verify_names_an_unknown_tenant(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated(sqlite_url)
    assert await _verify(sqlite_url, monkeypatch, "--tenant", "nobody") == 1
    assert "nobody" in capsys.readouterr().err


# GET /v1/audit-events -------------------------------------------------------------------------


async def test_a_tenant_reads_its_own_trail_with_the_audit_scope(database_url: str) -> None:
    migrated(database_url)
    async with serving(database_url) as (client, services):
        writer = await _key(services, "clinic-a", Scope.READ, Scope.WRITE)
        auditor = await _key(services, "clinic-a", Scope.AUDIT)
        other = await _key(services, "clinic-b", Scope.AUDIT)
        await _dyad(client, writer)
        patient = (await client.post("/v1/patients", json={"external_id": "p-2"},
                                     headers=writer)).json()["id"]  # fmt: skip
        await client.get(f"/v1/patients/{patient}", headers=writer)

        refused = await client.get("/v1/audit-events", headers=writer)
        assert refused.status_code == 403
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
            r = await client.get("/v1/audit-events", params=params, headers=auditor)
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"items", "next_cursor"}
            seen += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        ids = [e["id"] for e in seen]
        assert len(ids) == len(set(ids))
        assert ids == sorted(ids)
        actions = [e["action"] for e in seen]
        assert "patient.create" in actions
        assert "patient.read" in actions
        assert any(e["action"] == "audit-event.list" and e["outcome"] == "denied" for e in seen)
        assert all(len(e["hash"]) == 64 for e in seen)
        assert "p-2" not in r.text  # external identifiers never enter the trail

        by_object = await client.get(
            "/v1/audit-events", params={"object_type": "patient", "object_id": patient},
            headers=auditor,
        )  # fmt: skip
        assert [(e["action"], e["object_id"]) for e in by_object.json()["items"]] == [
            ("patient.create", patient), ("patient.read", patient),
        ]  # fmt: skip
        read_at = next(e for e in seen if e["action"] == "patient.read")["occurred_at"]
        since = await client.get(
            "/v1/audit-events", params={"since": read_at, "object_type": "patient"},
            headers=auditor,
        )  # fmt: skip
        assert [e["action"] for e in since.json()["items"]] == ["patient.read"]
        until = await client.get(
            "/v1/audit-events", params={"until": read_at, "object_id": patient}, headers=auditor
        )
        assert [e["action"] for e in until.json()["items"]] == ["patient.create"]
        naive = await client.get(
            "/v1/audit-events", params={"since": "2026-01-01T00:00:00"}, headers=auditor
        )
        assert naive.status_code == 422

        theirs = await client.get("/v1/audit-events", params={"limit": 200}, headers=other)
        assert patient not in theirs.text


def test_keys_created_without_a_scope_cannot_read_the_trail(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", sqlite_url)
    assert cli(["create-api-key", "--tenant", "clinic-a"]) == 0
    assert "scopes read, write." in capsys.readouterr().out.replace(" with", "")
    assert cli(["create-api-key", "--tenant", "clinic-a", "--scope", "audit"]) == 0
    assert "scopes audit" in capsys.readouterr().out


async def test_the_migration_chains_the_events_that_existed_before_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import Uuid, insert, table

    from service.store import migrate
    from service.store.types import UtcDateTime

    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, "0004")
        tenants = table("tenants", sa_column("id", Uuid()), sa_column("name"),
                        sa_column("created_at", UtcDateTime()))  # fmt: skip
        events = table(
            "audit_events", sa_column("id", Uuid()), sa_column("tenant_id", Uuid()),
            sa_column("actor"), sa_column("action"), sa_column("object_type"),
            sa_column("object_id"), sa_column("outcome"),
            sa_column("occurred_at", UtcDateTime()), sa_column("detail"),
        )  # fmt: skip
        tenant = uuid.uuid4()
        now = datetime.now(UTC)
        with engine.begin() as c:
            c.execute(insert(tenants).values(id=tenant, name="clinic-a", created_at=now))
            c.execute(
                insert(events),
                [
                    {"id": uuid.uuid4(), "tenant_id": tenant, "actor": "cli", "action": "x.read",
                     "object_type": "x", "object_id": str(n), "outcome": "success",
                     "occurred_at": now + timedelta(seconds=n), "detail": None}
                    for n in (3, 1, 2)
                ],
            )  # fmt: skip
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    rows = _rows(database_url)
    assert [(r.seq, r.object_id) for r in rows] == [(1, "1"), (2, "2"), (3, "3")]
    assert await _verify(database_url, monkeypatch) == 0
    _sql(database_url, "UPDATE audit_events SET object_id = '9' WHERE seq = 2")
    assert await _verify(database_url, monkeypatch) == 1


async def test_fhir_refusals_are_audited(database_url: str) -> None:
    from tests.integration.test_fhir import FHIR, phq9_response

    migrated(database_url)
    async with serving(database_url) as (client, services):
        headers = await _key(services, "clinic-a")
        dyad = await _dyad(client, headers)
        before = len(_rows(database_url))
        qr = phq9_response([1] * 9)
        r = await client.post(
            "/fhir/R4/QuestionnaireResponse", params={"dyad": dyad}, json=qr,
            headers=headers | FHIR,
        )  # fmt: skip
        assert r.status_code == 422  # its subject is not the dyad's patient
        r = await client.get("/fhir/R4/Flag/not-a-uuid", headers=headers)
        assert r.status_code == 404  # an id that cannot exist is not found, as FHIR reads say
    new = [(e.action, e.outcome, e.detail) for e in _rows(database_url)[before:]]
    assert new == [
        ("POST /fhir/R4/QuestionnaireResponse", "invalid", "validation-failed"),
        ("GET /fhir/R4/Flag/{alert_id}", "not-found", "not-found"),
    ]
