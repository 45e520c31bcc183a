"""A body that is not acceptable JSON gets the same refusal on every route of every face
(issue 16.4): never a 500, nothing stored.

Every route that takes a body is found in the app's route table (REST under /v1, FHIR under
/fhir/R4, and /graphql), so a route added later is covered. Each receives the bodies that
once broke a route (100,000 nested arrays met a RecursionError on the fast lane and answered
500) and plain garbage:

- REST: 422 ``application/problem+json``, code ``malformed-json``;
- FHIR: 422 ``OperationOutcome`` naming ``malformed-json``;
- GraphQL: 400 (the GraphQL-over-HTTP status for a request that is not one) with a GraphQL
  error whose ``extensions.code`` is ``malformed-json``.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from service.api.app import create_app
from service.settings import Settings
from tests.conftest import Api
from tests.integration.route_matrix_support import fill, route_cases

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
NESTED = b"[" * 100_000 + b"]" * 100_000
BODIES = {
    "100,000 nested arrays": NESTED,
    "100,000 nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "nested arrays inside a field": b'{"responses": ' + NESTED + b', "query": ' + NESTED + b"}",
    "not JSON": b"{not json",
    "truncated": b'{"responses": {"1": ',
    "not UTF-8": b'{"external_id": "\xff\xfe"}',
}
PATH_VALUES = {"instrument_id": "phq-9"}


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every route taking a body, path parameters filled in; not FHIR's
    catch-all ``{rest:path}``, which answers 404 for what the face does not serve, nor a
    REST action whose OpenAPI operation declares no body (a redelivery takes none)."""
    app = create_app(Settings(database_url="sqlite://"))
    documented = app.openapi()["paths"]
    cases = [
        case
        for prefix in ("/v1", "/fhir/R4", "/graphql")
        for case in route_cases(app, prefix)
        if case.method in BODY_METHODS and ":path}" not in case.path
        and not (
            case.path.startswith("/v1/")
            and "requestBody" not in documented[case.path][case.method.lower()]
        )
    ]  # fmt: skip
    return [
        (c.method, fill(c.path, {p: PATH_VALUES.get(p, str(uuid.uuid4())) for p in c.path_params}))
        for c in cases
    ]


async def test_every_route_refuses_a_body_that_is_not_json_alike(api: Api) -> None:
    client = await api.client_for("clinic-a")
    routes = _routes()
    paths = {path for _, path in routes}
    assert "/graphql" in paths
    assert "/v1/instruments/phq-9/score" in paths
    assert "/fhir/R4/QuestionnaireResponse" in paths
    assert len(routes) >= 10, routes
    failures = []
    for method, path in routes:
        media = "application/fhir+json" if path.startswith("/fhir") else "application/json"
        for name, body in BODIES.items():
            response = await client.request(
                method, path, content=body, headers={"Content-Type": media}
            )
            where = f"{method} {path} with {name}"
            failure = _judge(path, response)
            if failure:
                failures.append(f"{where}: {failure}")
    assert not failures, "\n".join(failures)
    # Nothing was stored by any of them.
    assert (await client.get("/v1/patients")).json()["items"] == []
    assert (await client.get("/v1/dyads")).json()["items"] == []


def _judge(path: str, response: httpx.Response) -> str | None:
    content_type = response.headers.get("content-type", "")
    if path == "/graphql":
        if response.status_code != 400 or not content_type.startswith("application/json"):
            return f"{response.status_code} {content_type}: {response.text[:200]}"
        codes = [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]
        return None if codes == ["malformed-json"] else f"codes {codes}"
    if response.status_code != 422:
        return f"{response.status_code}: {response.text[:200]}"
    if path.startswith("/fhir"):
        outcome = response.json()
        if outcome.get("resourceType") != "OperationOutcome":
            return f"not an OperationOutcome: {response.text[:200]}"
        details = [i.get("details", {}).get("text") for i in outcome.get("issue", [])]
        return None if "malformed-json" in details else f"details {details}"
    if content_type != "application/problem+json":
        return f"{content_type}: {response.text[:200]}"
    code = response.json().get("code")
    return None if code == "malformed-json" else f"code {code}"


@pytest.mark.parametrize("depth", [1_000, 1_100, 5_000])
async def test_nesting_either_side_of_the_parsers_limit_never_fails(api: Api, depth: int) -> None:
    """Deep but parseable JSON (under orjson's and json's limits) is refused as invalid
    input, never with a 500, on the scoring route and over GraphQL's variables."""
    client = await api.client_for("clinic-a")
    deep = "[" * depth + "]" * depth
    score = await client.post(
        "/v1/instruments/phq-9/score",
        content=f'{{"responses": {deep}}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert score.status_code == 422, score.text[:300]
    query = 'query($r: [ResponseInput!]!) { score(instrument: "phq-9", responses: $r) { total } }'
    graphql = await client.post(
        "/graphql",
        content=f'{{"query": {query!r}, "variables": {{"r": {deep}}}}}'.replace("'", '"').encode(),
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= graphql.status_code < 500 or graphql.json().get("errors"), graphql.text[:300]
    assert graphql.status_code != 500
