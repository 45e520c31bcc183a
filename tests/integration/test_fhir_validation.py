"""Every resource Rapport emits validates with an independent FHIR model library.

fhir.resources (8.x) has no R4 package: its R4B models stand in for R4, as the library's own
README recommends; R4B differs from R4 in none of the resources used here.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from service.domain.instruments.catalogue import load_catalogue
from tests.integration.fhir_validators import fhir_validated  # noqa: F401 - a fixture
from tests.integration.test_fhir import FHIR, phq9_response

pytestmark = pytest.mark.usefixtures("fhir_validated")

IDS = [d.id for d in load_catalogue()]


async def test_the_capability_statement_validates(client: httpx.AsyncClient) -> None:
    CapabilityStatement.model_validate((await client.get("/fhir/R4/metadata")).json())


@pytest.mark.parametrize("instrument_id", IDS)
async def test_every_questionnaire_validates(client: httpx.AsyncClient, instrument_id: str) -> None:
    body = (await client.get(f"/fhir/R4/Questionnaire/{instrument_id}")).json()
    parsed = Questionnaire.model_validate(body)
    assert parsed.url == body["url"]


def _answer(item: dict[str, Any]) -> dict[str, Any]:
    if item["type"] == "choice":
        return {"valueCoding": item["answerOption"][-1]["valueCoding"]}
    return {"valueDecimal": 5.5}


@pytest.mark.parametrize("instrument_id", IDS)
async def test_every_extract_bundle_validates(
    client: httpx.AsyncClient, instrument_id: str
) -> None:
    questionnaire = (await client.get(f"/fhir/R4/Questionnaire/{instrument_id}")).json()
    qr = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "subject": {"identifier": {"value": "MRN-1"}},
        "authored": "2026-11-20T10:00:00Z",
        "item": [
            {"linkId": i["linkId"], "answer": [_answer(i)]}
            for i in questionnaire["item"]
            if not i.get("readOnly")
        ],
    }
    QuestionnaireResponse.model_validate(qr)
    response = await client.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "transaction"
    scored, observation, *members = (e.resource for e in bundle.entry or [])
    assert all(isinstance(m, Observation) for m in members)
    assert isinstance(scored, QuestionnaireResponse)
    assert isinstance(observation, Observation)
    # us-core-2: with no component or member, a value or a data-absent reason.
    assert observation.valueQuantity is not None or observation.dataAbsentReason is not None


async def test_a_not_scorable_observation_validates(client: httpx.AsyncClient) -> None:
    qr = phq9_response([1] * 9)
    qr["item"] = qr["item"][:3]
    response = await client.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    observation = Bundle.model_validate(response.json()).entry[1].resource  # type: ignore[index]
    assert isinstance(observation, Observation)
    assert observation.valueQuantity is None
    assert observation.dataAbsentReason is not None


async def test_flags_and_operation_outcomes_validate(client: httpx.AsyncClient) -> None:
    patient = await client.post("/v1/patients", json={"external_id": "MRN-9"})
    practitioner = await client.post("/v1/practitioners", json={"external_id": "NPI-1"})
    await client.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )
    stored = await client.post(
        "/fhir/R4/QuestionnaireResponse",
        json=phq9_response([1] * 8 + [2], author={"identifier": {"value": "NPI-1"}}),
        params={"session": 1},
        headers=FHIR,
    )
    QuestionnaireResponse.model_validate(stored.json())
    flags = Bundle.model_validate((await client.get("/fhir/R4/Flag")).json())
    assert flags.entry
    assert isinstance(flags.entry[0].resource, Flag)
    for response in [
        await client.get("/fhir/R4/Questionnaire/oq-45"),
        await client.post("/fhir/R4/QuestionnaireResponse/$extract", content=b"[", headers=FHIR),
        await client.get("/fhir/R4/Nothing"),
    ]:
        OperationOutcome.model_validate(response.json())
