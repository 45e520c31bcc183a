"""How /graphql runs a request: the POST it accepts, and resolvers with compiled arguments.

1. Anything but one operation posted as a JSON object is an HTTP 400 (as Strawberry's view
   answered), and ``operationName`` picks the operation;
2. the argument conversion compile_resolvers.py builds once per field gives exactly what
   Strawberry's per-call conversion gives, and resolvers compiled or not answer alike;
3. it applies where it can and leaves the other fields to Strawberry.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.utils.str_converters import to_camel_case

from service.api.graphql.compiled_resolvers import compile_resolvers, converter
from service.api.graphql.context import Context
from service.api.graphql.execution import Operation, OperationRunner
from service.api.graphql.inputs import prebuilt_scalars
from service.api.graphql.schema import Mutation, Query
from service.api.graphql.scoring_types import ResponseInput
from tests.conftest import Api
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


# 2. Compiled argument conversion equals Strawberry's -----------------------------------------


def _samples(kind: Any) -> list[Any]:
    """Coerced values of ``kind`` as graphql-core passes them to resolvers."""
    if isinstance(kind, StrawberryOptional):
        return [None, *_samples(kind.of_type)]
    if isinstance(kind, StrawberryList):
        return [[], [_samples(kind.of_type)[-1], _samples(kind.of_type)[-1]]]
    scalars: dict[Any, list[Any]] = {
        str: ["", "phq-9"],
        int: [0, 50],
        float: [0.0, 2.0, 1.5],
        bool: [False, True],
        strawberry.ID: ["d9b2d63d-a233-4123-847a-7d0c8a0f5c52"],
    }
    if kind in scalars:
        return scalars[kind]
    definition = get_object_definition(kind, strict=True)
    return [{to_camel_case(f.python_name): _samples(f.type)[-1] for f in definition.fields}]


def _fresh_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation)


def test_compiled_conversion_gives_what_strawberry_gives() -> None:
    schema = _fresh_schema()
    registry = schema.schema_converter.scalar_registry
    checked = 0
    for name in compile_resolvers(schema):
        type_name, field_name = name.split(".")
        field = schema.get_field_for_type(field_name, type_name)
        assert field is not None
        for argument in field.arguments:
            convert = converter(argument.type)
            assert convert is not None, name
            for value in _samples(argument.type):
                ours = convert(value)
                theirs = convert_argument(value, argument.type, registry, schema.config)
                assert ours == theirs, (name, argument.python_name, value)
                assert type(ours) is type(theirs), (name, argument.python_name, value)
                if isinstance(value, list):
                    assert ours is not value  # a copy: defaults are shared between requests
                checked += 1
    assert checked > 30


def test_responses_are_built_as_input_objects() -> None:
    convert = converter(StrawberryList(ResponseInput))
    assert convert is not None
    built = convert([{"item": "1", "value": 2.0}, {"item": "9", "value": 0.5}])
    assert built == [ResponseInput(item="1", value=2.0), ResponseInput(item="9", value=0.5)]
    assert all(type(r) is ResponseInput for r in built)


def test_only_required_scalar_inputs_can_be_prebuilt() -> None:
    @strawberry.input
    class WithDefault:
        item: str
        value: float = 0.0

    @strawberry.input
    class Nested:
        response: ResponseInput

    @strawberry.type
    class NotAnInput:
        item: str

    for kind in (WithDefault, Nested, NotAnInput):
        with pytest.raises(TypeError):
            prebuilt_scalars(kind)


# 3. Where it applies ------------------------------------------------------------------------------


def test_fields_with_other_arguments_keep_strawberrys_resolver() -> None:
    schema = _fresh_schema()
    strawberrys = {
        f"{t}.{n}": f.resolve
        for t in ("Query", "Mutation")
        for n, f in schema._schema.type_map[t].fields.items()  # type: ignore[union-attr]
    }
    compiled = set(compile_resolvers(schema))
    assert {"Query.score", "Query.dyad", "Query.alerts", "Dyad.progress"} <= compiled
    # An input of other inputs, datetimes and IDs; dates: converted by Strawberry as before.
    kept = {"Mutation.submitAdministration", "Mutation.createDyad"}
    assert not kept & compiled
    for name in kept:
        type_name, field_name = name.split(".")
        resolve = schema._schema.type_map[type_name].fields[field_name].resolve  # type: ignore[union-attr]
        assert resolve is strawberrys[name]


async def test_compiled_and_strawberrys_resolvers_answer_alike(api: Api) -> None:
    token = await api.token("clinic-a")
    principal = await api.services.authenticator.authenticate(f"Bearer {token}")
    context = Context(services=api.services, principal=principal)
    plain, compiled = _fresh_schema(), _fresh_schema()
    compile_resolvers(compiled)
    runners = (OperationRunner(plain), OperationRunner(compiled))
    score = [s._schema.type_map["Query"].fields["score"].resolve for s in (plain, compiled)]  # type: ignore[union-attr]
    assert score[0] is not score[1]  # Strawberry's wrapper, and the compiled one
    missing = str(uuid.uuid4())
    operations = [
        Operation(
            'query($r: [ResponseInput!]!, $p: String) { score(instrument: "phq-9",'
            " responses: $r, population: $p) { total band clinical flags { code items }"
            " scales { name score } provenance { population populationDefaulted } } }",
            {"r": responses(phq9(total, item9=item9)), "p": population},
        )
        for total, item9, population in ((4, 0, None), (14, 1, "adolescent"), (20, 3, "adult"))
    ] + [
        Operation('{ score(instrument: "phq-9", responses: [{item: "1", value: 7}]) { total } }'),
        Operation('{ score(instrument: "oq-45", responses: []) { total } }'),
        Operation('{ instrument(id: "phq-9") { id itemCount } nope: instrument(id: "x") { id } }'),
        Operation("{ instruments { id } }"),
        Operation("{ patients(first: 0) { id } }"),
        Operation(
            "query($id: ID!) { dyad(id: $id) { id } alert(id: $id) { id } }", {"id": missing}
        ),
        Operation('{ alerts(status: "nope") { id } }'),
        Operation('{ dyads(first: 5, after: "not-a-cursor") { id } }'),
        Operation(
            "mutation($id: ID!) { acknowledgeAlert(id: $id) { __typename ... on NotFoundError"
            " { code } } }",
            {"id": missing},
        ),
    ]
    for operation in operations:
        answers = [await runner.run(operation, context) for runner in runners]
        assert answers[0] == answers[1], operation.query
    assert (await runners[1].run(operations[1], context))["data"]["score"]["flags"]


async def test_whole_numbers_sent_as_floats_or_ints_score_alike(client: httpx.AsyncClient) -> None:
    document = (
        'query($r: [ResponseInput!]!) { score(instrument: "phq-9", responses: $r) { total } }'
    )
    as_ints = responses(phq9(9))
    as_floats = [{"item": r["item"], "value": float(r["value"])} for r in as_ints]
    for sent in (as_ints, as_floats):
        assert (await data(client, document, {"r": sent}))["score"] == {"total": 9}
