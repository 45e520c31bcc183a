"""A JSON body whose objects repeat a key is refused with 422 on every face (issue 16, item 8).

Before, the last of the duplicates won: ``{"external_id": "a", "external_id": "b"}`` stored
"b". The check is on the request body itself (service/api/json_keys.py), so REST, GraphQL
and FHIR bodies are all covered, through FastAPI and the fast lane alike."""

from __future__ import annotations

import httpx
import pytest

from service.api.json_keys import duplicate_key

ANY_DYAD = "00000000-0000-7000-8000-000000000000"
CASES = {
    "REST patient": ("/v1/patients", b'{"external_id": "a", "external_id": "b"}'),
    "REST score": ("/v1/instruments/phq-9/score", b'{"responses": {"1": 1, "1": 3}}'),
    "REST administration (nested)": (
        f"/v1/dyads/{ANY_DYAD}/administrations",
        b'{"instrument": "phq-9", "session": 1, "responses": {"1": 0, "2": 1, "2": 3}}',
    ),
    "GraphQL": ("/graphql", b'{"query": "{ instruments { id } }", "query": "{ x }"}'),
    "FHIR": (
        "/fhir/R4/QuestionnaireResponse",
        b'{"resourceType": "QuestionnaireResponse", "status": "completed", "status": "x"}',
    ),
}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_repeated_key_is_refused_on_every_face(
    client: httpx.AsyncClient, case: str
) -> None:
    path, body = CASES[case]
    fhir = path.startswith("/fhir")
    content_type = "application/fhir+json" if fhir else "application/json"
    r = await client.post(path, content=body, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    if fhir:
        assert r.json()["resourceType"] == "OperationOutcome"
    else:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "malformed-json"
    assert "more than once" in r.text
    if case == "REST patient":  # and nothing was stored
        listed = (await client.get("/v1/patients")).json()["items"]
        assert listed == []


async def test_distinct_keys_still_pass(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/patients", json={"external_id": "a", "population": "adult"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"a": 1, "b": {"c": 1, "c": 2}}', "c"),
        (b'[{"a": 1}, {"a": 1, "a": 2}]', "a"),
        (b'{"a": {"x": 1}, "b": {"x": 1}}', None),  # the same key in two objects is fine
        (b'{"a": 1', None),  # not JSON: left to the adapters' malformed-JSON answer
        (b'{"a": ' * 100_000, None),  # too deep: likewise, never a RecursionError here
    ],
)
def test_duplicate_key_finds_repeats_at_any_depth(body: bytes, key: str | None) -> None:
    assert duplicate_key(body) == key
