"""Observations meet US Core 6.1.0 Observation Screening Assessment, element by element.

No US Core profile validator can be had offline here (the HL7 validator needs the IG
package from packages.fhir.org), so this test checks the profile's mandatory and
must-support elements itself, as US Core STU 6.1.0 defines them
(http://hl7.org/fhir/us/core/STU6.1/StructureDefinition-us-core-observation-screening-assessment.html):
status (1..1), category (1..*, with the survey slice), code (1..1), subject (1..1, a
Patient), effective[x], performer, value[x], hasMember, derivedFrom, and the constraints
us-core-2 (no member or component: a value or a dataAbsentReason) and us-core-3 (UCUM
quantities), with obs-6 and obs-7 of the base resource. Every stored instrument is checked,
the total and each member, as read back over FHIR.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import Respondent
from tests.conftest import Api
from tests.integration.fhir_validators import Seen
from tests.integration.test_fhir import FHIR

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment"
SURVEY = ("http://terminology.hl7.org/CodeSystem/observation-category", "survey")
STATUSES = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
            "entered-in-error", "unknown"}  # fmt: skip
PERFORMERS = {"Practitioner", "PractitionerRole", "Organization", "CareTeam", "Patient",
              "RelatedPerson"}  # fmt: skip
CATALOGUE = load_catalogue()


def check_screening_assessment(observation: dict[str, Any]) -> None:
    assert PROFILE in observation["meta"]["profile"]
    assert observation["status"] in STATUSES
    codings = [(c.get("system"), c.get("code")) for cat in observation["category"]
               for c in cat["coding"]]  # fmt: skip
    assert SURVEY in codings
    [coding] = observation["code"]["coding"]
    assert coding["system"]
    assert coding["code"]
    assert coding["display"]
    assert observation["subject"]["reference"].startswith("Patient/")
    assert observation["effectiveDateTime"]
    [performer] = observation["performer"]
    assert performer["reference"].split("/")[0] in PERFORMERS
    assert [r["reference"].split("/")[0] for r in observation["derivedFrom"]] == [
        "QuestionnaireResponse"
    ]
    has_value = any(key.startswith("value") for key in observation)
    assert not (has_value and "dataAbsentReason" in observation)  # obs-6
    if not observation.get("hasMember") and not observation.get("component"):
        assert has_value or "dataAbsentReason" in observation  # us-core-2
    for holder in [observation, *observation.get("component", [])]:
        quantity = holder.get("valueQuantity")
        if quantity is not None:  # us-core-3
            assert quantity["system"] == "http://unitsofmeasure.org"
            assert quantity["code"] == quantity["unit"] == "{score}"
    for component in observation.get("component", []):  # obs-7
        assert component["code"] != observation["code"] or "valueQuantity" not in observation


def _answers(questionnaire: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    for index, item in enumerate(i for i in questionnaire["item"] if not i.get("readOnly")):
        if item["type"] == "choice":
            option = item["answerOption"][index % len(item["answerOption"])]
            answer = {"valueCoding": option["valueCoding"]}
        else:
            answer = {"valueDecimal": 4.5}
        items.append({"linkId": item["linkId"], "answer": [answer]})
    return items


@pytest.mark.parametrize("instrument", [d.id for d in CATALOGUE])
async def test_stored_observations_meet_the_profile(api: Api, instrument: str) -> None:
    seen = Seen()
    client: httpx.AsyncClient = seen.watch(await api.client_for("clinic-a"))
    patient = (await client.post("/v1/patients", json={"external_id": "MRN-1"})).json()["id"]
    practitioner = (await client.post("/v1/practitioners", json={"external_id": "NPI-1"})).json()
    dyad = await client.post(
        "/v1/dyads", json={"patient_id": patient, "practitioner_id": practitioner["id"]}
    )
    questionnaire = (await client.get(f"/fhir/R4/Questionnaire/{instrument}")).json()
    qr = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "subject": {"reference": f"Patient/{patient}"},
        "authored": "2026-11-20T10:00:00Z",
        "item": _answers(questionnaire),
    }
    created = await client.post(
        "/fhir/R4/QuestionnaireResponse",
        json=qr,
        params={"dyad": dyad.json()["id"], "session": 1},
        headers=FHIR,
    )
    assert created.status_code == 201, created.text
    total = (await client.get(f"/fhir/R4/Observation/{created.json()['id']}")).json()
    check_screening_assessment(total)
    definition = CATALOGUE.get(instrument)
    expected = "Practitioner" if definition.respondent is Respondent.THERAPIST else "Patient"
    assert total["performer"][0]["reference"].split("/")[0] == expected
    members = total.get("hasMember", [])
    assert bool(members) is definition.licence.item_text_allowed
    for member in members:
        read = await client.get(f"/fhir/R4/{member['reference']}")
        assert read.status_code == 200, read.text
        check_screening_assessment(read.json())
    derived = await client.get(f"/fhir/R4/{total['derivedFrom'][0]['reference']}")
    assert derived.status_code == 200
    assert seen.validate() > 0


def test_the_check_fails_on_a_missing_must_support_element() -> None:
    good = {
        "meta": {"profile": [PROFILE]},
        "status": "final",
        "category": [{"coding": [{"system": SURVEY[0], "code": SURVEY[1]}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6", "display": "x"}]},
        "subject": {"reference": "Patient/1"},
        "effectiveDateTime": "2026-11-20",
        "performer": [{"reference": "Patient/1"}],
        "derivedFrom": [{"reference": "QuestionnaireResponse/1"}],
        "valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org", "code": "{score}",
                          "unit": "{score}"},
    }  # fmt: skip
    check_screening_assessment(good)
    for missing in ("performer", "effectiveDateTime", "category", "valueQuantity", "meta"):
        broken = {k: v for k, v in good.items() if k != missing}
        with pytest.raises((AssertionError, KeyError)):
            check_screening_assessment(broken)
