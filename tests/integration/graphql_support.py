"""Helpers shared by the GraphQL tests: calling /graphql, building records, counting SQL.

Nothing here asserts a behaviour of its own beyond "the setup call worked": the rules live in
the ``test_graphql_*`` modules.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine, event

from service.api.app import create_app
from service.settings import Settings
from tests.conftest import Api, migrated

T = TypeVar("T")
GUARD_SECONDS = 5.0
"""A generous wall-clock bound for one request: a hang fails the test instead of blocking."""

SCORE_FIELDS = """
    instrument total band clinical prorated missing
    scales { name score band clinical }
    flags { code items }
"""

ADMINISTRATION_FIELDS = f"""
    id dyadId session instrument respondent
    score {{ {SCORE_FIELDS} }}
"""

ALERT_FIELDS = "id dyadId kind severity status rule evidence acknowledgedNote resolvedNote"


async def guarded(awaitable: Awaitable[T], seconds: float = GUARD_SECONDS) -> T:
    return await asyncio.wait_for(awaitable, seconds)


async def post(
    client: httpx.AsyncClient, query: str, variables: Mapping[str, Any] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = dict(variables)
    return await guarded(client.post("/graphql", json=body))


async def gql(
    client: httpx.AsyncClient, query: str, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The whole GraphQL answer (data and errors) of a request that must be HTTP 200."""
    response = await post(client, query, variables)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def data(
    client: httpx.AsyncClient, query: str, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``data`` of an answer that must carry no errors."""
    answer = await gql(client, query, variables)
    assert not answer.get("errors"), answer
    result: dict[str, Any] = answer["data"]
    return result


def error_codes(answer: Mapping[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in answer.get("errors") or []]


def responses(answers: Mapping[str, float]) -> list[dict[str, Any]]:
    """REST's ``{"1": 2}`` as GraphQL's ``[{item: "1", value: 2}]``."""
    return [{"item": item, "value": value} for item, value in answers.items()]


# Questionnaire answers with chosen totals (the same shapes as test_insights_api.py) ----------


def phq9(total: int, item9: int = 0) -> dict[str, int]:
    """PHQ-9 answers with the given total; item 9 as given (0: no risk flag)."""
    values, left = [], total - item9
    for _ in range(8):
        v = min(3, left)
        values.append(v)
        left -= v
    assert left == 0
    return {**{str(i): v for i, v in enumerate(values, start=1)}, "9": item9}


def wai(total: int) -> dict[str, int]:
    """Twelve 1-5 answers summing to total (12-60)."""
    values, left = [1] * 12, total - 12
    for i in range(12):
        add = min(4, left)
        values[i] += add
        left -= add
    return {str(i): v for i, v in enumerate(values, start=1)}


# Building records through GraphQL ------------------------------------------------------------

CREATE_PATIENT = """
mutation($externalId: String!) {
  createPatient(externalId: $externalId) {
    __typename
    ... on Patient { id externalId }
    ... on ValidationError { code fields { field code } }
    ... on ConflictError { code existingId }
    ... on ForbiddenError { code }
  }
}
"""

CREATE_PRACTITIONER = """
mutation($externalId: String!, $displayName: String) {
  createPractitioner(externalId: $externalId, displayName: $displayName) {
    __typename
    ... on Practitioner { id externalId displayName }
    ... on ValidationError { code }
    ... on ConflictError { code existingId }
    ... on ForbiddenError { code }
  }
}
"""

CREATE_DYAD = """
mutation($patientId: ID!, $practitionerId: ID!) {
  createDyad(patientId: $patientId, practitionerId: $practitionerId) {
    __typename
    ... on Dyad { id patientId practitionerId }
    ... on ValidationError { code fields { field code } }
    ... on ForbiddenError { code }
  }
}
"""

SUBMIT = f"""
mutation($input: AdministrationInput!, $key: String) {{
  submitAdministration(input: $input, idempotencyKey: $key) {{
    __typename
    ... on Administration {{ {ADMINISTRATION_FIELDS} }}
    ... on ValidationError {{ code message fields {{ field code message }} }}
    ... on NotFoundError {{ code message }}
    ... on ForbiddenError {{ code message }}
    ... on ConflictError {{ code message existingId }}
  }}
}}
"""


async def created(
    client: httpx.AsyncClient, mutation: str, field_name: str, variables: Mapping[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = (await data(client, mutation, variables))[field_name]
    assert "id" in result, f"setup: {field_name} failed: {result}"
    return result


async def submit(
    client: httpx.AsyncClient,
    dyad_id: str,
    instrument: str,
    session: int,
    answers: Mapping[str, float],
    key: str | None = None,
) -> dict[str, Any]:
    """submitAdministration's payload (any member of its union)."""
    variables = {
        "input": {
            "dyadId": dyad_id,
            "instrument": instrument,
            "session": session,
            "responses": responses(answers),
        },
        "key": key,
    }
    result: dict[str, Any] = (await data(client, SUBMIT, variables))["submitAdministration"]
    return result


@dataclass
class People:
    patient_id: str
    practitioner_id: str
    dyad_id: str
    patient_external_id: str
    practitioner_external_id: str
    practitioner_name: str
    labels: tuple[str, ...] = field(default=())


async def new_dyad(client: httpx.AsyncClient, tag: str | None = None) -> People:
    """A patient, a practitioner and their dyad, created through GraphQL."""
    tag = tag or uuid.uuid4().hex[:10]
    patient_ext, practitioner_ext, name = f"{tag}-patient", f"{tag}-practitioner", f"{tag} Name"
    patient = await created(client, CREATE_PATIENT, "createPatient", {"externalId": patient_ext})
    practitioner = await created(
        client,
        CREATE_PRACTITIONER,
        "createPractitioner",
        {"externalId": practitioner_ext, "displayName": name},
    )
    dyad = await created(
        client,
        CREATE_DYAD,
        "createDyad",
        {"patientId": patient["id"], "practitionerId": practitioner["id"]},
    )
    return People(
        patient["id"],
        practitioner["id"],
        dyad["id"],
        patient_ext,
        practitioner_ext,
        name,
        (patient_ext, practitioner_ext, name),
    )


# An app with non-default settings --------------------------------------------------------


@asynccontextmanager
async def running_app(url: str, **settings: Any) -> AsyncIterator[Api]:
    """Like conftest's ``running_api``, with settings of one's own (e.g. graphql_ide=True)."""
    migrated(url)
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rapport.test") as c:
            yield Api(c, app.state.services)


# Counting SQL statements -----------------------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "END")


@dataclass
class Statements:
    """SQL statements sent while counting. ``queries`` leaves out BEGIN/COMMIT/ROLLBACK,
    whose number on SQLite depends on how the database happened to group the jobs of
    concurrent requests into one commit, not on the request itself."""

    all: list[str] = field(default_factory=list)

    @property
    def queries(self) -> list[str]:
        return [s for s in self.all if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)]


@contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    seen = Statements()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.all.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
