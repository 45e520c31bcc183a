"""The CapabilityStatement is truthful: a test generated from it exercises every interaction,
operation and search parameter it declares, and every method it does not declare is refused.

Each declared search parameter is sent twice, with a value that matches the stored instance
and one that does not: it must find the instance the first time and not the second, so a
parameter that were silently ignored would fail here. A declaration this test has no sample
for fails too, so the statement cannot grow without being exercised.
"""

from __future__ import annotations

import uuid

from tests.conftest import Api
from tests.integration.fhir_validators import Seen
from tests.integration.test_fhir import BASE, FHIR, phq9_response

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _samples(people: dict[str, str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, parameter): (a value matching the stored instance, one that does not)."""
    patient, nobody = f"Patient/{people['patient']}", f"Patient/{uuid.uuid4()}"
    return {
        ("Questionnaire", "url"): (f"{BASE}/Questionnaire/phq-9", f"{BASE}/Questionnaire/x"),
        ("Questionnaire", "version"): ("1.0.0", "0.0.0"),
        ("QuestionnaireResponse", "patient"): (patient, nobody),
        ("QuestionnaireResponse", "subject"): (patient, nobody),
        ("QuestionnaireResponse", "authored"): ("2026-11-20", "lt2026-11-20"),
        ("QuestionnaireResponse", "questionnaire"): (
            f"{BASE}/Questionnaire/phq-9", f"{BASE}/Questionnaire/gad-7",
        ),
        ("QuestionnaireResponse", "status"): ("completed", "amended"),
        ("Observation", "patient"): (patient, nobody),
        ("Observation", "subject"): (patient, nobody),
        ("Observation", "code"): ("http://loinc.org|44261-6", "http://loinc.org|70274-6"),
        ("Observation", "date"): ("ge2026-11-20", "gt2026-11-21"),
        ("Observation", "category"): ("survey", "laboratory"),
        ("Observation", "status"): ("final", "preliminary"),
        ("Patient", "identifier"): ("MRN-9", "MRN-0"),
        ("Practitioner", "identifier"): ("NPI-1", "NPI-0"),
        ("Flag", "patient"): (patient, nobody),
        ("Flag", "status"): ("active", "inactive"),
    }  # fmt: skip


async def test_every_declared_capability_works_and_nothing_else(api: Api) -> None:
    seen = Seen()
    client = seen.watch(await api.client_for("clinic-a"))
    patient = (await client.post("/v1/patients", json={"external_id": "MRN-9"})).json()["id"]
    practitioner = (await client.post("/v1/practitioners", json={"external_id": "NPI-1"})).json()
    dyad = await client.post(
        "/v1/dyads", json={"patient_id": patient, "practitioner_id": practitioner["id"]}
    )
    params = {"dyad": dyad.json()["id"], "session": 1}
    qr = phq9_response([1] * 8 + [2])  # item 9 endorsed: a Flag is raised
    statement = (await client.get("/fhir/R4/metadata")).json()
    ids: dict[str, str] = {"Questionnaire": "phq-9", "Patient": patient,
                           "Practitioner": practitioner["id"]}  # fmt: skip
    samples = _samples({"patient": patient})
    exercised = set()
    resources = statement["rest"][0]["resource"]
    # Create first, so that every other interaction has something to find.
    for resource in sorted(resources, key=lambda r: r["type"] != "QuestionnaireResponse"):
        kind = resource["type"]
        codes = [i["code"] for i in resource["interaction"]]
        if "create" in codes:
            created = await client.post(f"/fhir/R4/{kind}", json=qr, params=params, headers=FHIR)
            assert created.status_code == 201, created.text
            ids[kind] = created.json()["id"]
            ids["Observation"] = created.json()["id"]
            exercised.add((kind, "create"))
        if kind == "Flag":
            flags = (await client.get("/fhir/R4/Flag")).json()
            ids[kind] = flags["entry"][0]["resource"]["id"]
        for code in codes:
            if code == "read":
                response = await client.get(f"/fhir/R4/{kind}/{ids[kind]}")
                assert response.status_code == 200, (kind, response.text)
                assert response.json()["id"] == ids[kind]
            elif code == "vread":
                response = await client.get(f"/fhir/R4/{kind}/{ids[kind]}/_history/1")
                assert response.status_code == 200, (kind, response.text)
            elif code == "search-type":
                response = await client.get(f"/fhir/R4/{kind}")
                assert response.status_code == 200, (kind, response.text)
                found = [e["resource"]["id"] for e in response.json().get("entry", [])]
                assert ids[kind] in found
            else:
                assert code == "create", f"{kind} declares {code}, which this test cannot run"
            exercised.add((kind, code))
        for parameter in resource.get("searchParam", []):
            name = parameter["name"]
            assert (kind, name) in samples, f"{kind}?{name} is declared but never exercised"
            hit, miss = samples[kind, name]
            for value, expected in ((hit, True), (miss, False)):
                response = await client.get(f"/fhir/R4/{kind}", params={name: value})
                assert response.status_code == 200, (kind, name, response.text)
                found = [e["resource"]["id"] for e in response.json().get("entry", [])]
                assert (ids[kind] in found) is expected, (kind, name, value, found)
            exercised.add((kind, name))
        for operation in resource.get("operation", []):
            assert operation["name"] == "extract"
            response = await client.post(f"/fhir/R4/{kind}/$extract", json=qr, headers=FHIR)
            assert response.status_code == 200, response.text
            exercised.add((kind, "$extract"))
        # Whatever is not declared is refused: 405 on the type and on an instance.
        allowed = {
            "type": _set("search-type" in codes, "GET") | _set("create" in codes, "POST"),
            "instance": _set("read" in codes, "GET"),
        }
        for level, path in (("type", kind), ("instance", f"{kind}/{ids[kind]}")):
            for method in METHODS:
                if method in allowed[level]:
                    continue
                response = await client.request(method, f"/fhir/R4/{path}", json={})
                assert response.status_code == 405, (method, path, response.text)
                assert set(response.headers["Allow"].split(", ")) == allowed[level]
    assert len(exercised) == len(samples) + sum(
        len(r["interaction"]) + len(r.get("operation", [])) for r in resources
    )
    assert (await client.get("/fhir/R4/Encounter")).status_code == 404
    assert seen.validate() > 0


def _set(flag: bool, value: str) -> set[str]:
    return {value} if flag else set()
