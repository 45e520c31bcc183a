"""Every GraphQL query and mutation end to end, on SQLite and PostgreSQL.

Expected numbers are worked by hand in the comments (the same scenarios as
test_insights_api.py and test_records_api.py, so REST and GraphQL agree on them).
Expected errors are typed results in mutations (``__typename`` ValidationError,
NotFoundError, ForbiddenError, ConflictError) and errors with a stable
``extensions.code`` in queries.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from service.domain.records import Scope
from tests.conftest import Api
from tests.integration.graphql_support import (
    ALERT_FIELDS,
    CREATE_DYAD,
    CREATE_PATIENT,
    CREATE_PRACTITIONER,
    SCORE_FIELDS,
    SUBMIT,
    data,
    error_codes,
    gql,
    new_dyad,
    phq9,
    responses,
    submit,
    wai,
)

PHQ9_10 = {str(i): v for i, v in enumerate([2, 2, 1, 1, 1, 1, 1, 1, 0], start=1)}  # total 10

SCORE = f"""
query($instrument: String!, $responses: [ResponseInput!]!, $population: Population) {{
  score(instrument: $instrument, responses: $responses, population: $population) {{
    {SCORE_FIELDS}
    provenance {{ definitionId population populationDefaulted }}
  }}
}}
"""

TRANSITION = f"""
mutation($id: ID!, $note: String) {{
  acknowledgeAlert(id: $id, note: $note) {{ ...Outcome }}
}}
fragment Outcome on AlertTransitionResult {{
  __typename
  ... on Alert {{ {ALERT_FIELDS} acknowledgedBy acknowledgedAt resolvedAt }}
  ... on NotFoundError {{ code message }}
  ... on ConflictError {{ code message }}
  ... on ForbiddenError {{ code message }}
  ... on ValidationError {{ code fields {{ field code }} }}
}}
"""
RESOLVE = TRANSITION.replace("acknowledgeAlert(", "resolveAlert(")


def _only_error(answer: dict[str, Any]) -> dict[str, Any]:
    errors = answer.get("errors") or []
    assert len(errors) == 1, answer
    error: dict[str, Any] = errors[0]
    return error


# Catalogue and stateless scoring ------------------------------------------------------------------


async def test_instruments_lists_the_catalogue(api: Api) -> None:
    client = await api.client_for("clinic-a")
    found = await data(
        client, "{ instruments { id shortName respondent direction itemCount pairedForm } }"
    )
    by_id = {i["id"]: i for i in found["instruments"]}
    assert {"phq-9", "gad-7", "core-10", "ors", "srs", "wai-sr", "wai-sr-t", "who-5"} <= set(by_id)
    assert by_id["phq-9"]["itemCount"] == 9  # item 10 (difficulty) is not scored
    assert by_id["phq-9"]["direction"] == "higher-is-worse"
    assert by_id["wai-sr"]["pairedForm"] == "wai-sr-t"
    assert by_id["wai-sr-t"]["respondent"] == "therapist"


async def test_score_scores_without_storing(api: Api) -> None:
    client = await api.client_for("clinic-a")
    variables = {"instrument": "phq-9", "responses": responses(PHQ9_10)}
    score = (await data(client, SCORE, variables))["score"]
    # 2+2+1+1+1+1+1+1+0 = 10: "moderate" (10-14), clinical for adults (>= 10).
    assert score["total"] == 10
    assert score["band"] == "moderate"
    assert score["clinical"] is True
    assert score["flags"] == []
    assert {"name": "total", "score": 10, "band": "moderate", "clinical": True} in score["scales"]
    assert score["provenance"] == {
        "definitionId": "phq-9",
        "population": "adult",
        "populationDefaulted": True,
    }

    adolescent = (await data(client, SCORE, variables | {"population": "adolescent"}))["score"]
    assert adolescent["clinical"] is False  # adolescents: 11 or more

    risk = responses(phq9(4, item9=1))
    flagged = (await data(client, SCORE, {"instrument": "phq-9", "responses": risk}))["score"]
    assert [(f["code"], f["items"]) for f in flagged["flags"]] == [("risk", ["9"])]

    listed = await data(client, "{ dyads { id } alerts { id } }")
    assert listed == {"dyads": [], "alerts": []}  # scoring stored nothing


async def test_score_errors_carry_stable_codes(api: Api) -> None:
    client = await api.client_for("clinic-a")
    unknown = await gql(client, SCORE, {"instrument": "oq-45", "responses": []})
    assert unknown["data"] is None
    assert error_codes(unknown) == ["instrument-not-found"]

    bad = responses({"1": 7, "2": 1.5, "99": 1})
    invalid = _only_error(await gql(client, SCORE, {"instrument": "phq-9", "responses": bad}))
    assert invalid["extensions"]["code"] == "invalid-responses"
    assert invalid["path"] == ["score"]
    fields = {(f["field"], f["code"]) for f in invalid["extensions"]["fields"]}
    assert fields == {("1", "out-of-range"), ("2", "not-integer"), ("99", "unknown-item")}

    variables = {"instrument": "phq-9", "responses": responses(PHQ9_10), "population": "elderly"}
    # Population is an enum: an unknown one is refused before the operation runs.
    population = _only_error(await gql(client, SCORE, variables))
    assert population["extensions"]["code"] == "invalid-query"
    assert "population" in population["message"].lower()


# Patients, practitioners, dyads -------------------------------------------------------------------


async def test_people_and_dyads_are_created_and_read(api: Api) -> None:
    client = await api.client_for("clinic-a")
    patient = (
        await data(
            client,
            'mutation { createPatient(externalId: "MRN-1", population: adolescent) {'
            " __typename ... on Patient { id externalId population createdAt } } }",
        )
    )["createPatient"]
    assert patient["__typename"] == "Patient"
    assert (patient["externalId"], patient["population"]) == ("MRN-1", "adolescent")
    uuid.UUID(patient["id"])
    practitioner = (
        await data(client, CREATE_PRACTITIONER, {"externalId": "NPI-1", "displayName": "Dr Ada"})
    )["createPractitioner"]
    assert practitioner["__typename"] == "Practitioner"
    dyad = (
        await data(
            client,
            """mutation($p: ID!, $t: ID!) {
              createDyad(patientId: $p, practitionerId: $t, startedOn: "2026-01-05") {
                __typename ... on Dyad { id patientId practitionerId startedOn endedOn }
              }
            }""",
            {"p": patient["id"], "t": practitioner["id"]},
        )
    )["createDyad"]
    assert dyad["__typename"] == "Dyad"
    assert (dyad["patientId"], dyad["practitionerId"]) == (patient["id"], practitioner["id"])
    assert (dyad["startedOn"], dyad["endedOn"]) == ("2026-01-05", None)

    read = await data(
        client,
        """query($p: ID!, $t: ID!, $d: ID!) {
          patient(id: $p) { id externalId population }
          practitioner(id: $t) { id externalId displayName }
          dyad(id: $d) {
            id startedOn
            patient { externalId } practitioner { displayName }
            administrations { id } alerts { id }
          }
          dyads { id }
        }""",
        {"p": patient["id"], "t": practitioner["id"], "d": dyad["id"]},
    )
    assert read["patient"] == {
        "id": patient["id"],
        "externalId": "MRN-1",
        "population": "adolescent",
    }
    assert read["practitioner"]["displayName"] == "Dr Ada"
    assert read["dyad"] == {
        "id": dyad["id"],
        "startedOn": "2026-01-05",
        "patient": {"externalId": "MRN-1"},
        "practitioner": {"displayName": "Dr Ada"},
        "administrations": [],
        "alerts": [],
    }
    assert read["dyads"] == [{"id": dyad["id"]}]


async def test_unknown_or_malformed_ids_read_as_null(api: Api) -> None:
    client = await api.client_for("clinic-a")
    found = await data(
        client,
        """query($u: ID!) {
          p: patient(id: $u) { id } t: practitioner(id: $u) { id } d: dyad(id: $u) { id }
          c: calibration(practitionerId: $u) { pairs }
          bad: patient(id: "not-a-uuid") { id }
        }""",
        {"u": str(uuid.uuid4())},
    )
    assert found == {"p": None, "t": None, "d": None, "c": None, "bad": None}


async def test_create_mutations_return_typed_errors(api: Api) -> None:
    client = await api.client_for("clinic-a")
    first = (await data(client, CREATE_PATIENT, {"externalId": "MRN-7"}))["createPatient"]
    again = (await data(client, CREATE_PATIENT, {"externalId": "MRN-7"}))["createPatient"]
    assert again == {"__typename": "ConflictError", "code": "conflict", "existingId": first["id"]}

    for bad in ("", " padded ", "x" * 201):
        invalid = (await data(client, CREATE_PATIENT, {"externalId": bad}))["createPatient"]
        assert invalid["__typename"] == "ValidationError", bad
        assert invalid["fields"] == [{"field": "externalId", "code": "invalid-identifier"}]

    # Population is an enum: the schema refuses an unknown one before anything runs.
    population = await gql(
        client,
        'mutation { createPatient(externalId: "MRN-8", population: elderly) {'
        " __typename ... on ValidationError { code fields { field code } } } }",
    )
    assert population["data"] is None
    assert error_codes(population) == ["invalid-query"], population
    assert "elderly" in population["errors"][0]["message"]

    practitioner = await data(client, CREATE_PRACTITIONER, {"externalId": "NPI-7"})
    duplicate = await data(client, CREATE_PRACTITIONER, {"externalId": "NPI-7"})
    assert duplicate["createPractitioner"] == {
        "__typename": "ConflictError",
        "code": "conflict",
        "existingId": practitioner["createPractitioner"]["id"],
    }

    malformed = await data(client, CREATE_DYAD, {"patientId": "nope", "practitionerId": "nope"})
    assert malformed["createDyad"]["__typename"] == "ValidationError"
    assert {f["field"] for f in malformed["createDyad"]["fields"]} <= {
        "patientId",
        "practitionerId",
    }


async def test_validation_errors_name_graphql_fields_in_camel_case(api: Api) -> None:
    """DESIGN section 3: GraphQL has REST's field names in camelCase, also where an error
    points at the offending input. A client maps ``fields[].field`` back to the argument it
    sent, so ``patient_id`` (REST's spelling) names nothing in this schema."""
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    unknown = await data(
        client, CREATE_DYAD, {"patientId": str(uuid.uuid4()), "practitionerId": str(uuid.uuid4())}
    )
    assert {f["field"] for f in unknown["createDyad"]["fields"]} == {"patientId", "practitionerId"}

    backwards = await data(
        client,
        """mutation($p: ID!, $t: ID!) {
          createDyad(patientId: $p, practitionerId: $t, startedOn: "2026-03-01",
                     endedOn: "2026-02-01") {
            __typename ... on ValidationError { fields { field code } }
          }
        }""",
        {"p": people.patient_id, "t": people.practitioner_id},
    )
    assert backwards["createDyad"]["fields"] == [{"field": "endedOn", "code": "before-start"}]

    future = await data(
        client,
        SUBMIT,
        {
            "input": {
                "dyadId": people.dyad_id,
                "instrument": "phq-9",
                "session": 1,
                "responses": responses(PHQ9_10),
                "completedAt": "2999-01-01T10:00:00Z",
            }
        },
    )
    fields = [f["field"] for f in future["submitAdministration"]["fields"]]
    assert fields == ["completedAt"]


# Administrations ----------------------------------------------------------------------------------


async def test_an_administration_is_scored_stored_and_listed(api: Api) -> None:
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    stored = await submit(client, people.dyad_id, "phq-9", 1, PHQ9_10)
    assert stored["__typename"] == "Administration"
    assert (stored["session"], stored["respondent"], stored["dyadId"]) == (
        1,
        "client",
        people.dyad_id,
    )
    assert (stored["score"]["total"], stored["score"]["clinical"]) == (10, True)

    listed = await data(
        client,
        f"""query($d: ID!) {{
          dyad(id: $d) {{
            all: administrations {{ id score {{ {SCORE_FIELDS} }} }}
            gad: administrations(instrument: "gad-7") {{ id }}
          }}
        }}""",
        {"d": people.dyad_id},
    )
    assert listed["dyad"]["all"] == [{"id": stored["id"], "score": stored["score"]}]
    assert listed["dyad"]["gad"] == []


async def test_submit_administration_returns_typed_errors(api: Api) -> None:
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    invalid = await submit(client, people.dyad_id, "phq-9", 1, {"1": 7})
    assert invalid["__typename"] == "ValidationError"
    assert invalid["code"] == "invalid-responses"
    assert [(f["field"], f["code"]) for f in invalid["fields"]] == [("1", "out-of-range")]

    unknown_instrument = await submit(client, people.dyad_id, "oq-45", 1, {"1": 1})
    assert unknown_instrument["__typename"] == "NotFoundError"
    assert unknown_instrument["code"] == "instrument-not-found"

    unknown_dyad = await submit(client, str(uuid.uuid4()), "phq-9", 1, PHQ9_10)
    assert (unknown_dyad["__typename"], unknown_dyad["code"]) == ("NotFoundError", "not-found")

    malformed_dyad = await submit(client, "not-an-id", "phq-9", 1, PHQ9_10)
    assert malformed_dyad["__typename"] == "ValidationError"
    assert [f["field"] for f in malformed_dyad["fields"]] == ["dyadId"]

    base = {"dyadId": people.dyad_id, "instrument": "phq-9", "responses": responses(PHQ9_10)}
    mismatch = await data(
        client, SUBMIT, {"input": base | {"session": 0, "respondent": "therapist"}}
    )
    problems = {f["code"] for f in mismatch["submitAdministration"]["fields"]}
    assert problems == {"respondent-mismatch", "not-positive"}
    naive = await data(
        client, SUBMIT, {"input": base | {"session": 1, "completedAt": "2026-01-01T10:00:00"}}
    )
    assert naive["submitAdministration"]["fields"][0]["code"] == "naive-datetime"

    listed = await data(
        client, "query($d: ID!) { dyad(id: $d) { administrations { id } } }", {"d": people.dyad_id}
    )
    assert listed["dyad"]["administrations"] == []  # nothing half-written


async def test_submit_administration_is_idempotent(api: Api) -> None:
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    key = f"ehr-msg-{uuid.uuid4()}"
    first = await submit(client, people.dyad_id, "phq-9", 1, PHQ9_10, key=key)
    retry = await submit(client, people.dyad_id, "phq-9", 1, PHQ9_10, key=key)
    assert first["__typename"] == retry["__typename"] == "Administration"
    assert retry == first  # the original answer, same id

    reused = await submit(client, people.dyad_id, "phq-9", 2, PHQ9_10, key=key)
    assert (reused["__typename"], reused["code"]) == ("ValidationError", "idempotency-key-reused")

    listed = await data(
        client, "query($d: ID!) { dyad(id: $d) { administrations { id } } }", {"d": people.dyad_id}
    )
    assert listed["dyad"]["administrations"] == [{"id": first["id"]}]  # stored once

    # The key is the caller's: REST and GraphQL share the store of keys within a tenant.
    rest = await client.post(
        f"/v1/dyads/{people.dyad_id}/administrations",
        json={"instrument": "phq-9", "session": 1, "responses": PHQ9_10},
        headers={"Idempotency-Key": key},
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["id"] == first["id"]
    assert rest.headers.get("Idempotent-Replayed") == "true"


REPLAYED = """
mutation($input: AdministrationInput!, $key: String) {
  submitAdministration(input: $input, idempotencyKey: $key) {
    __typename ... on Administration { id session replayed }
  }
}
"""


async def test_a_replay_says_so_on_both_faces(api: Api) -> None:
    """A retried request is reported alike: GraphQL's ``replayed``, REST's
    ``Idempotent-Replayed`` header; the first answer says it is not one (issue 15.4)."""
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    submission = {
        "input": {
            "dyadId": people.dyad_id, "instrument": "phq-9", "session": 1,
            "responses": responses(PHQ9_10),
        },
        "key": f"ehr-msg-{uuid.uuid4()}",
    }  # fmt: skip
    first = (await data(client, REPLAYED, submission))["submitAdministration"]
    again = (await data(client, REPLAYED, submission))["submitAdministration"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["id"] == first["id"]
    listed = await data(
        client, "query($d: ID!) { dyad(id: $d) { administrations { replayed } } }",
        {"d": people.dyad_id},
    )  # fmt: skip
    assert listed["dyad"]["administrations"] == [{"replayed": False}]

    body = {"instrument": "phq-9", "session": 2, "responses": PHQ9_10}
    headers = {"Idempotency-Key": f"ehr-msg-{uuid.uuid4()}"}
    path = f"/v1/dyads/{people.dyad_id}/administrations"
    created = await client.post(path, json=body, headers=headers)
    replayed = await client.post(path, json=body, headers=headers)
    assert (created.status_code, replayed.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in created.headers
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert replayed.json() == created.json()


# Insights -----------------------------------------------------------------------------------------

INSIGHTS = """
query($d: ID!, $t: ID!) {
  dyad(id: $d) {
    progress(instrument: "phq-9") {
      instrument direction population classification startedClinical
      points { session total change reliableChange clinical }
      nhsTalkingTherapies
    }
    concordance {
      instrument therapistInstrument ruleVersion expectedOffset bound
      sessions { session client therapist difference direction discordant }
      summary { n bias sd lowerLimit upperLimit }
    }
  }
  calibration(practitionerId: $t) { instrument therapistInstrument dyads pairs bias tendency }
}
"""


async def test_progress_concordance_and_calibration(api: Api) -> None:
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    # PHQ-9 18, 15, 11, 8: changes 0, -3, -7, -10; reliable (>= 6) from -7; 18 clinical (>= 10),
    # 8 not: recovered.
    for session, total in enumerate([18, 15, 11, 8], start=1):
        await submit(client, people.dyad_id, "phq-9", session, phq9(total))
    # WAI-SR rule: offset 5.3, bound 10.4128. Session 1: 50 - 44 = 6, concordant. Session 2:
    # 30 - 50 = -20, |-20 - 5.3| = 25.3: discordant. Session 3: client form only.
    for session, c, t in [(1, 50, 44), (2, 30, 50)]:
        await submit(client, people.dyad_id, "wai-sr", session, wai(c))
        await submit(client, people.dyad_id, "wai-sr-t", session, wai(t))
    await submit(client, people.dyad_id, "wai-sr", 3, wai(40))

    found = await data(client, INSIGHTS, {"d": people.dyad_id, "t": people.practitioner_id})
    progress = found["dyad"]["progress"]
    points = [
        (p["session"], p["total"], p["change"], p["reliableChange"]) for p in progress["points"]
    ]
    assert points == [
        (1, 18, 0, "none"),
        (2, 15, -3, "none"),
        (3, 11, -7, "improved"),
        (4, 8, -10, "improved"),
    ]
    assert progress["classification"] == "recovered"
    assert (progress["direction"], progress["population"]) == ("higher-is-worse", "adult")
    assert progress["startedClinical"] is True
    assert progress["nhsTalkingTherapies"]["applicable"] is False  # no GAD-7 at all

    concordance = found["dyad"]["concordance"]
    assert (concordance["instrument"], concordance["therapistInstrument"]) == ("wai-sr", "wai-sr-t")
    assert [(s["session"], s["difference"], s["discordant"]) for s in concordance["sessions"]] == [
        (1, 6.0, False),
        (2, -20.0, True),
    ]
    assert concordance["sessions"][1]["direction"] == "therapist-higher"
    assert concordance["expectedOffset"] == pytest.approx(5.3)
    assert concordance["bound"] == pytest.approx(10.412757, abs=1e-4)
    # bias = (6 - 20) / 2 = -7; SD = |6 - (-20)| / sqrt(2) = 18.384776.
    summary = concordance["summary"]
    assert summary["n"] == 2
    assert summary["bias"] == pytest.approx(-7.0)
    assert summary["sd"] == pytest.approx(18.384776, abs=1e-5)
    assert summary["lowerLimit"] == pytest.approx(-7 - 1.96 * 18.384776, abs=1e-4)

    calibration = {c["instrument"]: c for c in found["calibration"]}
    assert calibration["wai-sr"]["therapistInstrument"] == "wai-sr-t"
    assert (calibration["wai-sr"]["dyads"], calibration["wai-sr"]["pairs"]) == (1, 2)
    assert calibration["wai-sr"]["bias"] == pytest.approx(-7.0)
    assert calibration["wai-sr"]["tendency"] is None  # fewer than five pairs


async def test_insight_errors_carry_stable_codes(api: Api) -> None:
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    unknown = await gql(
        client,
        'query($d: ID!) { dyad(id: $d) { progress(instrument: "oq-45") { classification } } }',
        {"d": people.dyad_id},
    )
    assert error_codes(unknown) == ["instrument-not-found"]
    assert unknown["errors"][0]["path"] == ["dyad", "progress"]

    empty = await data(
        client,
        'query($d: ID!) { dyad(id: $d) { progress(instrument: "gad-7") { points { total }'
        " classification } } }",
        {"d": people.dyad_id},
    )
    assert empty["dyad"]["progress"] == {"points": [], "classification": "not-applicable"}

    not_a_pair = _only_error(
        await gql(
            client,
            'query($d: ID!) { dyad(id: $d) { concordance(instrument: "phq-9") { bound } } }',
            {"d": people.dyad_id},
        )
    )
    assert not_a_pair["extensions"]["code"] == "validation-failed"
    assert not_a_pair["extensions"]["fields"][0]["field"] == "instrument"


# Alerts -------------------------------------------------------------------------------------------


async def test_a_risk_alert_is_listed_acknowledged_and_resolved(api: Api) -> None:
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    stored = await submit(client, people.dyad_id, "phq-9", 1, phq9(6, item9=1))
    listing = f"""query($d: ID!, $status: AlertStatus, $kind: AlertKind) {{
      alerts(dyadId: $d, status: $status, kind: $kind) {{ {ALERT_FIELDS} }}
      dyad(id: $d) {{ alerts(status: $status) {{ id kind }} }}
    }}"""
    found = await data(client, listing, {"d": people.dyad_id})
    [alert] = found["alerts"]
    assert (alert["kind"], alert["severity"], alert["status"]) == ("risk", "high", "open")
    assert alert["dyadId"] == people.dyad_id
    assert alert["evidence"]["administration_id"] == stored["id"]
    assert alert["evidence"]["items"] == ["9"]
    assert found["dyad"]["alerts"] == [{"id": alert["id"], "kind": "risk"}]
    risk_only = await data(client, listing, {"d": people.dyad_id, "kind": "deterioration"})
    assert risk_only["alerts"] == []

    ack = await data(client, TRANSITION, {"id": alert["id"], "note": "called"})
    ack = ack["acknowledgeAlert"]
    assert (ack["__typename"], ack["status"], ack["acknowledgedNote"]) == (
        "Alert",
        "acknowledged",
        "called",
    )
    assert ack["acknowledgedBy"]
    assert ack["acknowledgedAt"]
    done = await data(client, RESOLVE, {"id": alert["id"], "note": "safety plan"})
    assert (done["resolveAlert"]["status"], done["resolveAlert"]["resolvedNote"]) == (
        "resolved",
        "safety plan",
    )

    again = (await data(client, TRANSITION, {"id": alert["id"]}))["acknowledgeAlert"]
    assert (again["__typename"], again["code"]) == ("ConflictError", "conflict")
    assert (await data(client, listing, {"d": people.dyad_id, "status": "open"}))["alerts"] == []
    resolved = await data(client, listing, {"d": people.dyad_id, "status": "resolved"})
    assert [a["id"] for a in resolved["alerts"]] == [alert["id"]]
    assert resolved["dyad"]["alerts"] == [{"id": alert["id"], "kind": "risk"}]


async def test_alert_mutations_and_queries_return_typed_errors(api: Api) -> None:
    client = await api.client_for("clinic-a")
    missing = (await data(client, RESOLVE, {"id": str(uuid.uuid4())}))["resolveAlert"]
    assert (missing["__typename"], missing["code"]) == ("NotFoundError", "not-found")
    malformed = (await data(client, TRANSITION, {"id": "nope"}))["acknowledgeAlert"]
    assert malformed == {
        "__typename": "ValidationError",
        "code": "validation-failed",
        "fields": [{"field": "id", "code": "invalid-id"}],
    }
    long_note = await data(client, TRANSITION, {"id": str(uuid.uuid4()), "note": "x" * 2001})
    assert long_note["acknowledgeAlert"]["fields"] == [{"field": "note", "code": "too-long"}]

    for arguments, field in [
        ('dyadId: "x"', "dyadId"),
        ('after: "nonsense"', None),  # REST's parameter is "cursor", GraphQL's "after"
    ]:
        error = _only_error(await gql(client, f"{{ alerts({arguments}) {{ id }} }}"))
        assert error["extensions"]["code"] == "validation-failed", arguments
        assert error["extensions"]["fields"], arguments
        if field is not None:
            assert error["extensions"]["fields"][0]["field"] == field, arguments


async def test_an_unknown_status_or_kind_is_refused_wherever_it_is_asked(api: Api) -> None:
    """Status and kind are enums: ``dyad { alerts(status: "opn") }`` is refused as the
    top-level field refuses it, not answered with an empty list (issue 16.8)."""
    client = await api.client_for("clinic-a")
    people = await new_dyad(client)
    await submit(client, people.dyad_id, "phq-9", 1, phq9(6, item9=1))
    d = people.dyad_id
    for document in (
        "{ alerts(status: opn) { id } }",
        f'{{ dyad(id: "{d}") {{ alerts(status: opn) {{ id }} }} }}',
        '{ alerts(status: "open") { id } }',  # a string is not an enum value
        f'{{ dyad(id: "{d}") {{ alerts(status: "open") {{ id }} }} }}',
        "{ alerts(kind: nope) { id } }",
    ):
        answer = await gql(client, document)
        assert answer["data"] is None, (document, answer)
        assert error_codes(answer) == ["invalid-query"], (document, answer)
    for variables in ({"s": "opn"}, {"s": "not-on-track"}):
        answer = await gql(
            client,
            "query($d: ID!, $s: AlertStatus) { dyad(id: $d) { alerts(status: $s) { id } } }",
            {"d": d, **variables},
        )
        assert answer["data"] is None, answer
        assert error_codes(answer) == ["invalid-query"], answer
    nested = await data(client, f'{{ dyad(id: "{d}") {{ alerts(status: open) {{ kind }} }} }}')
    assert nested["dyad"]["alerts"] == [{"kind": "risk"}]
    kinds = await data(
        client, "{ alerts(kind: risk) { kind } none: alerts(kind: not_on_track) { id } }"
    )
    assert kinds == {"alerts": [{"kind": "risk"}], "none": []}


async def test_a_negative_page_size_is_a_validation_error(api: Api) -> None:
    """REST refuses ``limit`` below 1 with 422 validation-failed. GraphQL must refuse a
    negative ``first`` with the same code, not fail unexpectedly ("Unexpected error.") or,
    on SQLite, where LIMIT -1 means no limit, read past the page cap."""
    client = await api.client_for("clinic-a")
    await new_dyad(client)
    for first in (-1, -50):
        for field in ("dyads", "alerts"):
            answer = await gql(
                client, f"query($n: Int!) {{ {field}(first: $n) {{ id }} }}", {"n": first}
            )
            assert error_codes(answer) == ["validation-failed"], (field, first, answer)


# Scopes and authentication ------------------------------------------------------------------------


async def test_a_read_only_key_reads_but_every_mutation_is_forbidden(api: Api) -> None:
    writer = await api.client_for("clinic-a")
    reader = await api.client_for("clinic-a", Scope.READ)
    people = await new_dyad(writer)
    await submit(writer, people.dyad_id, "phq-9", 1, phq9(3, item9=1))
    alert_id = (await data(writer, "{ alerts { id } }"))["alerts"][0]["id"]

    readable = await data(
        reader,
        "query($d: ID!) { dyad(id: $d) { id patient { externalId } } }",
        {"d": people.dyad_id},
    )
    assert readable["dyad"]["patient"]["externalId"] == people.patient_external_id

    refused = {
        "createPatient": await data(reader, CREATE_PATIENT, {"externalId": "R-2"}),
        "createPractitioner": await data(reader, CREATE_PRACTITIONER, {"externalId": "R-3"}),
        "createDyad": await data(
            reader,
            CREATE_DYAD,
            {"patientId": people.patient_id, "practitionerId": people.practitioner_id},
        ),
        "submitAdministration": {
            "submitAdministration": await submit(reader, people.dyad_id, "phq-9", 2, PHQ9_10)
        },
        "acknowledgeAlert": await data(reader, TRANSITION, {"id": alert_id}),
        "resolveAlert": await data(reader, RESOLVE, {"id": alert_id}),
    }
    for name, answer in refused.items():
        assert answer[name]["__typename"] == "ForbiddenError", (name, answer)
        assert answer[name]["code"] == "forbidden", name

    after = await data(
        writer,
        "query($d: ID!) { dyads { id } dyad(id: $d) { administrations { id } alerts { status } } }",
        {"d": people.dyad_id},
    )
    assert len(after["dyads"]) == 1  # nothing was created by the refused calls
    assert len(after["dyad"]["administrations"]) == 1
    assert after["dyad"]["alerts"] == [{"status": "open"}]


async def test_a_write_only_key_cannot_read_records(api: Api) -> None:
    writer = await api.client_for("clinic-a", Scope.WRITE)
    people = await new_dyad(writer)  # the mutations' payloads are the created objects
    answer = await gql(writer, "query($d: ID!) { dyad(id: $d) { id } }", {"d": people.dyad_id})
    assert error_codes(answer) == ["forbidden"]
    assert answer["data"] == {"dyad": None}
    catalogue = await data(writer, "{ instruments { id } }")
    assert catalogue["instruments"]  # the shared catalogue answers any valid key


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer rap_000000000000_nope", "Bearer garbage", "Basic bWF0cml4Om1hdHJpeA=="],
)
async def test_a_missing_or_bad_token_is_401_before_any_graphql_runs(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    bodies: list[dict[str, Any]] = [
        {"json": {"query": "{ instruments { id } }"}},
        {"json": {"query": 'mutation { createPatient(externalId: "X") { __typename } }'}},
        {"json": {"query": "{ this is not graphql"}},  # would be a GraphQL syntax error
        {"content": b"not json", "headers": {"content-type": "application/json"}},
    ]
    for body in bodies:
        extra = body.pop("headers", {})
        response = await api.http.post("/graphql", headers=headers | extra, **body)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers.get("www-authenticate", "").startswith("Bearer")
        problem = response.json()
        assert (problem["code"], problem["status"]) == ("unauthenticated", 401)
        assert "data" not in problem
        assert "errors" not in problem
    writer = await api.client_for("clinic-a")
    assert (await data(writer, "{ dyads { id } }"))["dyads"] == []  # nothing was created
