"""The REST API, fuzzed against its own OpenAPI document: no 5xx, and every answer as documented.

Schemathesis generates valid and invalid requests for every operation of the spec the app
serves (a contract test keeps it equal to the committed openapi/openapi.json) and sends them
in-process over ASGI with a valid bearer token. Each response must not be a server error and
must conform to the spec: a status code the operation documents, a documented content type,
and a body matching the documented schema. A new operation is fuzzed as soon as it is served.

Each operation gets its own migrated database on each engine, seeded through ``running_api``
with a patient, a practitioner, a dyad and one stored administration. Part of the generated
cases are steered towards those real objects (seeded ids in the path, real item ids of real
instruments in the answers), so that the scorer and the store are reached and not only the
validation layer. Schemathesis starts the app's lifespan on its first request, on its own
event loop as a server would, and its pytest plugin ends it when the test ends.

The run is bounded and reproducible for CI: a fixed number of examples per operation, no
deadline, derandomized generation, no example database, and a steering that depends only on
the generated case.
"""

from __future__ import annotations

import asyncio
import json
import random
import zlib
from collections.abc import Iterator
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

# The app's own spec, read without starting it: the database is only touched by the target.
SPEC = create_app(Settings(database_url="sqlite:///unused.db")).openapi()
schema = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict(
        {"seed": 20240601, "generation": {"mode": "all", "deterministic": True, "database": "none"}}
    ),
)


@dataclass(frozen=True)
class Target:
    """A served app on a seeded database, what the fuzzer may name, and how to authenticate."""

    app: FastAPI
    headers: dict[str, str]
    ids: dict[str, str]  # path parameter name -> id of a seeded record
    items: dict[str, list[str]]  # instrument id -> its item ids


async def _seed(url: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    async with running_api(url) as api, await api.client_for("fuzz-clinic") as http:
        patient = (await http.post("/v1/patients", json={"external_id": "fuzz-patient"})).json()
        therapist = (await http.post("/v1/practitioners", json={"external_id": "fuzz-th"})).json()
        pair = {"patient_id": patient["id"], "practitioner_id": therapist["id"]}
        dyad = (await http.post("/v1/dyads", json=pair)).json()
        stored = await http.post(
            f"/v1/dyads/{dyad['id']}/administrations",
            json={"instrument": "phq-9", "session": 1, "responses": {str(i): 1 for i in range(1, 10)}},
        )
        assert stored.status_code == 201, stored.text
        items = {}
        for summary in (await http.get("/v1/instruments")).json()["items"]:
            detail = (await http.get(f"/v1/instruments/{summary['id']}")).json()
            items[summary["id"]] = [item["id"] for item in detail["items"]]
        ids = {**pair, "dyad_id": dyad["id"], "instrument_id": "phq-9"}
        return http.headers["Authorization"], ids, items


@pytest.fixture
def target(database_url: str) -> Iterator[Target]:
    authorization, ids, items = asyncio.run(_seed(database_url))
    app = create_app(Settings(database_url=database_url))
    yield Target(app, {"Authorization": authorization}, ids, items)


def _steer(case: schemathesis.Case, target: Target) -> None:
    """Point half of the cases at seeded records, and half at real items of real instruments.

    The choices derive from the generated case alone, so a derandomized run is reproducible.
    """
    generated = json.dumps([case.path_parameters, case.body], sort_keys=True, default=repr)
    rng = random.Random(zlib.crc32(generated.encode()))
    if case.path_parameters and rng.random() < 0.5:
        case.path_parameters = {
            name: target.ids.get(name, value) for name, value in case.path_parameters.items()
        }
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("responses"), dict) and rng.random() < 0.5:
        instrument = rng.choice(sorted(target.items))
        items = target.items[instrument]
        chosen = rng.sample(items, rng.randint(0, len(items)))
        body = {**body, "responses": {item: rng.choice(ANSWERS) for item in chosen}}
        if "instrument" in body:
            body.update(instrument=instrument, session=rng.randint(1, 4))
        elif case.path_parameters and "instrument_id" in case.path_parameters:
            case.path_parameters = {**case.path_parameters, "instrument_id": instrument}
        case.body = body


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
    _steer(case, target)
    case.call_and_validate(app=target.app, headers=target.headers, checks=CHECKS)
