"""The REST API, fuzzed against its own OpenAPI document: no 5xx, and every answer as documented.

Schemathesis generates valid and invalid requests for every operation of the spec the app
serves (a contract test keeps it equal to the committed openapi/openapi.json) and sends them
in-process over ASGI with a valid bearer token. Each response must not be a server error and
must conform to the spec: a status code the operation documents, a documented content type,
and a body matching the documented schema. A new operation is fuzzed as soon as it is served.

Each operation gets its own migrated database on each engine, seeded through ``running_api``
with a dyad whose PHQ-9 series raised a risk alert and which has one paired alliance session.
Part of the generated cases are steered towards those real objects (seeded ids in paths and
queries, real item ids of real instruments in the answers), so that the scorer and the store
are reached and not only the validation layer; some get one value from a small fuzzing
dictionary of storage edge cases. Schemathesis starts the app's lifespan on its first request,
on its own event loop as a server would, and its pytest plugin ends it when the test ends.

The schema is loaded eagerly from ``app.openapi()`` and each case is sent to the fixture's app
(``call_and_validate(app=...)``), rather than loaded from a fixture with
``schemathesis.pytest.from_fixture``: that loader fails under pytest 9.2 (it reads the removed
``Function._nodeid``).

The run is bounded and reproducible for CI: a fixed number of examples per operation, no
deadline, derandomized generation with a fixed seed, no example database, and a steering that
depends only on the generated case. (Seeded records get new ids each run, so a reported
failing example may name other ids; the same operations fail the same way.)
"""

from __future__ import annotations

import asyncio
import json
import random
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.api.app import create_app
from service.settings import Settings
from tests.conftest import running_api

MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Answers worth trying on real items: missing, boundaries, out of range, fractional, huge.
ANSWERS = [None, -1, 0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 0.5, 2.5, -0.0, 1e9, 1e300]
# A fuzzing dictionary of values that break storage layers rather than validators: integers
# past PostgreSQL's int4 and int8, timestamps whose UTC instant is outside Python's range, and
# a NUL character (PostgreSQL text cannot hold one).
EDGE_INTEGERS = [2**31, 2**63, -(2**63) - 1]
EDGE_TIMESTAMPS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
EDGE_SUFFIX = "\x00"

# The app's own spec, read without starting it: the database is only touched by the target.
SPEC = create_app(Settings(database_url="sqlite:///unused.db")).openapi()
schema = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "generation": {"mode": "all", "deterministic": True, "database": "none"},
            # Hide the bearer token in failure reports, but not `session` or `Idempotency-Key`,
            # which the default sanitization hides and which reproducing a failure needs.
            "output": {
                "sanitization": {
                    "keys-to-sanitize": ["authorization"],
                    "sensitive-markers": ["token", "secret", "password"],
                }
            },
        }
    ),
)


@dataclass(frozen=True)
class Target:
    """A served app on a seeded database, what the fuzzer may name, and how to authenticate."""

    app: FastAPI
    headers: dict[str, str]
    ids: dict[str, str]  # parameter name -> id of a seeded record
    items: dict[str, list[str]]  # instrument id -> its item ids


def _lowest_answers(detail: dict[str, Any]) -> dict[str, int | float]:
    return {
        item["id"]: int(low) if (low := item["response"]["min"]) == int(low) else low
        for item in detail["items"]
    }


