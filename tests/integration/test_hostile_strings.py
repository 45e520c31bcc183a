"""Every caller string that reaches the database has one rule, applied below the adapters
(service/domain/text.py): each face refuses the same hostile input with its 4xx, on SQLite
and PostgreSQL alike, and stores nothing (issue 16, item 5). Before, a FHIR identifier.value
or a GraphQL idempotencyKey of 300 characters or holding NUL was stored on SQLite and
answered 500 on PostgreSQL. Also: a REST Idempotency-Key cannot reach the namespace of the
keys made from FHIR identifiers (item 8)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.integration.test_fhir import BASE, FHIR, phq9_response

HOSTILE = {
    "300 characters": "x" * 300,
    "NUL": "a\x00b",
    "a C0 control": "a\x01b",
    "a C1 control": "a\x85b",
    "DEL": "a\x7fb",
    "surrounding spaces": " a ",
    "empty": "",
}
PHQ9 = {str(i): 1 for i in range(1, 10)}
SUBMIT = """
mutation($input: AdministrationInput!, $key: String) {
  submitAdministration(input: $input, idempotencyKey: $key) {
    __typename
    ... on ValidationError { code fields { field code } }
  }
}"""
CREATE_PATIENT = """
mutation($id: String!) {
  createPatient(externalId: $id) { __typename ... on ValidationError { code } }
}"""


async def _world(client: httpx.AsyncClient) -> str:
    patient = await client.post("/v1/patients", json={"external_id": "MRN-9"})
    practitioner = await client.post(
        "/v1/practitioners", json={"external_id": "NPI-1", "display_name": "T"}
    )
    dyad = await client.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )
    assert dyad.status_code == 201, dyad.text
    return str(dyad.json()["id"])


async def _counts(client: httpx.AsyncClient, dyad: str) -> tuple[int, int]:
    patients = (await client.get("/v1/patients", params={"limit": 200})).json()["items"]
    stored = (await client.get(f"/v1/dyads/{dyad}/administrations")).json()["items"]
    return len(patients), len(stored)


def _graphql_refused(response: httpx.Response, what: str) -> str | None:
    """None when GraphQL refused the value with a typed ValidationError (HTTP 200)."""
    if response.status_code != 200:
        return f"{what}: HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    result = next(iter((body.get("data") or {}).values()), None)
    if body.get("errors") or not result or result.get("__typename") != "ValidationError":
        return f"{what}: expected a ValidationError, got {body}"
    return None


async def test_every_face_refuses_every_hostile_string_alike(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _world(client)
    before = await _counts(client, dyad)
    failures: list[str] = []

    def expect(response: httpx.Response, status: int, what: str) -> None:
        if response.status_code != status:
            failures.append(f"{what}: expected {status}, got {response.status_code}: "
                            f"{response.text[:200]}")  # fmt: skip

    for name, value in HOSTILE.items():
        # REST: external identifiers.
        r = await client.post("/v1/patients", json={"external_id": value})
        expect(r, 422, f"REST patient external_id with {name}")
        r = await client.post("/v1/practitioners", json={"external_id": value, "display_name": "T"})
        expect(r, 422, f"REST practitioner external_id with {name}")
        # GraphQL: the same identifier, and an idempotency key.
        r = await client.post(
            "/graphql", json={"query": CREATE_PATIENT, "variables": {"id": value}}
        )
        if problem := _graphql_refused(r, f"GraphQL createPatient with {name}"):
            failures.append(problem)
        variables: dict[str, Any] = {
            "input": {
                "dyadId": dyad, "instrument": "phq-9", "session": 1,
                "responses": [{"item": k, "value": v} for k, v in PHQ9.items()],
            },
            "key": value,
        }  # fmt: skip
        r = await client.post("/graphql", json={"query": SUBMIT, "variables": variables})
        if problem := _graphql_refused(r, f"GraphQL idempotencyKey with {name}"):
            failures.append(problem)
        # FHIR: a QuestionnaireResponse identifier.value (it becomes an idempotency key).
        qr = phq9_response(
            [1] * 9,
            identifier={"value": value},
            extension=[{"url": f"{BASE}/StructureDefinition/session-number", "valueInteger": 1}],
        )
        r = await client.post(
            "/fhir/R4/QuestionnaireResponse", params={"dyad": dyad}, json=qr, headers=FHIR
        )
        if value == "":  # an empty identifier is no identifier: stored without a key
            expect(r, 201, "FHIR identifier.value empty")
            continue
        expect(r, 422, f"FHIR identifier.value with {name}")
        if r.status_code == 422 and r.json().get("resourceType") != "OperationOutcome":
            failures.append(f"FHIR identifier.value with {name}: not an OperationOutcome")
        # The audit trail's object filter (a read, but the value reaches a query).
        r = await client.get("/v1/audit-events", params={"object_id": value})
        expect(r, 422, f"REST audit-events object_id with {name}")

    # Idempotency-Key headers (HTTP itself carries no NUL or control character).
    body = {"instrument": "phq-9", "session": 2, "responses": PHQ9}
    for name, key in {"256 characters": "k" * 256, "the FHIR namespace": "fhir-qr:x"}.items():
        r = await client.post(
            f"/v1/dyads/{dyad}/administrations", json=body, headers={"Idempotency-Key": key}
        )
        expect(r, 422, f"REST Idempotency-Key of {name}")
    assert failures == []
    patients, stored = await _counts(client, dyad)
    assert (patients, stored) == (before[0], before[1] + 1)  # only the keyless FHIR upload


@pytest.mark.parametrize("via_header", [False, True])
async def test_a_rest_key_cannot_replay_a_fhir_identifiers_upload(
    api: Api, via_header: bool
) -> None:
    """Before, REST 'Idempotency-Key: fhir-qr:ehr-1' replayed (or was refused as reused by)
    the FHIR upload whose identifier was ehr-1. Now the namespaces are apart."""
    client = await api.client_for("clinic-a")
    dyad = await _world(client)
    qr = phq9_response(
        [1] * 9,
        identifier={"value": "ehr-1"},
        extension=[{"url": f"{BASE}/StructureDefinition/session-number", "valueInteger": 1}],
    )
    fhir = await client.post(
        "/fhir/R4/QuestionnaireResponse", params={"dyad": dyad}, json=qr, headers=FHIR
    )
    assert fhir.status_code == 201, fhir.text
    body = {"instrument": "phq-9", "session": 2, "responses": PHQ9 | {"1": 3}}
    key = "fhir-qr:ehr-1" if via_header else "ehr-1"
    r = await client.post(
        f"/v1/dyads/{dyad}/administrations", json=body, headers={"Idempotency-Key": key}
    )
    if via_header:
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["code"] == "reserved-idempotency-key"
    else:  # the bare value is an ordinary client key: stored, not a replay of the FHIR upload
        assert r.status_code == 201, r.text
        assert r.json()["session"] == 2
    stored = (await client.get(f"/v1/dyads/{dyad}/administrations")).json()["items"]
    assert len(stored) == (1 if via_header else 2)
