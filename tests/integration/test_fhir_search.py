"""FHIR read and search of what was stored, conditional create, and HTTP semantics.

Every FHIR body these tests receive is validated at the end of each test with fhir.resources
and Medplum's validator (tests/integration/fhir_validators.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.integration.fhir_validators import Seen
from tests.integration.test_fhir import BASE, FHIR, phq9_response

GAD7_ITEMS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]


@dataclass
class Clinic:
    api: Api
    client: httpx.AsyncClient
    seen: Seen
    patient: str
    practitioner: str
    dyad: str


async def _clinic(api: Api, seen: Seen, tenant: str = "clinic-a", mrn: str = "MRN-9") -> Clinic:
    client = seen.watch(await api.client_for(tenant))
    patient = (await client.post("/v1/patients", json={"external_id": mrn})).json()["id"]
    practitioner = (await client.post("/v1/practitioners", json={"external_id": "NPI-1"})).json()[
        "id"
    ]
    dyad = (
        await client.post(
            "/v1/dyads", json={"patient_id": patient, "practitioner_id": practitioner}
        )
    ).json()["id"]
    return Clinic(api, client, seen, patient, practitioner, dyad)


@pytest.fixture
async def clinic(api: Api) -> AsyncIterator[Clinic]:
    seen = Seen()
    yield await _clinic(api, seen)
    assert seen.validate() > 0


def gad7_response(values: list[int], authored: str) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{BASE}/Questionnaire/gad-7",
        "status": "completed",
        "subject": {"identifier": {"value": "MRN-9"}},
        "authored": authored,
        "item": [
            {"linkId": link, "answer": [{"valueInteger": v}]}
            for link, v in zip(GAD7_ITEMS, values, strict=True)
        ],
    }


async def _store(clinic: Clinic, qr: dict[str, Any], session: int = 1, **headers: str) -> Any:
    response = await clinic.client.post(
        "/fhir/R4/QuestionnaireResponse",
        json=qr,
        params={"dyad": clinic.dyad, "session": session},
        headers=FHIR | headers,
    )
    assert response.status_code in (200, 201), response.text
    return response


async def _administrations(clinic: Clinic) -> list[dict[str, Any]]:
    body = (await clinic.client.get(f"/v1/dyads/{clinic.dyad}/administrations")).json()
    items: list[dict[str, Any]] = body["items"]
    return items


def _outcome(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    issues: list[dict[str, Any]] = body["issue"]
    return issues


# Issue 16 item 2: answers are never filed under another patient ------------------------------


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"subject": {"identifier": {"value": "MRN-OTHER"}}}, "QuestionnaireResponse.subject"),
        ({"subject": {"reference": f"Patient/{uuid.uuid4()}"}}, "QuestionnaireResponse.subject"),
        (
            {"subject": {"reference": "Practitioner/x", "identifier": {"value": "MRN-9"}}},
            "QuestionnaireResponse.subject",
        ),
        ({"author": {"identifier": {"value": "NPI-UNKNOWN"}}}, "QuestionnaireResponse.author"),
        ({"author": {"reference": f"Practitioner/{uuid.uuid4()}"}}, "QuestionnaireResponse.author"),
    ],
)
async def test_a_response_naming_other_people_than_the_dyads_is_refused(
    clinic: Clinic, change: dict[str, Any], expression: str
) -> None:
    other = (await clinic.client.post("/v1/patients", json={"external_id": "MRN-OTHER"})).json()
    assert other["id"]
    qr = phq9_response([1] * 9) | change
    for where in ({"dyad": clinic.dyad, "session": 1}, {"session": 1}):
        if "dyad" not in where:  # the dyad named by the extension instead
            qr = qr | {
                "extension": [
                    {"url": f"{BASE}/StructureDefinition/dyad-id", "valueString": clinic.dyad}
                ]
            }
        response = await clinic.client.post(
            "/fhir/R4/QuestionnaireResponse", json=qr, params=where, headers=FHIR
        )
        issues = _outcome(response, 422)
        assert [i["expression"] for i in issues] == [[expression]]
    assert await _administrations(clinic) == []


async def test_the_dyads_people_by_reference_or_identifier_are_accepted(clinic: Clinic) -> None:
    by_reference = phq9_response(
        [1] * 9,
        subject={"reference": f"Patient/{clinic.patient}"},
        author={"reference": f"Practitioner/{clinic.practitioner}"},
    )
    await _store(clinic, by_reference)
    self_reported = phq9_response([1] * 9, author={"identifier": {"value": "MRN-9"}})
    await _store(clinic, self_reported, session=2)
    assert len(await _administrations(clinic)) == 2


# Create: 201, Location, conditional create, Prefer -------------------------------------------


async def test_create_answers_201_with_a_location_that_reads_back(clinic: Clinic) -> None:
    response = await _store(clinic, phq9_response([2, 2, 2, 2, 1, 1, 1, 1, 0]))
    assert response.status_code == 201
    created = response.json()
    assert created["resourceType"] == "QuestionnaireResponse"
    assert created["meta"]["versionId"] == "1"
    assert response.headers["ETag"] == 'W/"1"'
    location = response.headers["Location"]
    assert location.endswith(f"/fhir/R4/QuestionnaireResponse/{created['id']}/_history/1")
    again = await clinic.client.get(location)
    assert again.status_code == 200
    assert again.json() == created
    [stored] = await _administrations(clinic)
    assert stored["id"] == created["id"]
    observation = (await clinic.client.get(f"/fhir/R4/Observation/{created['id']}")).json()
    assert observation["valueQuantity"]["value"] == 12.0
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{created['id']}"}]


async def test_conditional_create_is_an_idempotent_retry(clinic: Clinic) -> None:
    condition = {"If-None-Exist": "identifier=urn:ehr:qr|qr-77"}
    first = await _store(clinic, phq9_response([1] * 9), **condition)
    # A retry finds the match: 200 with the stored resource, even with other answers.
    retry = await _store(clinic, phq9_response([3] * 9), **condition)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Location"] == first.headers["Location"]
    assert len(await _administrations(clinic)) == 1
    other = await _store(clinic, phq9_response([1] * 9), **{"If-None-Exist": "identifier=qr-78"})
    assert other.status_code == 201
    assert len(await _administrations(clinic)) == 2
    bad = await clinic.client.post(
        "/fhir/R4/QuestionnaireResponse",
        json=phq9_response([1] * 9),
        params={"dyad": clinic.dyad, "session": 1},
        headers=FHIR | {"If-None-Exist": "status=completed"},
    )
    assert _outcome(bad, 400)[0]["expression"] == ["If-None-Exist"]


async def test_prefer_return_minimal_and_operation_outcome(clinic: Clinic) -> None:
    minimal = await _store(clinic, phq9_response([1] * 9), Prefer="return=minimal")
    assert minimal.status_code == 201
    assert minimal.content == b""
    assert "/QuestionnaireResponse/" in minimal.headers["Location"]
    outcome = await _store(clinic, phq9_response([1] * 9), Prefer="return=OperationOutcome")
    assert outcome.json()["issue"][0]["severity"] == "information"


# Read ---------------------------------------------------------------------------------------


async def test_reads_carry_version_metadata_and_etags(clinic: Clinic) -> None:
    created = (await _store(clinic, phq9_response([2] * 9))).json()
    for path in [
        f"QuestionnaireResponse/{created['id']}",
        f"Observation/{created['id']}",
        f"Observation/{created['id']}-9",
        f"Patient/{clinic.patient}",
        f"Practitioner/{clinic.practitioner}",
        "Questionnaire/phq-9",
    ]:
        response = await clinic.client.get(f"/fhir/R4/{path}")
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        assert f"{body['resourceType']}/{body['id']}" == path
        assert response.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'
        assert body["meta"]["lastUpdated"]
    _outcome(await clinic.client.get(f"/fhir/R4/Observation/{created['id']}-99"), 404)
    _outcome(await clinic.client.get(f"/fhir/R4/Observation/{created['id']}/_history/2"), 404)
    _outcome(await clinic.client.get(f"/fhir/R4/QuestionnaireResponse/{uuid.uuid4()}"), 404)


async def test_a_stored_response_reads_back_as_the_answers_given(clinic: Clinic) -> None:
    given = phq9_response([0, 1, 2, 3, 0, 1, 2, 3, 1])
    created = (await _store(clinic, given, session=3)).json()
    answers = {i["linkId"]: i.get("answer") for i in created["item"]}
    for item in given["item"]:
        assert (
            answers[item["linkId"]][0]["valueCoding"]["code"]
            == (item["answer"][0]["valueCoding"]["code"])
        )
    assert answers["44261-6"] == [{"valueDecimal": 13.0}]
    assert created["subject"]["reference"] == f"Patient/{clinic.patient}"
    assert created["authored"].startswith("2026-11-20T10:00:00")
    # Round trip: what Rapport gives back is accepted by $extract and scores the same.
    extracted = await clinic.client.post(
        "/fhir/R4/QuestionnaireResponse/$extract", json=created, headers=FHIR
    )
    assert extracted.json()["entry"][1]["resource"]["valueQuantity"]["value"] == 13.0


# Search -------------------------------------------------------------------------------------


async def _history(clinic: Clinic) -> list[str]:
    """Three PHQ-9s and two GAD-7s over three months; their ids, oldest first."""
    ids = []
    for session, (month, day) in enumerate([(9, 3), (10, 1), (10, 20), (11, 2), (11, 15)], 1):
        authored = f"2026-{month:02d}-{day:02d}T10:00:00Z"
        qr = (
            gad7_response([2] * 7, authored)
            if session in (2, 4)
            else phq9_response([session % 4] * 9, authored=authored)
        )
        ids.append((await _store(clinic, qr, session=session)).json()["id"])
    return ids


async def _ids(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    response = await client.get(f"/fhir/R4/{path}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "searchset"
    return [e["resource"]["id"] for e in body.get("entry", [])]


async def test_observations_are_found_by_patient_code_date_category_and_status(
    clinic: Clinic,
) -> None:
    ids = await _history(clinic)
    c, everyone = clinic.client, ids
    assert await _ids(c, "Observation") == everyone
    assert await _ids(c, "Observation", patient=f"Patient/{clinic.patient}") == everyone
    assert await _ids(c, "Observation", patient=clinic.patient) == everyone
    assert await _ids(c, "Observation", subject=f"Patient/{clinic.patient}") == everyone
    assert await _ids(c, "Observation", **{"patient:identifier": "urn:x|MRN-9"}) == everyone
    assert await _ids(c, "Observation", **{"subject:identifier": "MRN-404"}) == []
    assert await _ids(c, "Observation", patient=f"Patient/{uuid.uuid4()}") == []
    assert await _ids(c, "Observation", subject="Group/1") == []
    phq9 = [ids[0], ids[2], ids[4]]
    assert await _ids(c, "Observation", code="http://loinc.org|44261-6") == phq9
    assert await _ids(c, "Observation", code="44261-6") == phq9
    assert await _ids(c, "Observation", code="44261-6,70274-6") == everyone
    assert await _ids(c, "Observation", code="http://snomed.info/sct|44261-6") == []
    assert await _ids(c, "Observation", category="survey") == everyone
    assert await _ids(c, "Observation", category="laboratory") == []
    assert await _ids(c, "Observation", status="final") == everyone
    assert await _ids(c, "Observation", status="preliminary") == []


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2026-10"], [1, 2]),
        (["ge2026-10-01"], [1, 2, 3, 4]),
        (["gt2026-10-01"], [2, 3, 4]),
        (["lt2026-10-01"], [0]),
        (["le2026-10-01"], [0, 1]),
        (["ge2026-10", "lt2026-11"], [1, 2]),
        (["2026"], [0, 1, 2, 3, 4]),
        (["eq2026-11-15T10:00:00Z"], [4]),
        (["ge2026-11-15T10:00:01+00:00"], []),
        (["lt2026-09-03T10:00:00.000001Z"], [0]),
    ],
)
async def test_date_prefixes_follow_fhir_precision(
    clinic: Clinic, dates: list[str], expected: list[int]
) -> None:
    ids = await _history(clinic)
    query = httpx.QueryParams([("date", d) for d in dates])
    response = await clinic.client.get("/fhir/R4/Observation", params=query)
    assert [e["resource"]["id"] for e in response.json().get("entry", [])] == [
        ids[i] for i in expected
    ]
    authored = httpx.QueryParams([("authored", d) for d in dates])
    responses = await clinic.client.get("/fhir/R4/QuestionnaireResponse", params=authored)
    assert [e["resource"]["id"] for e in responses.json().get("entry", [])] == [
        ids[i] for i in expected
    ]


async def test_paging_follows_next_links_to_the_end_in_either_order(clinic: Clinic) -> None:
    ids = await _history(clinic)
    for sort, expected in (("date", ids), ("-date", ids[::-1])):
        url: str | None = f"/fhir/R4/Observation?_count=2&_sort={sort}&category=survey"
        seen: list[str] = []
        pages = 0
        while url:
            body = (await clinic.client.get(url)).json()
            pages += 1
            seen += [e["resource"]["id"] for e in body["entry"]]
            assert len(body["entry"]) <= 2
            links = {link["relation"]: link["url"] for link in body["link"]}
            assert "category=survey" in links["self"]
            url = links.get("next")
        assert (seen, pages) == (expected, 3)
    responses = await _ids(clinic.client, "QuestionnaireResponse", _sort="-authored", _count=200)
    assert responses == ids[::-1]
    big = await clinic.client.get("/fhir/R4/Observation", params={"_count": 100000})
    assert big.status_code == 200  # bounded to 200 per page, not refused


async def test_questionnaire_responses_are_found_by_questionnaire_and_status(
    clinic: Clinic,
) -> None:
    ids = await _history(clinic)
    c = clinic.client
    gad7 = [ids[1], ids[3]]
    assert await _ids(c, "QuestionnaireResponse", questionnaire=f"{BASE}/Questionnaire/gad-7") == (
        gad7
    )
    assert await _ids(c, "QuestionnaireResponse", status="completed", patient=clinic.patient) == (
        ids
    )
    assert await _ids(c, "QuestionnaireResponse", status="in-progress") == []


async def test_people_are_found_by_identifier(clinic: Clinic) -> None:
    c = clinic.client
    assert await _ids(c, "Patient", identifier="MRN-9") == [clinic.patient]
    assert await _ids(
        c, "Patient", identifier=f"{BASE}/NamingSystem/patient-external-id|MRN-9"
    ) == [clinic.patient]
    assert await _ids(c, "Patient", identifier="MRN-404") == []
    assert await _ids(c, "Practitioner", identifier="NPI-1") == [clinic.practitioner]


async def test_flags_are_found_by_patient_and_status(clinic: Clinic) -> None:
    await _store(clinic, phq9_response([1] * 8 + [2]))  # item 9 raises a risk Flag
    other = await clinic.client.post("/v1/patients", json={"external_id": "MRN-2"})
    c = clinic.client
    [flag] = await _ids(c, "Flag", patient=f"Patient/{clinic.patient}", status="active")
    assert await _ids(c, "Flag", **{"patient:identifier": "MRN-9"}) == [flag]
    assert await _ids(c, "Flag", patient=other.json()["id"]) == []
    assert await _ids(c, "Flag", patient=clinic.patient, status="inactive") == []


# Strict parameters, tenancy, scopes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Flag", {"patient": "x", "bogus": "1"}),
        ("Observation", {"value-quantity": "gt10"}),
        ("Observation", {"code:text": "phq"}),
        ("QuestionnaireResponse", {"date": "2026"}),
        ("Patient", {"name": "Smith"}),
        ("Questionnaire", {"title": "PHQ"}),
        ("Questionnaire/phq-9", {"_elements": "id"}),
    ],
)
async def test_unknown_search_parameters_are_refused_unless_lenient(
    clinic: Clinic, path: str, params: dict[str, str]
) -> None:
    strict = await clinic.client.get(f"/fhir/R4/{path}", params=params)
    issues = _outcome(strict, 400)
    assert issues[0]["code"] == "not-supported"
    lenient = await clinic.client.get(
        f"/fhir/R4/{path}", params=params, headers={"Prefer": "handling=lenient"}
    )
    assert lenient.status_code == 200, lenient.text
    for link in lenient.json().get("link", []):
        assert "bogus" not in link["url"]
        assert "value-quantity" not in link["url"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"date": "yesterday"}, "date"),
        ({"date": "2026-10-01T10:00:00"}, "date"),
        ({"date": "ne2026"}, "date"),
        ({"_count": "0"}, "_count"),
        ({"_sort": "code"}, "_sort"),
        ({"_cursor": "not-ours"}, "_cursor"),
    ],
)
async def test_bad_search_values_are_400_naming_the_parameter(
    clinic: Clinic, params: dict[str, str], parameter: str
) -> None:
    issues = _outcome(await clinic.client.get("/fhir/R4/Observation", params=params), 400)
    assert issues[0]["expression"] == [parameter]


async def test_another_tenant_sees_nothing(api: Api) -> None:
    seen = Seen()
    clinic = await _clinic(api, seen)
    created = (await _store(clinic, phq9_response([1] * 8 + [2]))).json()
    other = seen.watch(await api.client_for("clinic-b"))
    for path in [
        f"QuestionnaireResponse/{created['id']}",
        f"Observation/{created['id']}",
        f"Patient/{clinic.patient}",
        f"Practitioner/{clinic.practitioner}",
    ]:
        _outcome(await other.get(f"/fhir/R4/{path}"), 404)
    for path, params in [
        ("Observation", {}),
        ("QuestionnaireResponse", {"patient": clinic.patient}),
        ("Patient", {"identifier": "MRN-9"}),
        ("Flag", {"patient": clinic.patient}),
    ]:
        assert await _ids(other, path, **params) == []
    # The other tenant's dyad cannot be written to either.
    qr = phq9_response([1] * 9)
    response = await other.post(
        "/fhir/R4/QuestionnaireResponse",
        json=qr,
        params={"dyad": clinic.dyad, "session": 1},
        headers=FHIR,
    )
    _outcome(response, 404)
    assert seen.validate() > 0


async def test_reads_need_the_read_scope_and_are_audited(api: Api) -> None:
    from service.domain.records import Scope
    from service.store.repository import SqlStore

    seen = Seen()
    clinic = await _clinic(api, seen)
    created = (await _store(clinic, phq9_response([1] * 9))).json()
    writer = seen.watch(await api.client_for("clinic-a", Scope.WRITE))
    _outcome(await writer.get(f"/fhir/R4/Observation/{created['id']}"), 403)
    _outcome(await writer.get("/fhir/R4/Observation"), 403)
    stored = await writer.post(
        "/fhir/R4/QuestionnaireResponse",
        json=phq9_response([1] * 9),
        params={"dyad": clinic.dyad, "session": 2},
        headers=FHIR,
    )
    assert stored.status_code == 201, stored.text  # storing needs WRITE only
    await clinic.client.get(f"/fhir/R4/Observation/{created['id']}")
    await clinic.client.get("/fhir/R4/Observation", params={"patient": clinic.patient})

    def events(connection: Any) -> list[tuple[str, str, str | None]]:
        store = SqlStore(connection)
        tenant = store.tenant_by_name("clinic-a")
        assert tenant is not None
        return [(e.action, e.outcome, e.object_id) for e in store.audit_events(tenant.id)]

    trail = await api.services.database.read(events)
    assert ("administration.read", "success", created["id"]) in trail
    assert ("administration.search", "success", clinic.patient) in trail
    assert ("administration.read", "denied", "read") in trail  # the scope it lacked
    assert seen.validate() > 0


# HTTP semantics -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "QuestionnaireResponse/1", "GET"),
        ("DELETE", "Observation/1", "GET"),
        ("PATCH", "Patient/1", "GET"),
        ("PUT", "Flag/1", "GET"),
        ("POST", "Observation", "GET"),
        ("DELETE", "QuestionnaireResponse", "GET, POST"),
        ("GET", "QuestionnaireResponse/$extract", "POST"),
    ],
)
async def test_unsupported_interactions_on_known_types_are_405_with_allow(
    clinic: Clinic, method: str, path: str, allow: str
) -> None:
    response = await clinic.client.request(method, f"/fhir/R4/{path}", json={})
    _outcome(response, 405)
    assert response.headers["Allow"] == allow


async def test_xml_is_406_and_format_json_is_honoured(clinic: Clinic) -> None:
    c = clinic.client
    for headers, params in [
        ({"Accept": "application/fhir+xml"}, {}),
        ({}, {"_format": "xml"}),
        ({}, {"_format": "application/fhir+xml"}),
        ({"Accept": "text/xml, application/json;q=0"}, {}),
    ]:
        response = await c.get("/fhir/R4/metadata", headers=headers, params=params)
        assert response.status_code == 406, (headers, params)
        assert response.json()["resourceType"] == "OperationOutcome"
    for headers, params in [
        ({}, {"_format": "json"}),
        ({}, {"_format": "application/fhir+json"}),
        ({"Accept": "application/fhir+xml;q=0.9, application/fhir+json"}, {}),
        ({"Accept": "*/*"}, {}),
    ]:
        response = await c.get("/fhir/R4/Questionnaire/phq-9", headers=headers, params=params)
        assert response.status_code == 200, (headers, params)
        assert response.headers["content-type"] == "application/fhir+json"


async def test_extract_takes_a_parameters_resource(clinic: Clinic) -> None:
    qr = phq9_response([3, 3, 2, 2, 1, 1, 1, 1, 0])
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "questionnaire-response", "resource": qr}],
    }
    c = clinic.client
    plain = await c.post("/fhir/R4/QuestionnaireResponse/$extract", json=qr, headers=FHIR)
    wrapped = await c.post("/fhir/R4/QuestionnaireResponse/$extract", json=parameters, headers=FHIR)
    assert wrapped.status_code == 200, wrapped.text

    def values(bundle: dict[str, Any]) -> list[Any]:
        return [e["resource"].get("valueQuantity") for e in bundle["entry"][1:]]

    assert values(wrapped.json()) == values(plain.json())
    empty = {"resourceType": "Parameters", "parameter": [{"name": "questionnaire"}]}
    issues = _outcome(
        await c.post("/fhir/R4/QuestionnaireResponse/$extract", json=empty, headers=FHIR), 422
    )
    assert issues[0]["expression"] == ["Parameters.parameter"]


def test_the_second_validator_can_fail() -> None:
    from tests.integration.fhir_validators import medplum

    [valid, unknown_element, wrong_type] = medplum(
        [
            {"resourceType": "Patient", "id": "a"},
            {"resourceType": "Patient", "id": "a", "shoeSize": 9},
            {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
             "valueQuantity": {"value": "12"}},
        ]
    )  # fmt: skip
    assert valid == []
    assert unknown_element[0]["expression"] == ["Patient.shoeSize"]
    assert wrong_type


async def test_a_voided_administration_reads_as_entered_in_error(clinic: Clinic) -> None:
    ids = await _history(clinic)
    c, wrong = clinic.client, ids[1]
    voided = await c.post(f"/v1/administrations/{wrong}/void", json={"reason": "wrong client"})
    assert voided.status_code == 200
    for kind in ("QuestionnaireResponse", "Observation"):
        read = await c.get(f"/fhir/R4/{kind}/{wrong}")
        assert read.json()["status"] == "entered-in-error"
        assert read.json()["meta"]["versionId"] == "2"  # it changed: a new version
        assert read.headers["ETag"] == 'W/"2"'
    kept = [i for i in ids if i != wrong]
    assert await _ids(c, "Observation") == ids  # still found, with its status
    assert await _ids(c, "Observation", status="final") == kept
    assert await _ids(c, "Observation", status="entered-in-error") == [wrong]
    assert await _ids(c, "Observation", status="final,entered-in-error") == ids
    assert await _ids(c, "QuestionnaireResponse", status="completed") == kept
