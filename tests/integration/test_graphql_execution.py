"""How /graphql runs a request: the POST it accepts (Strawberry's GraphQLRouter).

1. Anything but one operation posted as a JSON object is an HTTP 400, and ``operationName``
   picks the operation;
2. arguments arrive as the schema coerced them (whole numbers as floats or ints alike).
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.graphql_support import data, guarded, phq9, responses

# 1. The request ----------------------------------------------------------------------------------


async def post_raw(
    client: httpx.AsyncClient, content: bytes, content_type: str = "application/json"
) -> httpx.Response:
    return await guarded(
        client.post("/graphql", content=content, headers={"content-type": content_type})
    )


@pytest.mark.parametrize(
    ("content", "content_type", "reason"),
    [
        (b'{"query": "{ __typename }"}', "text/plain", "Unsupported content type"),
        (b'{"query": "{ __typename }"}', "application/x-www-form-urlencoded", "content type"),
        (b"not json", "application/json", "Unable to parse request body as JSON"),
        (b'"{ __typename }"', "application/json", "must be a JSON object"),
        (b'[{"query": "{ __typename }"}]', "application/json", "Batching is not enabled"),
        (b'{"variables": {}}', "application/json", "No GraphQL query found"),
        (b'{"query": ""}', "application/json", "No GraphQL query found"),
        (b'{"query": 7}', "application/json", "`query` must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json", "`variables`"),
        (b'{"query": "{ __typename }", "operationName": 5}', "application/json", "operationName"),
    ],
)
async def test_what_is_not_one_operation_in_json_is_a_400(
    client: httpx.AsyncClient, content: bytes, content_type: str, reason: str
) -> None:
    response = await post_raw(client, content, content_type)
    assert response.status_code == 400, response.text
    assert reason in response.text
    assert "__typename" not in response.text


async def test_a_json_content_type_with_parameters_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"query": "{ __typename }"}'
    response = await post_raw(client, body, "application/json; charset=utf-8")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"__typename": "Query"}}


TWO_OPERATIONS = 'query A { instrument(id: "phq-9") { id } } query B { __typename }'


async def test_operation_name_picks_the_operation(client: httpx.AsyncClient) -> None:
    for name, expected in (("A", {"instrument": {"id": "phq-9"}}), ("B", {"__typename": "Query"})):
        response = await client.post(
            "/graphql", json={"query": TWO_OPERATIONS, "operationName": name}
        )
        assert response.json() == {"data": expected}
    for body in (
        {"query": TWO_OPERATIONS},
        {"query": TWO_OPERATIONS, "operationName": "C"},
        {"query": "query A { __typename }", "operationName": "B"},
    ):
        response = await client.post("/graphql", json=body)
        assert response.status_code == 400, response.text
        assert "operation" in response.text


async def test_the_extensions_field_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }", "extensions": {"persistedQuery": {"sha256Hash": "x"}}},
    )
    assert response.json() == {"data": {"__typename": "Query"}}


# 2. Arguments -------------------------------------------------------------------------------------


async def test_whole_numbers_sent_as_floats_or_ints_score_alike(client: httpx.AsyncClient) -> None:
    document = (
        'query($r: [ResponseInput!]!) { score(instrument: "phq-9", responses: $r) { total } }'
    )
    as_ints = responses(phq9(9))
    as_floats = [{"item": r["item"], "value": float(r["value"])} for r in as_ints]
    for sent in (as_ints, as_floats):
        assert (await data(client, document, {"r": sent}))["score"] == {"total": 9}
