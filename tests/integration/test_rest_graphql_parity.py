"""One clinical scenario through REST (tenant A) and through GraphQL (tenant B): same results.

GraphQL is a thin adapter over the same use cases, so the stored scores, the progress
series and its classification, the concordance sessions and summary, the practitioner's
calibration and the alerts raised must be equal, field by field (camelCase aside).
Identifiers differ between the tenants, so the administrations an alert's evidence names
are compared by what they are (instrument, session), not by id.

The scenario, worked by hand:
- PHQ-9 totals 5, 9, 14 at sessions 1-3, item 9 endorsed at session 3: changes 0, 4, 9;
  9 >= 6 is a reliable deterioration, and 14 >= 10 crosses into the clinical range:
  ``deteriorated``; alerts ``deterioration`` (high) and ``risk`` (high).
- WAI-SR 50 (client) and WAI-SR-T 30 (therapist) at session 3: difference 20,
  |20 - 5.3| = 14.7 > 10.41: discordant; alert ``discordance`` (low).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.integration.graphql_support import data, new_dyad, phq9, submit, wai

SCENARIO: list[tuple[str, int, dict[str, int]]] = [
    ("phq-9", 1, phq9(5)),
    ("phq-9", 2, phq9(9)),
    ("phq-9", 3, phq9(14, item9=1)),
    ("wai-sr", 3, wai(50)),
    ("wai-sr-t", 3, wai(30)),
]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snaked(value: Any) -> Any:
    """GraphQL's camelCase keys as REST's snake_case, all the way down."""
    if isinstance(value, dict):
        return {snake(k): snaked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snaked(v) for v in value]
    return value


# One comparable shape per kind of result ----------------------------------------------------------


def score_of_rest(score: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": score["total"],
        "band": score["band"],
        "clinical": score["clinical"],
        "prorated": score["prorated"],
        "missing": score["missing"],
        "flags": sorted((f["code"], tuple(f["items"]), f["message"]) for f in score["flags"]),
        "scales": {
            name: (s["name"], s["score"], s["band"], s["clinical"], s["metric"], s["mean"])
            for name, s in score["scales"].items()
        },
        "criteria": score["criteria"],
        "provenance": score["provenance"],
    }


def score_of_graphql(score: dict[str, Any]) -> dict[str, Any]:
    return score_of_rest(
        {
            **score,
            "scales": {s["name"]: {**s, "name": s["title"]} for s in score["scales"]},
            "provenance": snaked(score["provenance"]),
        }
    )


def evidence(value: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """An alert's evidence with administration ids replaced by what they identify."""
    return {k: names.get(v, v) if isinstance(v, str) else v for k, v in value.items()}


# Running the scenario ---------------------------------------------------------------------------


async def through_rest(client: httpx.AsyncClient) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    patient = (await client.post("/v1/patients", json={"external_id": f"P-{tag}"})).json()["id"]
    practitioner = (
        await client.post("/v1/practitioners", json={"external_id": f"T-{tag}"})
    ).json()["id"]
    dyad = await client.post(
        "/v1/dyads", json={"patient_id": patient, "practitioner_id": practitioner}
    )
    assert dyad.status_code == 201, dyad.text
    dyad_id = dyad.json()["id"]
    names, scores = {}, {}
    for instrument, session, answers in SCENARIO:
        stored = await client.post(
            f"/v1/dyads/{dyad_id}/administrations",
            json={"instrument": instrument, "session": session, "responses": answers},
        )
        assert stored.status_code == 201, stored.text
        names[stored.json()["id"]] = f"{instrument}@{session}"
        scores[f"{instrument}@{session}"] = score_of_rest(stored.json()["score"])

    listed = (await client.get(f"/v1/dyads/{dyad_id}/administrations")).json()["items"]
    read_back = {names[a["id"]]: score_of_rest(a["score"]) for a in listed}
    progress = (
        await client.get(f"/v1/dyads/{dyad_id}/progress", params={"instrument": "phq-9"})
    ).json()
    concordance = (await client.get(f"/v1/dyads/{dyad_id}/concordance")).json()
    calibration = (await client.get(f"/v1/practitioners/{practitioner}/calibration")).json()
    alerts = (await client.get("/v1/alerts", params={"dyad_id": dyad_id})).json()["items"]
    return {
        "scores": scores,
        "read back": read_back,
        "nhs_talking_therapies": progress["nhs_talking_therapies"],
        "progress": {
            "instrument": progress["instrument"],
            "direction": progress["direction"],
            "population": progress["population"],
            "points": [
                (
                    names[p["administration_id"]],
                    p["session"],
                    p["total"],
                    p["change"],
                    p["reliable_change"],
                    p["clinical"],
                )
                for p in progress["points"]
            ],
            "classification": progress["classification"],
            "reason": progress["reason"],
            "started_clinical": progress["started_clinical"],
        },
        "concordance": {
            "instrument": concordance["instrument"],
            "therapist_instrument": concordance["therapist_instrument"],
            "sessions": [
                (
                    s["session"],
                    s["client"],
                    s["therapist"],
                    s["difference"],
                    s["direction"],
                    s["discordant"],
                )
                for s in concordance["sessions"]
            ],
            "summary": concordance["summary"],
            "rule": (
                concordance["rule"]["version"],
                concordance["rule"]["expected_offset"],
                concordance["rule"]["bound"],
            ),
        },
        "calibration": sorted(
            (
                c["instrument"],
                c["therapist_instrument"],
                c["dyads"],
                c["pairs"],
                c["bias"],
                c["spread"],
                c["expected_offset"],
                c["tendency"],
            )
            for c in calibration["items"]
        ),
        "alerts": sorted(
            (a["kind"], a["severity"], a["status"], a["rule"], repr(evidence(a["evidence"], names)))
            for a in alerts
        ),
    }


