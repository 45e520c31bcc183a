"""POST /v1/instruments/{id}/score: every instrument scores, and bad input never gives a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.api.rest.schemas.scoring import ScoreResultOut
from service.domain.instruments.catalogue import load_catalogue

CATALOGUE = load_catalogue()
ALL_IDS = [d.id for d in CATALOGUE]


def _full(instrument_id: str, pick: str = "max") -> dict[str, float]:
    d = CATALOGUE.get(instrument_id)
    return {
        i.id: (i.response.max if pick == "max" else i.response.min) for i in d.items if i.scored
    }


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:rapport:problem:{code}"
    return body


@pytest.mark.parametrize("instrument_id", ALL_IDS)
async def test_every_instrument_scores_a_complete_administration(
    client: httpx.AsyncClient, instrument_id: str
) -> None:
    d = CATALOGUE.get(instrument_id)
    response = await client.post(
        f"/v1/instruments/{instrument_id}/score", json={"responses": _full(instrument_id)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    ScoreResultOut.model_validate(body)  # the body honours the published contract
    assert body["instrument"] == instrument_id
    low, high = d.scale_range(d.total)
    assert low <= body["total"] <= high
    assert body["prorated"] is False
    assert body["missing"] == []
    assert set(body["scales"]) == {s.id for s in d.scales}
    assert body["provenance"]["definition_version"] == d.version


async def test_a_result_reports_total_band_clinical_and_risk(client: httpx.AsyncClient) -> None:
    responses = {"1": 3, "2": 3, "3": 2, "4": 2, "5": 1, "6": 1, "7": 1, "8": 0, "9": 1}
    response = await client.post(
        "/v1/instruments/phq-9/score", json={"responses": responses, "population": "adult"}
    )
    body = response.json()
    assert body["total"] == 14
    assert body["band"] == "moderate"
    assert body["clinical"] is True
    assert [f["code"] for f in body["flags"]] == ["risk"]
    assert body["flags"][0]["items"] == ["9"]
    assert body["scales"]["total"]["score"] == 14


async def test_too_many_missing_items_is_200_with_null_scores(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/instruments/phq-9/score", json={"responses": {"1": 1, "2": 1, "3": 1}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] is None
    assert body["band"] is None
    assert body["clinical"] is None
    not_scorable = [f for f in body["flags"] if f["code"] == "not-scorable"]
    assert len(not_scorable) == 1
    assert "6 missing" in not_scorable[0]["message"]
    assert body["missing"] == ["4", "5", "6", "7", "8", "9"]


async def test_unknown_instrument_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/instruments/oq-45/score", json={"responses": {}})
    body = _problem(response, 404, "instrument-not-found")
    assert "oq-45" in body["detail"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (4, "out-of-range"),
        (-1, "out-of-range"),
        (1.5, "not-integer"),
        ("2", "wrong-type"),
        (True, "wrong-type"),
        ([1], "wrong-type"),
        ({"v": 1}, "wrong-type"),
    ],
)
async def test_a_bad_answer_is_422_naming_the_item(
    client: httpx.AsyncClient, value: object, code: str
) -> None:
    responses: dict[str, object] = {str(i): 1 for i in range(1, 10)} | {"4": value}
    response = await client.post("/v1/instruments/phq-9/score", json={"responses": responses})
    body = _problem(response, 422, "invalid-responses")
    assert body["errors"] == [
        {
            "pointer": "/responses/4",
            "item": "4",
            "code": code,
            "detail": body["errors"][0]["detail"],
        }
    ]


async def test_every_offending_item_is_named_at_once(client: httpx.AsyncClient) -> None:
    responses = {"1": 9, "2": "x", "3": 0.5, "42": 1, "5": 1}
    response = await client.post("/v1/instruments/phq-9/score", json={"responses": responses})
    body = _problem(response, 422, "invalid-responses")
    assert [(e["item"], e["code"]) for e in body["errors"]] == [
        ("1", "out-of-range"),
        ("2", "wrong-type"),
        ("3", "not-integer"),
        ("42", "unknown-item"),
    ]


async def test_visual_analogue_items_take_decimals_within_0_to_10(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.post(
        "/v1/instruments/ors/score", json={"responses": {"1": 7.5, "2": 6.2, "3": 8, "4": 5.3}}
    )
    assert ok.status_code == 200
    assert ok.json()["total"] == pytest.approx(27.0)
    bad = await client.post(
        "/v1/instruments/ors/score", json={"responses": {"1": 10.1, "2": 6, "3": 8, "4": 5}}
    )
    assert _problem(bad, 422, "invalid-responses")["errors"][0]["item"] == "1"


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/instruments/phq-9/score",
        content=b'{"responses": {"1": 2,',
        headers={"content-type": "application/json"},
    )
    _problem(response, 422, "malformed-json")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"responses": [1, 2, 3]}, "/responses"),
        ({}, "/responses"),
        ({"responses": {}, "population": "martian"}, "/population"),
        ({"responses": {}, "populaton": "adult"}, "/populaton"),
        ([1, 2], "/"),
    ],
)
async def test_a_malformed_body_is_422_naming_the_field(
    client: httpx.AsyncClient, body: object, pointer: str
) -> None:
    response = await client.post("/v1/instruments/phq-9/score", json=body)
    problem = _problem(response, 422, "validation-failed")
    assert pointer in [e.get("pointer") for e in problem["errors"]]


async def test_item_order_in_the_request_does_not_matter(client: httpx.AsyncClient) -> None:
    forward = {str(i): i % 5 for i in range(1, 35)}
    backward = dict(reversed(list(forward.items())))
    a = await client.post("/v1/instruments/core-om/score", json={"responses": forward})
    b = await client.post("/v1/instruments/core-om/score", json={"responses": backward})
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    _problem(await client.get("/v1/nothing-here"), 404, "not-found")
    _problem(await client.get("/v1/instruments/phq-9/score"), 405, "method-not-allowed")


async def test_a_flood_of_responses_is_refused_at_once(client: httpx.AsyncClient) -> None:
    responses = {str(i): 0 for i in range(1, 5001)}
    response = await client.post("/v1/instruments/phq-9/score", json={"responses": responses})
    body = _problem(response, 422, "validation-failed")
    assert body["errors"] == [
        {"pointer": "/responses", "code": "too-many-responses", "detail": "At most 10 items."}
    ]
