"""Corrections on both engines: one administration is read by id; one entered in error is
voided (kept, shown with its reason, counted nowhere, its alerts resolved); a later
submission of a session supersedes an earlier one, visibly."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from service.domain.records import Scope
from tests.conftest import Api
from tests.integration.test_insights_api import _dyad, _people, _submit, phq9, wai


async def _listed(client: httpx.AsyncClient, dyad: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/v1/dyads/{dyad}/administrations")
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]  # type: ignore[no-any-return]


async def _void(client: httpx.AsyncClient, administration: str, reason: str) -> httpx.Response:
    return await client.post(f"/v1/administrations/{administration}/void", json={"reason": reason})


async def test_one_administration_is_read_by_id(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    stored = await _submit(client, dyad, "phq-9", 1, phq9(12))
    answer = await client.get(f"/v1/administrations/{stored['id']}")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["dyad_id"], body["session"]) == (stored["id"], dyad, 1)
    assert (body["status"], body["superseded_by"], body["void"]) == ("final", None, None)
    assert body["score"]["total"] == 12.0
    missing = await client.get(f"/v1/administrations/{uuid.uuid4()}")
    assert missing.status_code == 404
    other = await api.client_for("clinic-b")
    assert (await other.get(f"/v1/administrations/{stored['id']}")).status_code == 404


async def test_a_later_submission_supersedes_visibly(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    first = await _submit(client, dyad, "phq-9", 1, phq9(20))
    second = await _submit(client, dyad, "phq-9", 1, phq9(8))  # the same session, again
    listed = {a["id"]: a for a in await _listed(client, dyad)}
    assert (listed[first["id"]]["status"], listed[first["id"]]["superseded_by"]) == (
        "superseded", second["id"],
    )  # fmt: skip
    assert (listed[second["id"]]["status"], listed[second["id"]]["superseded_by"]) == (
        "final", None,
    )  # fmt: skip
    progress = await client.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert [p["total"] for p in progress.json()["points"]] == [8.0]
    # Voiding the later one makes the earlier one count again.
    assert (await _void(client, second["id"], "wrong questionnaire")).status_code == 200
    listed = {a["id"]: a for a in await _listed(client, dyad)}
    assert listed[first["id"]]["status"] == "final"
    assert listed[second["id"]]["status"] == "entered-in-error"
    progress = await client.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert [p["total"] for p in progress.json()["points"]] == [20.0]


async def test_a_voided_administration_is_kept_and_counted_nowhere(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    await _submit(client, dyad, "phq-9", 1, phq9(20))
    wrong = await _submit(client, dyad, "phq-9", 2, phq9(6))
    before = await client.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert before.json()["classification"] == "recovered"
    voided = await _void(client, wrong["id"], "Entered for the wrong patient")
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert body["status"] == "entered-in-error"
    assert body["void"]["reason"] == "Entered for the wrong patient"
    assert body["void"]["by"]  # the key that voided it
    after = await client.get(f"/v1/dyads/{dyad}/progress", params={"instrument": "phq-9"})
    assert [p["session"] for p in after.json()["points"]] == [1]
    assert after.json()["classification"] == "not-applicable"
    # Still listed and readable, with its status and reason.
    listed = {a["id"]: a for a in await _listed(client, dyad)}
    assert listed[wrong["id"]]["status"] == "entered-in-error"
    assert listed[wrong["id"]]["void"]["reason"] == "Entered for the wrong patient"
    # Voiding again changes nothing and answers the same.
    again = await _void(client, wrong["id"], "another reason")
    assert again.status_code == 200
    assert again.json()["void"] == body["void"]


async def test_concordance_and_calibration_leave_voided_ratings_out(api: Api) -> None:
    client = await api.client_for("clinic-a")
    _, practitioner = await _people(client)
    dyad = await _dyad(client, practitioner)
    await _submit(client, dyad, "wai-sr", 1, wai(50))
    therapist = await _submit(client, dyad, "wai-sr-t", 1, wai(44))
    await _submit(client, dyad, "wai-sr", 2, wai(30))
    await _submit(client, dyad, "wai-sr-t", 2, wai(50))
    concordance = (await client.get(f"/v1/dyads/{dyad}/concordance")).json()
    assert [s["session"] for s in concordance["sessions"]] == [1, 2]
    assert (
        await _void(client, therapist["id"], "therapist form of another dyad")
    ).status_code == 200
    concordance = (await client.get(f"/v1/dyads/{dyad}/concordance")).json()
    assert [s["session"] for s in concordance["sessions"]] == [2]
    calibration = (await client.get(f"/v1/practitioners/{practitioner}/calibration")).json()
    wai_sr = next(i for i in calibration["items"] if i["instrument"] == "wai-sr")
    assert wai_sr["pairs"] == 1
    assert wai_sr["bias"] == -20.0


async def test_alerts_raised_on_a_voided_administration_are_resolved(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    kept = await _submit(client, dyad, "phq-9", 1, phq9(10, item9=1))
    wrong = await _submit(client, dyad, "phq-9", 2, phq9(10, item9=3))
    alerts = (await client.get("/v1/alerts", params={"dyad_id": dyad, "kind": "risk"})).json()
    by_admin = {a["evidence"]["administration_id"]: a for a in alerts["items"]}
    assert set(by_admin) == {kept["id"], wrong["id"]}
    await _void(client, wrong["id"], "answers of another client")
    alerts = (await client.get("/v1/alerts", params={"dyad_id": dyad, "kind": "risk"})).json()
    status = {a["evidence"]["administration_id"]: a for a in alerts["items"]}
    assert status[kept["id"]]["status"] == "open"
    assert status[wrong["id"]]["status"] == "resolved"
    assert "answers of another client" in status[wrong["id"]]["resolved_note"]


async def test_a_void_needs_a_reason_and_the_write_scope(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _dyad(client)
    stored = await _submit(client, dyad, "phq-9", 1, phq9(12))
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x\x00"}, {"why": "typo"}):
        answer = await client.post(f"/v1/administrations/{stored['id']}/void", json=body)
        assert answer.status_code == 422, body
    reader = await api.client_for("clinic-a", Scope.READ)
    refused = await _void(reader, stored["id"], "typo")
    assert refused.status_code == 403
    assert (await client.get(f"/v1/administrations/{stored['id']}")).json()["status"] == "final"
    assert (await _void(client, str(uuid.uuid4()), "typo")).status_code == 404


async def test_alert_rules_leave_voided_administrations_out(api: Api) -> None:
    client = await api.client_for("clinic-a")
    counted, voided = await _dyad(client), await _dyad(client)
    for dyad in (counted, voided):
        first = await _submit(client, dyad, "phq-9", 1, phq9(5))
        if dyad == voided:
            assert (await _void(client, first["id"], "another client's answers")).status_code == 200
        await _submit(client, dyad, "phq-9", 2, phq9(20))  # 15 points worse than session 1

    async def deterioration(dyad: str) -> list[Any]:
        params = {"dyad_id": dyad, "kind": "deterioration"}
        return (await client.get("/v1/alerts", params=params)).json()["items"]  # type: ignore[no-any-return]

    assert len(await deterioration(counted)) == 1
    assert await deterioration(voided) == []  # session 2 is the first that counts
