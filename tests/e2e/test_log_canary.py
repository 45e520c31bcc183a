"""No patient value, key or token reaches the logs (issue 16.3), on both engines.

Marker values go through every face (REST, GraphQL, FHIR) of a real ``rapport serve``, in
requests that succeed, that fail with 4xx, and that fail with 5xx: a database error is
provoked behind the server's back (a column of the idempotency table renamed), so the failing
statement carries a marked Idempotency-Key and answers as parameters. Then nothing the process
wrote (stdout and stderr, at log level debug) holds a marker, the API key's secret or the
bearer token; and the 5xx were logged (with their request ids), so silence cannot pass.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.e2e.server import VENV_BIN, base_environment, free_port, running

PHQ9 = {str(i): 1 for i in range(1, 10)}
FHIR = {"Content-Type": "application/fhir+json"}
LOINC_ITEMS = [
    "44250-9", "44255-8", "44259-0", "44254-1", "44251-7",
    "44258-2", "44252-5", "44253-3", "44260-8",
]  # fmt: skip


def _marker(kind: str) -> str:
    return f"CANARY{kind}{uuid.uuid4().hex[:10]}"


def _qr(subject: str, identifier: str, author: str, session: int = 5) -> dict[str, Any]:
    return {
        "extension": [{"url": "http://rapport.invalid/fhir/StructureDefinition/session-number",
                       "valueInteger": session}],
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://rapport.invalid/fhir/Questionnaire/phq-9|1.0.0",
        "status": "completed",
        "subject": {"identifier": {"value": subject}},
        "author": {"identifier": {"value": author}},
        "identifier": {"value": identifier},
        "authored": "2026-11-20T10:00:00Z",
        "item": [
            {"linkId": link, "answer": [{"valueCoding": {"system": "http://loinc.org",
                                                         "code": "LA6569-3"}}]}
            for link in LOINC_ITEMS
        ],
    }  # fmt: skip


def _break_idempotency_table(url: str) -> None:
    """A column the idempotency lookup reads disappears: the next keyed store fails in the
    database, with the key among the statement's parameters."""
    statement = "ALTER TABLE idempotency_keys RENAME COLUMN response TO response_gone"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute(statement)
        return
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(statement.encode())


class Face:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.statuses: list[int] = []
        self.markers: list[str] = []

    def marker(self, kind: str) -> str:
        value = _marker(kind)
        self.markers.append(value)
        return value

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        self.statuses.append(response.status_code)
        return response

    def graphql(self, query: str, variables: dict[str, Any]) -> httpx.Response:
        return self.send("POST", "/graphql", json={"query": query, "variables": variables})