INSIGHTS = """
query($d: ID!, $t: ID!) {
  dyad(id: $d) {
    administrations { id instrument session score { ...Score } }
    progress(instrument: "phq-9") {
      instrument direction population classification reason startedClinical
      nhsTalkingTherapies
      points { administrationId session total change reliableChange clinical }
    }
    concordance {
      instrument therapistInstrument ruleVersion expectedOffset bound
      sessions { session client therapist difference direction discordant }
      summary { n bias sd lowerLimit upperLimit correlation convergenceSlope converging }
    }
    alerts { kind severity status rule evidence }
  }
  calibration(practitionerId: $t) {
    instrument therapistInstrument dyads pairs bias spread expectedOffset tendency
  }
}
fragment Score on ScoreResult {
  total band clinical prorated missing criteria
  flags { code items message }
  scales { name title score band clinical metric mean }
  provenance { definitionId definitionVersion scorerVersion population populationDefaulted }
}
"""


async def through_graphql(client: httpx.AsyncClient) -> dict[str, Any]:
    people = await new_dyad(client)
    names, scores = {}, {}
    for instrument, session, answers in SCENARIO:
        stored = await submit(client, people.dyad_id, instrument, session, answers)
        assert stored["__typename"] == "Administration", stored
        names[stored["id"]] = f"{instrument}@{session}"
        scores[f"{instrument}@{session}"] = stored["score"]

    found = await data(client, INSIGHTS, {"d": people.dyad_id, "t": people.practitioner_id})
    dyad = found["dyad"]
    # The submit payload selects fewer score fields: compare the full ones read back, and
    # check that the payload agrees with them.
    read_back = {names[a["id"]]: score_of_graphql(a["score"]) for a in dyad["administrations"]}
    for key, score in scores.items():
        assert score["total"] == read_back[key]["total"], key
    progress, concordance = dyad["progress"], dyad["concordance"]
    nhs = progress["nhsTalkingTherapies"]
    return {
        "scores": read_back,
        "read back": read_back,
        "nhs_talking_therapies": None if nhs is None else snaked(nhs),
        "progress": {
            "instrument": progress["instrument"],
            "direction": progress["direction"],
            "population": progress["population"],
            "points": [
                (
                    names[p["administrationId"]],
                    p["session"],
                    p["total"],
                    p["change"],
                    p["reliableChange"],
                    p["clinical"],
                )
                for p in progress["points"]
            ],
            "classification": progress["classification"],
            "reason": progress["reason"],
            "started_clinical": progress["startedClinical"],
        },
        "concordance": {
            "instrument": concordance["instrument"],
            "therapist_instrument": concordance["therapistInstrument"],
            "sessions": [
                (
                    s["session"],
                    s["client"],
                    s["therapist"],
                    s["difference"],
                    s["direction"],
                    s["discordant"],
                )
                for s in concordance["sessions"]
            ],
            "summary": snaked(concordance["summary"]),
            "rule": (
                concordance["ruleVersion"],
                concordance["expectedOffset"],
                concordance["bound"],
            ),
        },
        "calibration": sorted(
            (
                c["instrument"],
                c["therapistInstrument"],
                c["dyads"],
                c["pairs"],
                c["bias"],
                c["spread"],
                c["expectedOffset"],
                c["tendency"],
            )
            for c in found["calibration"]
        ),
        "alerts": sorted(
            (a["kind"], a["severity"], a["status"], a["rule"], repr(evidence(a["evidence"], names)))
            for a in dyad["alerts"]
        ),
    }


@dataclass
class Results:
    rest: dict[str, Any]
    graphql: dict[str, Any]


@pytest.fixture
async def results(api: Api) -> Results:
    rest = await through_rest(await api.client_for("clinic-rest"))
    graphql = await through_graphql(await api.client_for("clinic-graphql"))
    return Results(rest, graphql)


async def test_rest_and_graphql_give_the_same_clinical_results(results: Results) -> None:
    rest, graphql = results.rest, results.graphql
    # The scenario's numbers, by hand (see the module docstring): parity of two empty or
    # wrong answers would prove nothing.
    assert [p[2:] for p in rest["progress"]["points"]] == [
        (5, 0, "none", False),
        (9, 4, "none", False),
        (14, 9, "deteriorated", True),
    ]
    assert rest["progress"]["classification"] == "deteriorated"
    assert rest["concordance"]["sessions"] == [(3, 50, 30, 20, "client-higher", True)]
    assert rest["concordance"]["summary"]["n"] == 1
    assert rest["concordance"]["summary"]["bias"] == 20
    assert [(kind, severity) for kind, severity, *_ in rest["alerts"]] == [
        ("deterioration", "high"),
        ("discordance", "low"),
        ("risk", "high"),
    ]
    assert rest["scores"]["phq-9@3"]["flags"][0][:2] == ("risk", ("9",))
    assert (rest["scores"]["phq-9@3"]["total"], rest["scores"]["phq-9@3"]["band"]) == (
        14,
        "moderate",
    )

    assert rest["scores"] == rest["read back"], "REST reads back what it stored"
    for part in ("scores", "progress", "concordance", "calibration", "alerts"):
        assert graphql[part] == rest[part], part


async def test_the_nhs_talking_therapies_outcome_is_the_same(results: Results) -> None:
    """GraphQL's ``nhsTalkingTherapies`` is REST's ``nhs_talking_therapies`` in camelCase:
    every key, including the version of the rules that produced it."""
    rest, graphql = results.rest["nhs_talking_therapies"], results.graphql["nhs_talking_therapies"]
    assert rest is not None
    assert rest["applicable"] is False  # no GAD-7 in the scenario
    assert graphql == rest
