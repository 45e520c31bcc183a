"""Metrics, request ids and log lines of the HTTP app (service/api/observe.py, service/logs.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.api.app import create_app
from service.logs import RequestIdFilter, SafeJsonFormatter, safe_traceback
from service.settings import Settings
from service.store.engine import create_engine
from tests.conftest import Api, migrated, running_api

PHQ9_RISK = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2, "8": 1, "9": 2}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def _dyad(client: httpx.AsyncClient) -> str:
    patient = (await client.post("/v1/patients", json={"external_id": uuid.uuid4().hex})).json()
    practitioner = (
        await client.post("/v1/practitioners", json={"external_id": uuid.uuid4().hex})
    ).json()
    dyad = await client.post(
        "/v1/dyads", json={"patient_id": patient["id"], "practitioner_id": practitioner["id"]}
    )
    dyad_id: str = dyad.json()["id"]
    return dyad_id


async def test_metrics_count_requests_by_route_template_stores_and_alerts(api: Api) -> None:
    client = await api.client_for("clinic-a")
    before = (await api.http.get("/metrics")).text
    dyad = await _dyad(client)
    body = {"instrument": "phq-9", "session": 1, "responses": PHQ9_RISK}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    path = f"/v1/dyads/{dyad}/administrations"
    first = await client.post(path, json=body, headers=key)
    replay = await client.post(path, json=body, headers=key)
    assert (first.status_code, replay.status_code) == (201, 201)
    await client.get(f"/v1/nothing/{uuid.uuid4()}")
    scrape = await api.http.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=")
    after = scrape.text

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    template = "/v1/dyads/{dyad_id}/administrations"
    count = "rapport_http_request_duration_seconds_count"
    assert grew(count, method="POST", route=template, status="201") == 2
    assert grew(count, method="GET", route="unmatched", status="404") == 1
    assert dyad not in after  # ids never become labels
    assert grew("rapport_administrations_stored_total") == 1  # the replay is not a store
    assert grew("rapport_alerts_raised_total", kind="risk") == 1  # item 9 answered
    assert grew("rapport_db_transaction_duration_seconds_count", outcome="commit") >= 4
    assert "rapport_db_transaction_duration_seconds_bucket" in after


async def test_metrics_off_or_on_another_port_is_not_served_here(sqlite_url: str) -> None:
    migrated(sqlite_url)
    for mode in ("off", "9464"):
        app = create_app(Settings(database_url=sqlite_url, metrics=mode))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                assert (await http.get("/metrics")).status_code == 404


def test_the_metrics_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="RAPPORT_METRICS must be"):
        Settings(metrics="sometimes")
    assert Settings(metrics="9464").metrics_port == 9464
    assert Settings().metrics_port is None


async def test_request_ids_are_taken_when_safe_else_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "ehr-42.a:b_c"})
    assert given.headers["x-request-id"] == "ehr-42.a:b_c"
    for unsafe in ("a b", "x" * 129, "<script>", "é"):
        answer = await client.get("/healthz", headers={"X-Request-ID": unsafe.encode("utf-8")})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"]), unsafe
    generated = await client.get("/v1/patients")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])


async def test_every_line_of_a_request_carries_its_id_and_no_query_string(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeJsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(lambda record: not record.name.startswith("httpx"))  # the test's client
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        await client.get(
            "/v1/patients?access_token=SECRET-IN-QUERY", headers={"X-Request-ID": "r1"}
        )
        await client.get(f"/v1/patients/{uuid.uuid4()}", headers={"X-Request-ID": "r2"})
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "rapport.access"]
    assert [(a["request_id"], a["route"], a["status"]) for a in access] == [
        ("r1", "/v1/patients", 200),
        ("r2", "/v1/patients/{patient_id}", 404),
    ]
    assert all(line["request_id"] in ("r1", "r2") for line in lines)
    assert "SECRET-IN-QUERY" not in stream.getvalue()


def test_a_traceback_keeps_frames_and_types_but_no_message() -> None:
    marker = uuid.uuid4().hex  # the source lines shown in frames must not hold it either
    try:
        try:
            raise ValueError(f"answer {marker}")
        except ValueError as inner:
            raise RuntimeError(f"key {marker}") from inner
    except RuntimeError as exc:
        text = safe_traceback(exc)
    assert marker not in text
    assert "builtins.ValueError: [message withheld from logs]" in text
    assert "builtins.RuntimeError: [message withheld from logs]" in text
    assert "test_a_traceback_keeps_frames_and_types_but_no_message" in text


def test_engines_never_render_statement_parameters(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert engine.hide_parameters
    finally:
        engine.dispose()


async def test_sqlite_batches_are_measured(sqlite_url: str) -> None:
    async with running_api(sqlite_url) as api:
        client = await api.client_for("clinic-a")
        before = (await api.http.get("/metrics")).text
        dyads = [await _dyad(client) for _ in range(4)]
        body = {"instrument": "phq-9", "session": 1, "responses": PHQ9_RISK}
        stored = await asyncio.gather(
            *(client.post(f"/v1/dyads/{d}/administrations", json=body) for d in dyads)
        )
        assert {s.status_code for s in stored} == {201}
        after = (await api.http.get("/metrics")).text

    def grew(name: str) -> float:
        return _value(after, name) - _value(before, name)

    batches = grew("rapport_db_batch_jobs_count")
    assert batches >= 1
    assert grew("rapport_db_batch_jobs_sum") >= 4 + 4  # each store's unit, and each dyad's own
    assert grew("rapport_db_batch_duration_seconds_count") == batches
