"""Progress, concordance, calibration and alerts over REST, on SQLite and PostgreSQL.

Expected numbers are worked by hand in the comments.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from service.api.rest.schemas.insights import ConcordanceOut, ProgressOut
from tests.conftest import Api


def phq9(total: int, item9: int = 0) -> dict[str, int]:
    """PHQ-9 answers with the given total; item 9 as given (0: no risk flag)."""
    values, left = [], total - item9
    for _ in range(8):
        v = min(3, left)
        values.append(v)
        left -= v
    assert left == 0
    return {**{str(i): v for i, v in enumerate(values, start=1)}, "9": item9}


def gad7(total: int) -> dict[str, int]:
    values, left = [], total
    for _ in range(7):
        v = min(3, left)
        values.append(v)
        left -= v
    return {str(i): v for i, v in enumerate(values, start=1)}


def wai(total: int) -> dict[str, int]:
    """Twelve 1-5 answers summing to total (12-60)."""
    values, left = [1] * 12, total - 12
    for i in range(12):
        add = min(4, left)
        values[i] += add
        left -= add
    return {str(i): v for i, v in enumerate(values, start=1)}


async def _people(client: httpx.AsyncClient) -> tuple[str, str]:
    patient = await client.post("/v1/patients", json={"external_id": f"P-{uuid.uuid4().hex[:6]}"})
    practitioner = await client.post(
        "/v1/practitioners", json={"external_id": f"T-{uuid.uuid4().hex[:6]}"}
    )
    return patient.json()["id"], practitioner.json()["id"]


async def _dyad(client: httpx.AsyncClient, practitioner_id: str | None = None) -> str:
    patient_id, own_practitioner = await _people(client)
    response = await client.post(
        "/v1/dyads",
        json={"patient_id": patient_id, "practitioner_id": practitioner_id or own_practitioner},
    )
    dyad_id: str = response.json()["id"]
    return dyad_id


async def _submit(
    client: httpx.AsyncClient, dyad_id: str, instrument: str, session: int, responses: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/dyads/{dyad_id}/administrations",
        json={"instrument": instrument, "session": session, "responses": responses},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_written_as_the_model(response: httpx.Response) -> None:
    """The progress body is built without the model (for speed): its bytes must be what the
    model itself writes, so no field is missing or extra and numbers and times read alike."""
    model = ProgressOut.model_validate_json(response.content)
    assert response.content == model.model_dump_json().encode()


async def test_progress_classifies_a_recovery_and_the_nhs_pair(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    # PHQ-9 18, 15, 11, 8: changes 0, -3, -7, -10 from session 1; reliable (>= 6) from -7.
    for session, total in enumerate([18, 15, 11, 8], start=1):
        await _submit(client, dyad, "phq-9", session, phq9(total))
    # GAD-7 12 at session 1 and 6 at session 4 (no GAD-7 at sessions 2 and 3).
    await _submit(client, dyad, "gad-7", 1, gad7(12))
    await _submit(client, dyad, "gad-7", 4, gad7(6))

    response = await client.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["total"] for p in body["points"]] == [18, 15, 11, 8]
    assert [p["change"] for p in body["points"]] == [0, -3, -7, -10]
    assert [p["reliable_change"] for p in body["points"]] == [
        "none", "none", "improved", "improved",
    ]  # fmt: skip
    # 18 is clinical (>= 10), 8 is not, and -10 is a reliable improvement: recovered.
    assert body["classification"] == "recovered"
    assert body["clinical_cutoff"] == {
        "method": "published", "value": 10.0, "comparison": ">=", "source": "kroenke2001",
    }  # fmt: skip
    nhs = body["nhs_talking_therapies"]
    # Paired sessions 1 and 4: case at 1 (PHQ 18 >= 10), not at 4 (PHQ 8 < 10, GAD 6 < 8).
    # PHQ-9 fell 10 (>= 6) and GAD-7 fell 6 (>= 4): reliable improvement and recovery.
    assert nhs["first_session"] == 1
    assert nhs["last_session"] == 4
    assert nhs["recovery"] is True
    assert nhs["reliable_improvement"] is True
    assert nhs["reliable_deterioration"] is False
    assert nhs["reliable_recovery"] is True
    assert_written_as_the_model(response)


async def test_progress_of_a_higher_is_better_instrument(client: httpx.AsyncClient) -> None:
    dyad = await _dyad(client)
    # ORS 20 then 26: +6 is a reliable (>= 5) improvement; 20 <= 25 clinical, 26 not: recovered.
    await _submit(client, dyad, "ors", 1, {"1": 5, "2": 5, "3": 5, "4": 5})
    await _submit(client, dyad, "ors", 2, {"1": 6.5, "2": 6.5, "3": 6.5, "4": 6.5})
    response = await client.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "ors"})
    body = response.json()
    assert [p["reliable_change"] for p in body["points"]] == ["none", "improved"]
    assert body["classification"] == "recovered"
    assert body["direction"] == "higher-is-better"
    assert_written_as_the_model(response)


async def test_progress_bad_input(api: Api) -> None:
    a = await api.client_for("clinic-a")
    b = await api.client_for("clinic-b")
    dyad = await _dyad(a)
    unknown = await a.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "oq-45"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "instrument-not-found"
    empty = await a.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert empty.status_code == 200
    assert empty.json()["points"] == []
    assert empty.json()["classification"] == "not-applicable"
    assert_written_as_the_model(empty)
    foreign = await b.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert foreign.status_code == 404
    missing = await a.get(f"/v1/dyads/{dyad}/progress")
    assert missing.status_code == 422


async def test_concordance_pairs_client_and_therapist_forms(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    # Rule (wai-sr.toml): offset 5.3, SE_D = sqrt(8.4^2 x 0.2 x 2) = 5.3126, bound 10.4128.
    # Session 1: 50 - 44 = 6, |6 - 5.3| = 0.7: concordant.
    # Session 2: 30 - 50 = -20, |-20 - 5.3| = 25.3 > 10.41: discordant.
    # Session 3: client only, not paired.
    await _submit(client, dyad, "wai-sr", 1, wai(50))
    await _submit(client, dyad, "wai-sr-t", 1, wai(44))
    await _submit(client, dyad, "wai-sr", 2, wai(30))
    await _submit(client, dyad, "wai-sr-t", 2, wai(50))
    await _submit(client, dyad, "wai-sr", 3, wai(40))
    body = (await client.get(f"/v1/dyads/{dyad}/concordance")).json()
    assert [(s["session"], s["difference"], s["discordant"]) for s in body["sessions"]] == [
        (1, 6.0, False),
        (2, -20.0, True),
    ]
    assert body["sessions"][1]["direction"] == "therapist-higher"
    assert body["rule"]["bound"] == pytest.approx(10.412757, abs=1e-5)
    # bias = (6 - 20) / 2 = -7; SD = |6 - (-20)| / sqrt(2) = 18.384776.
    assert body["summary"]["n"] == 2
    assert body["summary"]["bias"] == pytest.approx(-7.0)
    assert body["summary"]["sd"] == pytest.approx(18.384776, abs=1e-5)
    assert body["summary"]["lower_limit"] == pytest.approx(-7 - 1.96 * 18.384776, abs=1e-4)
    assert set(body["sessions"][0]["subscales"]) == {"goal", "task", "bond"}
    assert "descriptive" in body["note"]
    # The body is built without the model (for speed): it must be exactly the documented
    # shape, no field missing (validation fails) and none extra (dropped by the dump).
    assert ConcordanceOut.model_validate(body).model_dump(mode="json") == body

    not_a_pair = await client.get(f"/v1/dyads/{dyad}/concordance", params={"instrument": "phq-9"})
    assert not_a_pair.status_code == 422


async def test_calibration_summarises_a_practitioners_dyads(api: Api) -> None:
    client = await api.client_for("clinic-a")
    _, practitioner = await _people(client)
    # Dyad 1: D = 50-44 = 6 and 48-44 = 4; dyad 2: D = 40-40 = 0. Bias = 10/3 = 3.333333.
    first, second = await _dyad(client, practitioner), await _dyad(client, practitioner)
    for dyad, session, c, t in [(first, 1, 50, 44), (first, 2, 48, 44), (second, 1, 40, 40)]:
        await _submit(client, dyad, "wai-sr", session, wai(c))
        await _submit(client, dyad, "wai-sr-t", session, wai(t))
    body = (await client.get(f"/v1/practitioners/{practitioner}/calibration")).json()
    wai_sr = next(i for i in body["items"] if i["instrument"] == "wai-sr")
    assert wai_sr["dyads"] == 2
    assert wai_sr["pairs"] == 3
    assert wai_sr["bias"] == pytest.approx(10 / 3, abs=1e-6)
    # SD of [6, 4, 0]: mean 3.3333, squares 7.1111 + 0.4444 + 11.1111 = 18.6667, / 2, sqrt.
    assert wai_sr["spread"] == pytest.approx((18.666667 / 2) ** 0.5, abs=1e-5)
    assert wai_sr["per_dyad"] == {first: 5.0, second: 0.0}
    assert wai_sr["tendency"] is None  # fewer than five pairs


async def _alerts(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/alerts", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_risk_item_raises_an_alert_with_a_lifecycle(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    stored = await _submit(client, dyad, "phq-9", 1, phq9(6, item9=1))
    alerts = await _alerts(client, dyad_id=dyad)
    assert [(a["kind"], a["severity"], a["status"]) for a in alerts] == [("risk", "high", "open")]
    evidence = alerts[0]["evidence"]
    assert evidence["administration_id"] == stored["id"]
    assert evidence["items"] == ["9"]
    alert_id = alerts[0]["id"]

    ack = await client.post(f"/v1/alerts/{alert_id}/acknowledge", json={"note": "called"})
    assert ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_note"] == "called"
    assert ack.json()["acknowledged_by"]
    done = await client.post(f"/v1/alerts/{alert_id}/resolve", json={"note": "safety plan"})
    assert done.json()["status"] == "resolved"
    again = await client.post(f"/v1/alerts/{alert_id}/acknowledge", json={})
    assert again.status_code == 409
    assert await _alerts(client, status="open", dyad_id=dyad) == []
    assert len(await _alerts(client, status="resolved", kind="risk", dyad_id=dyad)) == 1


async def test_the_same_evidence_never_raises_the_same_alert_twice(
    client: httpx.AsyncClient,
) -> None:
    dyad = await _dyad(client)
    body = {"instrument": "phq-9", "session": 1, "responses": phq9(4, item9=2)}
    headers = {"Idempotency-Key": "k-1"}
    for _ in range(3):
        await client.post(f"/v1/dyads/{dyad}/administrations", json=body, headers=headers)
    assert len(await _alerts(client, dyad_id=dyad)) == 1


async def test_outcome_and_alliance_alerts(client: httpx.AsyncClient) -> None:
    dyad = await _dyad(client)
    # PHQ-9 5 -> 12: +7 >= 6 is a reliable deterioration.
    await _submit(client, dyad, "phq-9", 1, phq9(5))
    await _submit(client, dyad, "phq-9", 2, phq9(12))
    # SRS 30 < 36: the alliance is low.
    await _submit(client, dyad, "srs", 2, {"1": 7.5, "2": 7.5, "3": 7.5, "4": 7.5})
    # WAI-SR 50 vs therapist 30: D = 20, |20 - 5.3| = 14.7 > 10.41: discordant.
    await _submit(client, dyad, "wai-sr", 2, wai(50))
    await _submit(client, dyad, "wai-sr-t", 2, wai(30))
    kinds = sorted(a["kind"] for a in await _alerts(client, dyad_id=dyad))
    assert kinds == ["alliance-low", "deterioration", "discordance"]
    deterioration = next(a for a in await _alerts(client, kind="deterioration", dyad_id=dyad))
    assert deterioration["evidence"]["change"] == 7
    assert deterioration["rule"].startswith("not-on-track-1")


async def test_alerts_are_tenant_scoped_and_validated(api: Api) -> None:
    a = await api.client_for("clinic-a")
    b = await api.client_for("clinic-b")
    dyad = await _dyad(a)
    await _submit(a, dyad, "phq-9", 1, phq9(3, item9=1))
    alert_id = (await _alerts(a))[0]["id"]
    assert await _alerts(b) == []
    assert (await b.get(f"/v1/alerts/{alert_id}")).status_code == 404
    assert (await b.post(f"/v1/alerts/{alert_id}/resolve", json={})).status_code == 404
    assert (await a.get("/v1/alerts", params={"status": "closed"})).status_code == 422
    assert (await a.get("/v1/alerts", params={"kind": "nope"})).status_code == 422