async def _seed(url: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """A dyad with a PHQ-9 series (a risk alert, a change) and one paired alliance session."""
    async with running_api(url) as api, await api.client_for("fuzz-clinic") as http:
        details = {
            summary["id"]: (await http.get(f"/v1/instruments/{summary['id']}")).json()
            for summary in (await http.get("/v1/instruments")).json()["items"]
        }
        patient = (await http.post("/v1/patients", json={"external_id": "fuzz-patient"})).json()
        therapist = (await http.post("/v1/practitioners", json={"external_id": "fuzz-th"})).json()
        pair = {"patient_id": patient["id"], "practitioner_id": therapist["id"]}
        dyad = (await http.post("/v1/dyads", json=pair)).json()
        administered = [
            ("phq-9", 1, dict.fromkeys("123456789", 2)),
            ("phq-9", 2, dict.fromkeys("123456789", 0)),
            ("wai-sr", 1, _lowest_answers(details["wai-sr"])),
            ("wai-sr-t", 1, _lowest_answers(details["wai-sr-t"])),
        ]
        for instrument, session, responses in administered:
            body = {"instrument": instrument, "session": session, "responses": responses}
            stored = await http.post(f"/v1/dyads/{dyad['id']}/administrations", json=body)
            assert stored.status_code == 201, stored.text
        ids = {**pair, "dyad_id": dyad["id"], "instrument_id": "phq-9"}
        alerts = (await http.get("/v1/alerts", params={"dyad_id": dyad["id"]})).json()["items"]
        assert alerts, "PHQ-9 item 9 was endorsed: a risk alert was expected"
        ids["alert_id"] = alerts[0]["id"]
        items = {name: [item["id"] for item in d["items"]] for name, d in details.items()}
        return http.headers["Authorization"], ids, items


@pytest.fixture
def target(database_url: str) -> Target:
    authorization, ids, items = asyncio.run(_seed(database_url))
    app = create_app(Settings(database_url=database_url))
    return Target(app, {"Authorization": authorization}, ids, items)


def _steer(generated: schemathesis.Case, target: Target) -> schemathesis.Case:
    """A copy of the case pointed, half the time, at seeded records; half the time at real items
    of real instruments; and sometimes at an edge value of the fuzzing dictionary.

    The choices derive from the generated case alone, and the generated case is left as it
    is (Hypothesis replays it while shrinking), so a derandomized run is reproducible.
    """
    fields = [generated.path_parameters, generated.query, generated.body]
    rng = random.Random(
        zlib.crc32(json.dumps(fields, sort_keys=True, default=_stable_text).encode())
    )
    case = generated.derive(keep_auth=True)
    instrument = rng.choice(sorted(target.items))
    if rng.random() < 0.5:
        real = {**target.ids, "instrument": instrument}
        case.path_parameters = {
            name: target.ids.get(name, value) for name, value in case.path_parameters.items()
        }
        case.query = {name: real.get(name, value) for name, value in case.query.items()}
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("responses"), dict) and rng.random() < 0.5:
        items = target.items[instrument]
        chosen = rng.sample(items, rng.randint(0, len(items)))
        body = {**body, "responses": {item: rng.choice(ANSWERS) for item in chosen}}
        if "instrument" in body:
            body.update(instrument=instrument, session=rng.randint(1, 4))
        elif "instrument_id" in case.path_parameters:
            case.path_parameters = {**case.path_parameters, "instrument_id": instrument}
        case.body = body
    if rng.random() < 0.4:
        if isinstance(case.body, dict) and case.body:
            case.body = _with_one_edge(case.body, rng)
        elif case.query:
            case.query = _with_one_edge(case.query, rng)
    return case


def _stable_text(value: object) -> str:
    """Text for what JSON cannot encode; never an object address (``NotSet`` has no body)."""
    return repr(value) if isinstance(value, bytes) else type(value).__name__


def _with_one_edge(fields: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """``fields`` with one top-level value swapped for an edge value of its kind, if any."""
    edges = {name: _edges_for(name, value) for name, value in fields.items()}
    candidates = sorted(name for name, values in edges.items() if values)
    if not candidates:
        return fields
    name = rng.choice(candidates)
    return {**fields, name: rng.choice(edges[name])}


def _edges_for(name: str, value: object) -> list[object]:
    if name.endswith("_at") and (value is None or isinstance(value, str)):
        return list(EDGE_TIMESTAMPS)
    if isinstance(value, int) and not isinstance(value, bool):
        return list(EDGE_INTEGERS)
    if isinstance(value, str):
        return [value + EDGE_SUFFIX]
    return []


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database per operation, shared by its cases
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, target: Target) -> None:
    steered = _steer(case, target)
    steered.call_and_validate(app=target.app, headers=target.headers, checks=CHECKS)
