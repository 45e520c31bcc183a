"""The fast lane answers exactly as FastAPI does (service/api/rest/fast_lane.py).

Every scenario runs twice on one database: through an app with the fast lane and through
one without it (``create_app(fast_lane=False)``), each on a dyad of its own. The answers
(status, headers, body) and the audit events must be the same once the ids and times that
differ between two runs are masked; and the lane must have served the valid requests
itself, leaving every other one to FastAPI.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest

from service.api.app import create_app
from service.api.rest.fast_lane import FastLane
from service.app.auth import issue_api_key
from service.bootstrap import Services, build_services
from service.domain.records import Scope
from service.settings import Settings
from service.store.repository import SqlStore
from tests.conftest import migrated

PHQ9 = {str(i): v for i, v in enumerate([2, 2, 1, 1, 1, 1, 1, 1, 0], start=1)}
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")
TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
INCIDENT = re.compile(r"incident [0-9a-f]{32}")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # "{dyad}" is this run's dyad
    headers: dict[str, str]
    body: bytes | None = None


@dataclass
class Clinic:
    services: Services
    writer: str
    reader: str
    other: str  # another tenant's token
    lane: httpx.AsyncClient
    plain: httpx.AsyncClient
    served: list[bool]  # per request through the lane: did the lane answer it itself


@pytest.fixture
async def clinic(sqlite_url: str) -> AsyncIterator[Clinic]:
    migrated(sqlite_url)
    settings = Settings(database_url=sqlite_url)
    services = build_services(settings)
    with_lane = create_app(settings, services)
    without = create_app(settings, services, fast_lane=False)
    assert isinstance(with_lane.fast_lane, FastLane)
    assert getattr(without, "fast_lane", None) is None
    served: list[bool] = []
    serve = with_lane.fast_lane.serve

    async def spied(scope: Any, receive: Any, send: Any) -> Any:
        passed_on = await serve(scope, receive, send)
        served.append(passed_on is None)
        return passed_on

    with_lane.fast_lane.serve = spied  # type: ignore[method-assign]
    try:
        async with (
            with_lane.router.lifespan_context(with_lane),
            without.router.lifespan_context(without),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=with_lane), base_url="http://t")
            as lane,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=without), base_url="http://t")
            as plain,
        ):  # fmt: skip
            writer = await issue_api_key(services.transact, "clinic-a", frozenset(Scope))
            reader = await issue_api_key(services.transact, "clinic-a", frozenset({Scope.READ}))
            other = await issue_api_key(services.transact, "clinic-b", frozenset(Scope))
            yield Clinic(services, writer, reader, other, lane, plain, served)
    finally:
        services.close()


async def _dyad(client: httpx.AsyncClient, token: str, population: str | None = "adult") -> str:
    auth = {"Authorization": f"Bearer {token}"}
    patient = await client.post(
        "/v1/patients", headers=auth,
        json={"external_id": uuid.uuid4().hex} | ({"population": population} if population else {}),
    )  # fmt: skip
    practitioner = await client.post(
        "/v1/practitioners", headers=auth, json={"external_id": uuid.uuid4().hex}
    )
    dyad = await client.post(
        "/v1/dyads", headers=auth,
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )  # fmt: skip
    dyad_id: str = dyad.json()["id"]
    return dyad_id


def _masked(text: str, dyad: str) -> str:
    text = text.replace(dyad, "<dyad>").replace(dyad.upper(), "<dyad>")
    text = INCIDENT.sub("incident <incident>", text)
    return TIME_TEXT.sub("<time>", UUID_TEXT.sub("<id>", text))


async def _run(
    clinic: Clinic, client: httpx.AsyncClient, scenario: list[Request], population: str | None
) -> tuple[list[tuple[int, dict[str, str], str]], list[tuple[str, str, str]]]:
    dyad = await _dyad(client, clinic.writer, population)
    before = await _audit(clinic)
    answers = []
    for r in scenario:
        headers = {k: v.replace("{dyad}", dyad) for k, v in r.headers.items()}
        response = await client.request(
            r.method,
            r.path.replace("{dyad}", dyad).replace("{DYAD}", dyad.upper()),
            headers=headers,
            content=r.body and r.body.replace(b"{dyad}", dyad.encode()),
        )
        # The request id is generated per request (service/api/observe.py).
        skipped = ("content-length", "x-request-id")
        headers = {k: v for k, v in response.headers.items() if k not in skipped}
        assert int(response.headers["content-length"]) == len(response.content)
        answers.append((response.status_code, headers, _masked(response.text, dyad)))
    events = Counter(await _audit(clinic)) - Counter(before)
    return answers, sorted((a, o, _masked(t, dyad)) for a, o, t in events.elements())


async def _audit(clinic: Clinic) -> list[tuple[str, str, str]]:
    def work(store: Any) -> list[tuple[str, str, str]]:
        assert isinstance(store, SqlStore)
        rows = []
        for tenant in ("clinic-a", "clinic-b"):
            found = store.tenant_by_name(tenant)
            if found is not None:
                rows += store.audit_events(found.id, limit=100_000)
        return [(r.action, r.outcome, f"{r.object_type}:{r.object_id}") for r in rows]

    return await clinic.services.transact(work)


def _post(path: str, token: str | None, body: object, **headers: str) -> Request:
    sent = {"Content-Type": "application/json"} | headers
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request("POST", path, sent, raw)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _store(token: str | None, body: object, **headers: str) -> Request:
    return _post("/v1/dyads/{dyad}/administrations", token, body, **headers)


def _score(token: str | None, instrument: str = "phq-9", **body: object) -> Request:
    return _post(f"/v1/instruments/{instrument}/score", token, {"responses": PHQ9} | body)


def _graphql(token: str | None, query: str) -> Request:
    return _post("/graphql", token, {"query": query})


SCORE_QUERY = (
    '{ score(instrument: "phq-9", responses: [{item: "1", value: 2}, {item: "2", value: 1}]) '
    "{ total band flags { code } } }"
)
STORE_MUTATION = (
    'mutation { submitAdministration(input: {dyadId: "{dyad}", instrument: "phq-9", session: 1,'
    ' responses: [{item: "1", value: 2}]}) { __typename } }'
)


def _valid(session: object = 1, **extra: object) -> dict[str, object]:
    return {"instrument": "phq-9", "session": session, "responses": PHQ9} | extra


JSON_UTF8 = "application/json; charset=utf-8"
KEY = {"Idempotency-Key": "k-{dyad}"}  # one key per run: keys belong to the tenant
UPPERCASE_ID = "/v1/dyads/{DYAD}/administrations"
Scenario = Callable[[Clinic], list[Request]]
SCENARIOS: dict[str, tuple[Scenario, list[bool]]] = {
    # name: (requests, whether the lane serves each one itself)
    "stored": (lambda c: [_store(c.writer, _valid())], [True]),
    "stored with every optional field": (
        lambda c: [
            _store(
                c.writer,
                _valid(
                    2,
                    respondent="client",
                    population="adolescent",
                    completed_at="2026-01-02T03:04:05+01:00",
                ),
            )
        ],
        [True],
    ),
    "charset parameter": (
        lambda c: [_store(c.writer, _valid(), **{"Content-Type": JSON_UTF8})],
        [True],
    ),
    "idempotent retry and reuse": (
        lambda c: [
            _store(c.writer, _valid(), **KEY),
            _store(c.writer, _valid(), **KEY),
            _store(c.writer, _valid(2), **KEY),
        ],
        [True, True, True],
    ),
    "unknown dyad": (
        lambda c: [_post(f"/v1/dyads/{uuid.uuid4()}/administrations", c.writer, _valid())],
        [True],
    ),
    "another tenant's dyad": (lambda c: [_store(c.other, _valid())], [True]),
    "respondent not the instrument's": (
        lambda c: [_store(c.writer, _valid(respondent="therapist"))],
        [True],
    ),
    "answers out of range": (
        lambda c: [_store(c.writer, _valid(responses={"1": 7, "2": "x", "99": 1}))],
        [True],
    ),
    "NaN answer": (
        lambda c: [_store(c.writer, b'{"instrument":"phq-9","session":1,"responses":{"1":NaN}}')],
        [True],
    ),
    "byte order mark": (
        lambda c: [_store(c.writer, b"\xef\xbb\xbf" + json.dumps(_valid()).encode())],
        [True],
    ),
    "session 0": (lambda c: [_store(c.writer, _valid(0))], [False]),
    "session beyond 64 bits": (lambda c: [_store(c.writer, _valid(10**20))], [False]),
    "session as text": (lambda c: [_store(c.writer, _valid("1"))], [False]),
    "no token": (lambda c: [_store(None, _valid())], [False]),
    "not a bearer token": (
        lambda c: [_store(None, _valid(), Authorization=f"Basic {c.writer}")],
        [False],
    ),
    "unknown token": (lambda c: [_store("rap_nope_nope", _valid())], [False]),
    "read-only token": (lambda c: [_store(c.reader, _valid())], [False]),
    "dyad id in capitals": (lambda c: [_post(UPPERCASE_ID, c.writer, _valid())], [True]),
    "not a dyad id": (
        lambda c: [_post("/v1/dyads/not-an-id/administrations", c.writer, _valid())],
        [False],
    ),
    "empty idempotency key": (
        lambda c: [_store(c.writer, _valid(), **{"Idempotency-Key": ""})],
        [False],
    ),
    "idempotency key too long": (
        lambda c: [_store(c.writer, _valid(), **{"Idempotency-Key": "k" * 256})],
        [False],
    ),
    "malformed JSON": (lambda c: [_store(c.writer, b'{"instrument": ')], [False]),
    "empty body": (lambda c: [_store(c.writer, b"")], [False]),
    "a list, not an object": (lambda c: [_store(c.writer, [_valid()])], [False]),
    "unknown field": (lambda c: [_store(c.writer, _valid(mood="fine"))], [False]),
    "not UTF-8": (lambda c: [_store(c.writer, b'{"instrument":"phq-\xff9"}')], [False]),
    "text/plain": (
        lambda c: [_store(c.writer, _valid(), **{"Content-Type": "text/plain"})],
        [False],
    ),
    "no content type": (
        lambda c: [replace(_store(c.writer, _valid()), headers=_bearer(c.writer))],
        [False],
    ),
    "vendor JSON type": (
        lambda c: [_store(c.writer, _valid(), **{"Content-Type": "application/vnd.ehr+json"})],
        [False],
    ),
    "scored": (lambda c: [_score(c.reader, population="adult")], [True]),
    "scored, answers invalid": (lambda c: [_score(c.reader, responses={"1": 9})], [True]),
    "score of an unknown instrument": (lambda c: [_score(c.reader, "oq-45")], [True]),
    "score without a token": (lambda c: [_score(None)], [False]),
    "score, instrument id too long": (lambda c: [_score(c.reader, "x" * 65)], [False]),
    # GraphQL reads its own body; its context dependency authenticates, and refuses itself.
    "GraphQL score": (lambda c: [_graphql(c.reader, SCORE_QUERY)], [True]),
    "GraphQL mutation": (lambda c: [_graphql(c.writer, STORE_MUTATION)], [True]),
    "GraphQL mutation, read-only key": (lambda c: [_graphql(c.reader, STORE_MUTATION)], [True]),
    "GraphQL syntax error": (lambda c: [_graphql(c.reader, "{ score(")], [True]),
    "GraphQL without a token": (lambda c: [_graphql(None, SCORE_QUERY)], [True]),
    "GraphQL, not JSON": (lambda c: [_post("/graphql", c.reader, b"{query")], [True]),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_the_lane_answers_as_fastapi_does(clinic: Clinic, name: str) -> None:
    scenario, lane_serves = SCENARIOS[name]
    requests = scenario(clinic)
    clinic.served.clear()
    through_lane, lane_audit = await _run(clinic, clinic.lane, requests, "adult")
    served = clinic.served[-len(requests) :]
    through_fastapi, fastapi_audit = await _run(clinic, clinic.plain, requests, "adult")
    assert through_lane == through_fastapi
    assert lane_audit == fastapi_audit
    assert served == lane_serves


async def _asgi(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, bytes]:
    """Drive ``app`` with the body in several ``http.request`` messages."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1),
        "server": ("t", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize(
    ("split", "status"),
    [pytest.param(lambda b: [b[:10], b[10:]], 200, id="in two parts"),
     pytest.param(lambda b: [b[:1], b" " * 4096, b[1:]], 200, id="in three parts, padded"),
     pytest.param(lambda b: [b[:1], b" " * (1 << 20), b[1:]], 413, id="past the ceiling")],
)  # fmt: skip
async def test_bodies_in_parts_are_read_whole_up_to_the_ceiling(
    clinic: Clinic, split: Callable[[bytes], list[bytes]], status: int
) -> None:
    body = json.dumps({"responses": PHQ9}).encode()
    headers = [(b"authorization", f"Bearer {clinic.reader}".encode()),
               (b"content-type", b"application/json")]  # fmt: skip
    app = clinic.lane._transport.app  # type: ignore[attr-defined]
    plain = clinic.plain._transport.app  # type: ignore[attr-defined]
    lane_answer = await _asgi(app, "/v1/instruments/phq-9/score", headers, split(body))
    plain_answer = await _asgi(plain, "/v1/instruments/phq-9/score", headers, split(body))
    assert lane_answer == plain_answer
    assert lane_answer[0] == status
    if status == 200:
        assert json.loads(lane_answer[1])["total"] == 10
    else:
        assert json.loads(lane_answer[1])["code"] == "payload-too-large"


async def test_a_client_gone_before_its_body_arrives_is_not_answered(clinic: Clinic) -> None:
    app = clinic.lane._transport.app  # type: ignore[attr-defined]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/instruments/phq-9/score",
             "root_path": "", "query_string": b"", "headers": []}  # fmt: skip
    await app(scope, receive, send)
    assert sent == []


def test_a_lane_refuses_a_route_it_cannot_serve_like_fastapi() -> None:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: FastAPIRequest) -> dict[str, str]:  # FastAPI serializes this
        return {}

    with pytest.raises(TypeError, match=r"cannot have a fast lane: .* other than a Response"):
        FastLane(app, ["POST /echo"])
    with pytest.raises(LookupError, match="no route GET /echo"):
        FastLane(app, ["GET /echo"])
