"""The FHIR R4 face: Questionnaires, $extract, stored responses, Flags and OperationOutcomes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from service.domain.instruments.catalogue import load_catalogue
from tests.conftest import Api
from tests.integration.fhir_validators import fhir_validated  # noqa: F401 - a fixture

# Every FHIR body these tests receive passes fhir.resources and Medplum's validator.
pytestmark = pytest.mark.usefixtures("fhir_validated")
BASE = "http://rapport.invalid/fhir"
CATALOGUE = load_catalogue()
FHIR = {"Content-Type": "application/fhir+json"}
PHQ9_LOINC_ITEMS = [
    "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
    "44258-2", "44252-5", "44253-3", "44260-8",
]  # fmt: skip
LOINC_ANSWERS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def phq9_response(values: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{BASE}/Questionnaire/phq-9|1.0.0",
        "status": "completed",
        "subject": {"identifier": {"system": "urn:ehr:mrn", "value": "MRN-9"}},
        "authored": "2026-11-20T10:00:00Z",
        "item": [
            {
                "linkId": link,
                "answer": [
                    {"valueCoding": {"system": "http://loinc.org", "code": LOINC_ANSWERS[v]}}
                ],
            }
            for link, v in zip(PHQ9_LOINC_ITEMS, values, strict=True)
        ],
        **extra,
    }


def _outcome(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    issues: list[dict[str, Any]] = body["issue"]
    assert all(i["severity"] == "error" for i in issues)
    return issues


async def test_metadata_is_a_truthful_capability_statement(client: httpx.AsyncClient) -> None:
    body = (await client.get("/fhir/R4/metadata")).json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(resources) == {
        "Questionnaire", "QuestionnaireResponse", "Observation", "Patient", "Practitioner", "Flag",
    }  # fmt: skip
    assert resources["QuestionnaireResponse"]["operation"][0]["name"] == "extract"


async def test_the_phq9_questionnaire_uses_loinc_link_ids_and_item_weights(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/fhir/R4/Questionnaire/phq-9")).json()
    assert body["url"] == f"{BASE}/Questionnaire/phq-9"
    assert body["version"] == "1.0.0"
    assert body["code"] == [{"system": "http://loinc.org", "code": "44249-1"}]
    items = {i["linkId"]: i for i in body["item"]}
    assert set(PHQ9_LOINC_ITEMS) <= set(items)
    options = items["44260-8"]["answerOption"]
    assert [o["valueCoding"]["code"] for o in options] == LOINC_ANSWERS
    assert [o["extension"][0]["valueDecimal"] for o in options] == [0, 1, 2, 3]
    assert items["44261-6"]["readOnly"] is True  # the total, answered by $extract
    assert "Pfizer" in body["copyright"]


async def test_a_licensed_questionnaire_has_no_wording_and_reversed_weights(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/fhir/R4/Questionnaire/core-10")).json()
    items = {i["linkId"]: i for i in body["item"]}
    definition = CATALOGUE.get("core-10")
    assert items["1"]["text"] == definition.item("1").label
    weights = [o["extension"][0]["valueDecimal"] for o in items["2"]["answerOption"]]
    assert weights == [4, 3, 2, 1, 0]  # item 2 is reverse-keyed
    assert "CC BY-ND" in body["copyright"]


async def test_questionnaires_are_found_by_canonical_url(client: httpx.AsyncClient) -> None:
    found = await client.get(
        "/fhir/R4/Questionnaire", params={"url": f"{BASE}/Questionnaire/gad-7"}
    )
    body = found.json()
    assert body["type"] == "searchset"
    assert [e["resource"]["id"] for e in body["entry"]] == ["gad-7"]
    everything = (await client.get("/fhir/R4/Questionnaire")).json()
    assert everything["total"] == len(CATALOGUE)


async def test_extract_returns_a_transaction_with_a_us_core_observation(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/fhir/R4/QuestionnaireResponse/$extract",
        json=phq9_response([3, 3, 2, 2, 1, 1, 1, 1, 0]),
        headers=FHIR,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    bundle = response.json()
    assert bundle["type"] == "transaction"
    scored, observation, *members = (e["resource"] for e in bundle["entry"])
    assert len(members) == 9  # PHQ-9's licence allows publishing item results
    assert observation["hasMember"] == [{"reference": e["fullUrl"]} for e in bundle["entry"][2:]]
    assert scored["resourceType"] == "QuestionnaireResponse"
    total_item = next(i for i in scored["item"] if i["linkId"] == "44261-6")
    assert total_item["answer"] == [{"valueDecimal": 14.0}]
    assert observation["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "44261-6",
        "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    }
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert observation["valueQuantity"]["value"] == 14.0
    assert observation["derivedFrom"] == [{"reference": bundle["entry"][0]["fullUrl"]}]
    interpretation = [c["coding"][0]["code"] for c in observation["interpretation"]]
    assert interpretation == ["moderate", "clinical"]
    assert bundle["entry"][1]["request"] == {"method": "POST", "url": "Observation"}


async def test_extract_accepts_weights_old_and_new_and_plain_numbers(
    client: httpx.AsyncClient,
) -> None:
    qr = phq9_response([0] * 9)
    qr["item"][0]["answer"] = [
        {"valueCoding": {"code": "x", "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 3}
        ]}}
    ]  # fmt: skip
    qr["item"][1]["answer"] = [{"valueInteger": 2}]
    observation = (
        await client.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    ).json()["entry"][1]["resource"]
    assert observation["valueQuantity"]["value"] == 5.0


@pytest.mark.parametrize("instrument_id", [d.id for d in CATALOGUE])
async def test_extract_scores_every_instrument_as_rest_does(
    client: httpx.AsyncClient, instrument_id: str
) -> None:
    questionnaire = (await client.get(f"/fhir/R4/Questionnaire/{instrument_id}")).json()
    answers: dict[str, float] = {}
    items = []
    for index, item in enumerate(i for i in questionnaire["item"] if not i.get("readOnly")):
        if item["type"] == "choice":
            option = item["answerOption"][index % len(item["answerOption"])]
            items.append(
                {"linkId": item["linkId"], "answer": [{"valueCoding": option["valueCoding"]}]}
            )
        else:
            items.append({"linkId": item["linkId"], "answer": [{"valueDecimal": 6.5}]})
    qr = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire["url"],
        "status": "completed",
        "subject": {"identifier": {"value": "MRN-1"}},
        "item": items,
    }
    bundle = (
        await client.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    ).json()
    observation = bundle["entry"][1]["resource"]
    # The same answers through REST: map linkIds back to item ids and codes back to values.
    definition = CATALOGUE.get(instrument_id)
    for item, entry in zip((i for i in definition.items), items, strict=True):
        answer = entry["answer"][0]
        if "valueDecimal" in answer:
            answers[item.id] = answer["valueDecimal"]
        else:
            code = answer["valueCoding"]["code"]
            by_code = {o.code: o.value for o in item.response.options if o.code}
            answers[item.id] = by_code.get(code, int(code) if code.isdigit() else -1)
    rest = (
        await client.post(f"/v1/instruments/{instrument_id}/score", json={"responses": answers})
    ).json()
    assert observation["valueQuantity"]["value"] == rest["total"]
    components = {c["code"]["coding"][0]["code"]: c for c in observation.get("component", [])}
    assert len(components) == len(definition.scales) - 1


@pytest.mark.parametrize(
    ("change", "status", "expression"),
    [
        ({"questionnaire": f"{BASE}/Questionnaire/oq-45"}, 404, None),
        (
            {"questionnaire": f"{BASE}/Questionnaire/phq-9|9.9.9"},
            422,
            "QuestionnaireResponse.questionnaire",
        ),
        ({"subject": None}, 422, "QuestionnaireResponse.subject"),
        ({"resourceType": "Observation"}, 422, "resourceType"),
    ],
)
async def test_extract_errors_are_operation_outcomes(
    client: httpx.AsyncClient, change: dict[str, Any], status: int, expression: str | None
) -> None:
    qr = phq9_response([1] * 9) | change
    response = await client.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    issues = _outcome(response, status)
    if expression:
        assert issues[0]["expression"] == [expression]


async def test_bad_answers_name_the_offending_answer(client: httpx.AsyncClient) -> None:
    qr = phq9_response([1] * 9)
    qr["item"][2]["answer"][0]["valueCoding"]["code"] = "LA9999-9"
    qr["item"].append({"linkId": "no-such-item", "answer": [{"valueInteger": 1}]})
    response = await client.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    issues = _outcome(response, 422)
    expressions = {i["expression"][0]: i["details"]["text"] for i in issues}
    assert expressions == {
        "QuestionnaireResponse.item[2].answer[0]": "not-an-option",
        "QuestionnaireResponse.item[9]": "unknown-link-id",
    }


async def test_malformed_json_and_auth_are_operation_outcomes(api: Api) -> None:
    client = await api.client_for("clinic-a")
    broken = await client.post(
        "/fhir/R4/QuestionnaireResponse/$extract", content=b"{not json", headers=FHIR
    )
    _outcome(broken, 422)
    anonymous = await api.http.get("/fhir/R4/Questionnaire/phq-9")
    _outcome(anonymous, 401)
    _outcome(await client.get("/fhir/R4/Patient/123"), 404)
    _outcome(await client.get("/fhir/R4/Encounter/123"), 404)


async def _people(client: httpx.AsyncClient, mrn: str = "MRN-9") -> str:
    patient = await client.post("/v1/patients", json={"external_id": mrn})
    practitioner = await client.post("/v1/practitioners", json={"external_id": "NPI-1"})
    dyad = await client.post(
        "/v1/dyads",
        json={"patient_id": patient.json()["id"], "practitioner_id": practitioner.json()["id"]},
    )
    dyad_id: str = dyad.json()["id"]
    return dyad_id


async def test_a_stored_response_becomes_an_administration_and_raises_flags(api: Api) -> None:
    client = await api.client_for("clinic-a")
    dyad = await _people(client)
    qr = phq9_response(
        [2, 2, 2, 2, 1, 1, 1, 1, 2],
        author={"identifier": {"value": "NPI-1"}},
        identifier={"value": "ehr-qr-17"},
        extension=[{"url": f"{BASE}/StructureDefinition/session-number", "valueInteger": 4}],
    )
    first = await client.post("/fhir/R4/QuestionnaireResponse", json=qr, headers=FHIR)
    again = await client.post("/fhir/R4/QuestionnaireResponse", json=qr, headers=FHIR)
    # The retry stored nothing new: 200 with what the first stored (issue 15, item 4).
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json()["id"] == again.json()["id"]
    total = await client.get(f"/fhir/R4/Observation/{first.json()['id']}")
    assert total.json()["valueQuantity"]["value"] == 14.0
    stored = (await client.get(f"/v1/dyads/{dyad}/administrations")).json()["items"]
    assert len(stored) == 1  # the response's identifier made the retry idempotent
    assert stored[0]["session"] == 4
    assert stored[0]["completed_at"].startswith("2026-11-20T10:00:00")

    flags = (await client.get("/fhir/R4/Flag", params={"status": "active"})).json()
    assert flags.get("total") == 1, flags
    assert flags["total"] == 1
    risk = flags["entry"][0]["resource"]
    assert risk["code"]["coding"][0]["code"] == "risk"
    assert risk["subject"]["identifier"]["value"] == "MRN-9"
    assert (await client.get(f"/fhir/R4/Flag/{risk['id']}")).json()["id"] == risk["id"]
    other = await api.client_for("clinic-b")
    _outcome(await other.get(f"/fhir/R4/Flag/{risk['id']}"), 404)
    assert (await other.get("/fhir/R4/Flag")).json()["total"] == 0


async def test_storing_needs_a_known_dyad_and_a_session(client: httpx.AsyncClient) -> None:
    await _people(client)
    no_session = phq9_response([1] * 9, author={"identifier": {"value": "NPI-1"}})
    issues = _outcome(
        await client.post("/fhir/R4/QuestionnaireResponse", json=no_session, headers=FHIR), 422
    )
    assert issues[0]["expression"] == ["session"]
    stranger = phq9_response([1] * 9, author={"identifier": {"value": "NPI-404"}})
    response = await client.post(
        "/fhir/R4/QuestionnaireResponse", json=stranger, params={"session": 1}, headers=FHIR
    )
    assert _outcome(response, 422)[0]["expression"] == ["author"]
    explicit = await client.post(
        "/fhir/R4/QuestionnaireResponse",
        json=phq9_response([1] * 9),
        params={"session": 1, "dyad": str(uuid.uuid4())},
        headers=FHIR,
    )
    _outcome(explicit, 404)
