"""Patients, practitioners, dyads and administrations over REST, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from service.domain.records import Scope
from service.store.repository import SqlStore
from tests.conftest import Api

PHQ9 = {str(i): v for i, v in enumerate([2, 2, 1, 1, 1, 1, 1, 1, 0], start=1)}  # total 10


async def _dyad(client: httpx.AsyncClient, suffix: str = "", population: str | None = None) -> str:
    patient_body: dict[str, Any] = {"external_id": f"MRN-{suffix or uuid.uuid4().hex[:8]}"}
    if population:
        patient_body["population"] = population
    patient = await client.post("/v1/patients", json=patient_body)
    assert patient.status_code == 201, patient.text
    practitioner = await client.post(
        "/v1/practitioners", json={"external_id": f"NPI-{uuid.uuid4().hex[:8]}"}
    )
    dyad = await client.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )
    assert dyad.status_code == 201, dyad.text
    dyad_id: str = dyad.json()["id"]
    return dyad_id


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def test_patients_are_created_read_and_listed_page_by_page(api: Api) -> None:
    client = await api.client_for("clinic-a")
    created = [
        (await client.post("/v1/patients", json={"external_id": f"MRN-{i}"})).json()
        for i in range(5)
    ]
    assert all(uuid.UUID(p["id"]) for p in created)
    one = await client.get(f"/v1/patients/{created[0]['id']}")
    assert one.status_code == 200
    assert one.json()["external_id"] == "MRN-0"

    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/patients", params=params)).json()
        seen += [p["external_id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"MRN-{i}" for i in range(5)]  # oldest first, no gaps, no repeats
    assert pages == 3


async def test_page_size_is_capped(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/patients", params={"limit": 200})).status_code == 200
    _problem(await client.get("/v1/patients", params={"limit": 201}), 422, "validation-failed")
    _problem(await client.get("/v1/patients", params={"limit": 0}), 422, "validation-failed")
    _problem(
        await client.get("/v1/patients", params={"cursor": "nonsense"}), 422, "validation-failed"
    )


async def test_a_duplicate_external_id_is_409_naming_the_existing_patient(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/v1/patients", json={"external_id": "MRN-1"})
    again = await client.post("/v1/patients", json={"external_id": "MRN-1"})
    assert _problem(again, 409, "conflict")["existing_id"] == first.json()["id"]


@pytest.mark.parametrize(
    "body",
    [{}, {"external_id": ""}, {"external_id": " padded "}, {"external_id": "x", "name": "Ann"}],
)
async def test_a_patient_needs_a_clean_external_id_and_nothing_else(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    _problem(await client.post("/v1/patients", json=body), 422, "validation-failed")


async def test_a_dyad_must_name_known_people(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/dyads", json={"patient_id": str(uuid.uuid4()), "practitioner_id": str(uuid.uuid4())}
    )
    body = _problem(response, 422, "validation-failed")
    assert {e["pointer"] for e in body["errors"]} == {"/patient_id", "/practitioner_id"}


async def test_an_episode_cannot_end_before_it_starts(client: httpx.AsyncClient) -> None:
    patient = (await client.post("/v1/patients", json={"external_id": "P"})).json()["id"]
    practitioner = (await client.post("/v1/practitioners", json={"external_id": "T"})).json()["id"]
    response = await client.post(
        "/v1/dyads",
        json={
            "patient_id": patient,
            "practitioner_id": practitioner,
            "started_on": "2026-03-01",
            "ended_on": "2026-02-01",
        },
    )
    assert _problem(response, 422, "validation-failed")["errors"][0]["pointer"] == "/ended_on"


async def test_an_administration_is_scored_stored_and_listed(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad_id = await _dyad(client)
    response = await client.post(
        f"/v1/dyads/{dyad_id}/administrations",
        json={"instrument": "phq-9", "session": 1, "responses": PHQ9},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["score"]["total"] == 10
    assert body["score"]["clinical"] is True
    assert body["respondent"] == "client"
    assert body["session"] == 1
    listed = (await client.get(f"/v1/dyads/{dyad_id}/administrations")).json()
    assert [a["id"] for a in listed["items"]] == [body["id"]]
    assert listed["items"][0]["score"] == body["score"]  # read back exactly as scored


async def test_the_patients_age_group_selects_the_cut_off(client: httpx.AsyncClient) -> None:
    dyad_id = await _dyad(client, population="adolescent")
    response = await client.post(
        f"/v1/dyads/{dyad_id}/administrations",
        json={"instrument": "phq-9", "session": 1, "responses": PHQ9},
    )
    score = response.json()["score"]
    assert score["total"] == 10
    assert score["clinical"] is False  # adolescents: 11 or more (Richardson et al. 2010)
    assert score["provenance"]["population"] == "adolescent"


async def test_too_many_missing_items_is_stored_as_not_scorable(client: httpx.AsyncClient) -> None:
    dyad_id = await _dyad(client)
    response = await client.post(
        f"/v1/dyads/{dyad_id}/administrations",
        json={"instrument": "phq-9", "session": 2, "responses": {"1": 3, "9": 1}},
    )
    assert response.status_code == 201
    codes = [f["code"] for f in response.json()["score"]["flags"]]
    assert "not-scorable" in codes
    assert "risk" in codes


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"session": 0}, "/session"),
        ({"session": -3}, "/session"),
        ({"session": "1"}, "/session"),
        ({"session": 1.5}, "/session"),
        ({"session": True}, "/session"),
        ({"respondent": "therapist"}, "/respondent"),
        ({"completed_at": "2026-01-01T10:00:00"}, "/completed_at"),
        ({"completed_at": "2999-01-01T10:00:00Z"}, "/completed_at"),
        ({"responses": {"1": 7}}, "/responses/1"),
    ],
)
async def test_an_administration_that_does_not_fit_is_422(
    client: httpx.AsyncClient, change: dict[str, Any], pointer: str
) -> None:
    dyad_id = await _dyad(client)
    body = {"instrument": "phq-9", "session": 1, "responses": PHQ9} | change
    response = await client.post(f"/v1/dyads/{dyad_id}/administrations", json=body)
    assert response.status_code == 422, response.text
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]
    listed = (await client.get(f"/v1/dyads/{dyad_id}/administrations")).json()
    assert listed["items"] == []  # nothing half-written


async def test_unknown_instrument_and_unknown_dyad_are_404(client: httpx.AsyncClient) -> None:
    dyad_id = await _dyad(client)
    unknown_instrument = await client.post(
        f"/v1/dyads/{dyad_id}/administrations",
        json={"instrument": "oq-45", "session": 1, "responses": {}},
    )
    _problem(unknown_instrument, 404, "instrument-not-found")
    unknown_dyad = await client.post(
        f"/v1/dyads/{uuid.uuid4()}/administrations",
        json={"instrument": "phq-9", "session": 1, "responses": PHQ9},
    )
    _problem(unknown_dyad, 404, "not-found")


async def test_an_idempotent_retry_returns_the_original_and_stores_nothing_twice(
    api: Api,
) -> None:
    client = await api.client_for("clinic-a")
    dyad_id = await _dyad(client)
    body = {"instrument": "phq-9", "session": 1, "responses": PHQ9}
    headers = {"Idempotency-Key": "ehr-msg-0001"}
    first = await client.post(f"/v1/dyads/{dyad_id}/administrations", json=body, headers=headers)
    retry = await client.post(f"/v1/dyads/{dyad_id}/administrations", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers.get("Idempotent-Replayed") == "true"
    other = await client.post(
        f"/v1/dyads/{dyad_id}/administrations", json=body | {"session": 2}, headers=headers
    )
    _problem(other, 422, "idempotency-key-reused")
    # The key is read with the dyad; for a dyad that is not there it is looked up alone, and
    # a used key is still refused as reused rather than answered 404.
    elsewhere = await client.post(
        f"/v1/dyads/{uuid.uuid4()}/administrations", json=body, headers=headers
    )
    _problem(elsewhere, 422, "idempotency-key-reused")
    listed = (await client.get(f"/v1/dyads/{dyad_id}/administrations")).json()
    assert len(listed["items"]) == 1


async def test_twenty_concurrent_retries_store_one_administration(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad_id = await _dyad(client)
    body = {"instrument": "gad-7", "session": 3, "responses": {str(i): 1 for i in range(1, 8)}}
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    responses = await asyncio.gather(
        *(
            client.post(f"/v1/dyads/{dyad_id}/administrations", json=body, headers=headers)
            for _ in range(20)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = (await client.get(f"/v1/dyads/{dyad_id}/administrations")).json()
    assert len(listed["items"]) == 1


async def test_idempotency_keys_belong_to_one_tenant(api: Api) -> None:
    a = await api.client_for("clinic-a")
    b = await api.client_for("clinic-b")
    headers = {"Idempotency-Key": "same-key"}
    body = {"instrument": "phq-9", "session": 1, "responses": PHQ9}
    first = await a.post(f"/v1/dyads/{await _dyad(a)}/administrations", json=body, headers=headers)
    second = await b.post(f"/v1/dyads/{await _dyad(b)}/administrations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_a_read_only_key_reads_but_cannot_write(api: Api) -> None:
    writer = await api.client_for("clinic-a")
    reader = await api.client_for("clinic-a", Scope.READ)
    patient_id = (await writer.post("/v1/patients", json={"external_id": "R-1"})).json()["id"]
    assert (await reader.get(f"/v1/patients/{patient_id}")).status_code == 200
    _problem(await reader.post("/v1/patients", json={"external_id": "R-2"}), 403, "forbidden")


async def test_every_access_to_patient_data_is_audited(api: Api) -> None:
    client = await api.client_for("clinic-a")
    reader = await api.client_for("clinic-a", Scope.READ)
    patient_id = (await client.post("/v1/patients", json={"external_id": "A-1"})).json()["id"]
    await client.get(f"/v1/patients/{patient_id}")
    await client.get(f"/v1/patients/{uuid.uuid4()}")
    await reader.post("/v1/patients", json={"external_id": "A-2"})

    events = await api.services.database.read(lambda c: _audit_events_of(SqlStore(c), "clinic-a"))
    summary = [(e.action, e.outcome, e.object_id) for e in events]
    assert ("patient.create", "success", patient_id) in summary
    assert ("patient.read", "success", patient_id) in summary
    assert any(a == "patient.read" and o == "not-found" for a, o, _ in summary)
    assert any(a == "patient.create" and o == "denied" for a, o, _ in summary)
    assert all(e.actor and e.occurred_at.tzinfo is not None for e in events)


def _audit_events_of(store: SqlStore, tenant_name: str) -> list[Any]:
    tenant = store.tenant_by_name(tenant_name)
    assert tenant is not None
    return list(store.audit_events(tenant.id))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/patients", {"external_id": "a\u0000b"}),
        ("/v1/patients", {"external_id": "tab\tinside"}),
        ("/v1/practitioners", {"external_id": "T-1", "display_name": "x\u0000"}),
    ],
)
async def test_text_that_storage_cannot_hold_is_422(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    client = await api.client_for("clinic-a")
    _problem(await client.post(path, json=body), 422, "validation-failed")


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"session": 2**31}, "/session"),
        ({"session": 2**63}, "/session"),
        ({"completed_at": "0001-01-01T00:00:00+14:00"}, "/completed_at"),
        ({"completed_at": "1899-12-31T23:00:00Z"}, "/completed_at"),
    ],
)
async def test_values_beyond_what_the_store_holds_are_422(
    api: Api, change: dict[str, Any], pointer: str
) -> None:
    client = await api.client_for("clinic-a")
    dyad_id = await _dyad(client)
    body = {"instrument": "phq-9", "session": 1, "responses": PHQ9} | change
    response = await client.post(f"/v1/dyads/{dyad_id}/administrations", json=body)
    assert response.status_code == 422, response.text
    assert pointer in [e.get("pointer") for e in response.json()["errors"]]


async def test_a_body_that_is_not_utf8_is_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/patients",
        content=b'{"external_id": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    _problem(response, 422, "malformed-json")