def _exercise(face: Face, token: str, url: str) -> None:
    m = face.marker
    # REST: people and a dyad (2xx), a keyed administration (2xx), refusals (4xx).
    mrn, npi = m("mrn"), m("npi")
    patient = face.send("POST", "/v1/patients", json={"external_id": mrn}).json()["id"]
    practitioner = face.send("POST", "/v1/practitioners", json={"external_id": npi}).json()["id"]
    dyad = face.send(
        "POST", "/v1/dyads", json={"patient_id": patient, "practitioner_id": practitioner}
    ).json()["id"]
    body = {"instrument": "phq-9", "session": 1, "responses": PHQ9}
    stored = face.send(
        "POST", f"/v1/dyads/{dyad}/administrations", json=body,
        headers={"Idempotency-Key": m("idem")},
    )  # fmt: skip
    assert stored.status_code == 201, stored.text
    face.send("GET", f"/v1/patients?access_token={m('query')}&identifier={m('query')}")
    face.send("GET", f"/v1/patients/{m('path')}")
    face.send("POST", "/v1/instruments/phq-9/score", json={"responses": {"1": m("answer")}})
    face.send("POST", "/v1/patients", json={"external_id": mrn})  # a duplicate: 409
    face.send("GET", "/v1/patients", headers={"Authorization": f"Bearer rap_{m('tok')}_x"})
    face.send("POST", "/v1/patients", content=b'{"external_id": "' + m("json").encode() + b'"')
    face.send("GET", f"/nowhere/{m('unrouted')}")

    # GraphQL: a mutation that succeeds, invalid variables, an unknown field with a literal.
    created = face.graphql(
        "mutation($e: String!) { createPatient(externalId: $e) { __typename } }", {"e": m("gmrn")}
    )
    assert created.status_code == 200, created.text
    face.graphql("query($d: ID!) { dyad(id: $d) { id } }", {"d": m("gid")})
    face.graphql(f'{{ dyad(id: "{m("glit")}") {{ nothing }} }}', {})
    face.graphql(
        "mutation($i: AdministrationInput!, $k: String) { submitAdministration(input: $i, "
        "idempotencyKey: $k) { __typename } }",
        {"i": {"dyadId": dyad, "instrument": "phq-9", "session": 2,
               "responses": [{"item": "1", "value": 1}]}, "k": m("gidem")},
    )  # fmt: skip

    # FHIR: a stored response (2xx), an unknown subject (4xx), a search with a marker.
    qr = _qr(mrn, m("fid"), npi)
    stored_fhir = face.send("POST", "/fhir/R4/QuestionnaireResponse", json=qr, headers=FHIR)
    assert stored_fhir.status_code == 201, stored_fhir.text
    face.send(
        "POST", "/fhir/R4/QuestionnaireResponse", json=_qr(m("fmrn"), m("fid"), m("fnpi")),
        headers=FHIR,
    )  # fmt: skip
    face.send("GET", f"/fhir/R4/Flag?patient={m('fsearch')}")
    face.send("GET", f"/fhir/R4/Patient/{m('fpath')}")
    # Values the database refuses (on PostgreSQL today: a 5xx unless refused before).
    long_id = m("flong") + "x" * 300
    face.send(
        "POST", "/fhir/R4/QuestionnaireResponse", json=_qr(mrn, long_id, npi, 6), headers=FHIR
    )
    face.send(
        "POST", "/fhir/R4/QuestionnaireResponse", json=_qr(mrn, m("fnul") + "\x00", npi, 7),
        headers=FHIR,
    )  # fmt: skip

    # 5xx on every face: the database fails under statements carrying marked values.
    _break_idempotency_table(url)
    failed_rest = face.send(
        "POST", f"/v1/dyads/{dyad}/administrations", json=body | {"session": 3},
        headers={"Idempotency-Key": m("idem5")},
    )  # fmt: skip
    failed_fhir = face.send(
        "POST", "/fhir/R4/QuestionnaireResponse", json=_qr(mrn, m("fid5"), npi, 9), headers=FHIR
    )
    failed_graphql = face.graphql(
        "mutation($i: AdministrationInput!, $k: String) { submitAdministration(input: $i, "
        "idempotencyKey: $k) { __typename } }",
        {"i": {"dyadId": dyad, "instrument": "phq-9", "session": 4,
               "responses": [{"item": str(i), "value": 1} for i in range(1, 10)]},
         "k": m("gidem5")},
    )  # fmt: skip
    assert failed_rest.status_code >= 500, failed_rest.text
    assert failed_fhir.status_code >= 500, failed_fhir.text
    assert "errors" in failed_graphql.json(), failed_graphql.text


def test_no_marker_reaches_the_logs(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = base_environment() | {
        "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_LOG_LEVEL": "debug",
    }
    issued = subprocess.run(
        [f"{VENV_BIN}/rapport", "create-api-key", "--tenant", "Canary Clinic"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    token = issued.stdout.strip().splitlines()[-1]
    secret = token.split("_", 2)[2]
    serve = [f"{VENV_BIN}/rapport", "serve", "--port", str(port)]
    with running(serve, env, tmp_path, port) as (_process, base):
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "canary-run"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            face = Face(http)
            _exercise(face, token, database_url)
    written = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    written += issued.stderr

    assert any(200 <= s < 300 for s in face.statuses)
    assert any(400 <= s < 500 for s in face.statuses)
    assert any(s >= 500 for s in face.statuses)
    leaked = [m for m in [*face.markers, token, secret] if m in written]
    assert leaked == [], f"in the logs: {leaked}"
    assert "CANARY" not in written
    lines = [json.loads(line) for line in written.splitlines() if line.strip()]
    failures = [line for line in lines if line["level"] == "ERROR" and line.get("exc_info")]
    assert failures, "the 5xx answers were not logged"
    assert all(line["request_id"] == "canary-run" for line in failures)
    access = [line for line in lines if line["logger"] == "rapport.access"]
    assert len(access) >= len(face.statuses)
    assert {line["status"] for line in access} >= set(face.statuses)
