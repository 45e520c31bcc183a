"""GraphQL against tenancy, scopes, settings and hostile documents.

The tenant and scope matrix is generated from the schema (``build_schema()``'s Query and
Mutation types), like the REST route matrix, so a field added later is covered, or fails
here and says what to add:

1. tenant B naming tenant A's objects (patient, practitioner, dyad, alert ids, in an argument
   or inside an input) gets null, an empty list, NotFoundError or ValidationError: exactly
   the answer for ids that never existed, showing none of A's identifiers, and changing
   nothing of A's; tenant A naming the same objects succeeds;
2. lists show the caller's own rows and never the other tenant's;
3. a read-only key is refused every mutation and a write-only key every read of records;
4. introspection and GraphiQL are off unless the settings turn them on; GET queries and
   batched (JSON array) requests are refused;
5. hostile documents (cycles, alias amplification, depth, size, tokens) answer with errors
   quickly: never a 5xx, never a hang (each request runs under a wall-clock guard);
6. an unexpected exception in a resolver is masked and logged.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from service.api.graphql.schema import build_schema
from service.domain.records import Scope
from tests.conftest import Api
from tests.integration.graphql_support import (
    GUARD_SECONDS,
    data,
    error_codes,
    gql,
    guarded,
    new_dyad,
    phq9,
    responses,
    running_app,
    submit,
)
from tests.integration.route_matrix_support import found_in, mask

GRAPHQL = build_schema()._schema
ROOTS = {"Query": GRAPHQL.query_type, "Mutation": GRAPHQL.mutation_type}

# How to call each root field: extend these when the matrix asks -----------------------------------

Ids = Mapping[str, str]
TENANT_OBJECTS = ("patient_id", "practitioner_id", "dyad_id", "administration_id", "alert_id")
LABELS = ("patient_external_id", "practitioner_external_id")


@dataclass(frozen=True)
class Call:
    """Argument values for a root field, made from a tenant's ids and labels, and the scope
    the field needs (None: any valid key)."""

    args: Callable[[Ids], dict[str, Any]]
    scope: Scope | None


def _administration(ids: Ids) -> dict[str, Any]:
    return {
        "dyadId": ids["dyad_id"],
        "instrument": "phq-9",
        "session": 5,
        "responses": responses(phq9(4)),
    }


CALLS: dict[str, Call] = {
    # The shared catalogue and stateless scoring: any valid key, no tenant data.
    "Query.instruments": Call(lambda ids: {}, None),
    "Query.score": Call(lambda ids: {"instrument": "phq-9", "responses": responses(phq9(4))}, None),
    "Query.instrument": Call(lambda ids: {"id": "phq-9"}, None),
    "Query.patients": Call(lambda ids: {}, Scope.READ),
    "Query.practitioners": Call(lambda ids: {}, Scope.READ),
    "Query.alert": Call(lambda ids: {"id": ids["alert_id"]}, Scope.READ),
    "Query.patient": Call(lambda ids: {"id": ids["patient_id"]}, Scope.READ),
    "Query.practitioner": Call(lambda ids: {"id": ids["practitioner_id"]}, Scope.READ),
    "Query.dyad": Call(lambda ids: {"id": ids["dyad_id"]}, Scope.READ),
    "Query.dyads": Call(lambda ids: {}, Scope.READ),
    "Query.calibration": Call(lambda ids: {"practitionerId": ids["practitioner_id"]}, Scope.READ),
    "Query.alerts": Call(lambda ids: {"dyadId": ids["dyad_id"]}, Scope.READ),
    "Mutation.createPatient": Call(
        lambda ids: {"externalId": ids["patient_external_id"]}, Scope.WRITE
    ),
    "Mutation.createPractitioner": Call(
        lambda ids: {"externalId": ids["practitioner_external_id"]}, Scope.WRITE
    ),
    "Mutation.createDyad": Call(
        lambda ids: {"patientId": ids["patient_id"], "practitionerId": ids["practitioner_id"]},
        Scope.WRITE,
    ),
    "Mutation.submitAdministration": Call(lambda ids: {"input": _administration(ids)}, Scope.WRITE),
    # Fields are called in schema order, so an alert is acknowledged before it is resolved.
    "Mutation.acknowledgeAlert": Call(lambda ids: {"id": ids["alert_id"]}, Scope.WRITE),
    "Mutation.resolveAlert": Call(lambda ids: {"id": ids["alert_id"]}, Scope.WRITE),
}

NESTED_ARGS: dict[str, str] = {"Dyad.progress": 'instrument: "phq-9"'}
"""Literal arguments for nested fields with required arguments, so that selections reach
every field of every returned object."""

NESTED_PAGE = "first: 5"
"""Nested lists ask for small pages: every field of every object, at the default page size
all the way down, costs more rows than the guard admits (guard.py)."""

SHARED_TYPES = frozenset({"Instrument", "ScoreResult"})
"""Types that carry no tenant data: lists of them answer every tenant alike."""

REFUSALS = frozenset({"NotFoundError", "ValidationError"})
EXTEND = "extend CALLS / NESTED_ARGS at the top of tests/integration/test_graphql_security.py"


def root_fields() -> list[tuple[str, str, GraphQLField]]:
    """(operation, name, field) of every Query and Mutation field, in schema order."""
    return [
        (operation, name, field)
        for operation, root in ROOTS.items()
        if root is not None
        for name, field in root.fields.items()
    ]


def takes_ids(field: GraphQLField) -> bool:
    """Whether any argument, or any field of an input argument, is an ID."""

    def names_an_id(kind: Any, seen: frozenset[str] = frozenset()) -> bool:
        named = get_named_type(kind)
        if named.name == "ID":
            return True
        if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            return any(names_an_id(f.type, seen | {named.name}) for f in named.fields.values())
        return False

    return any(names_an_id(arg.type) for arg in field.args.values())


def selection(kind: Any, depth: int = 3, where: str = "") -> str:
    """Every field of the returned type (each union member's too) down to ``depth``."""
    named = get_named_type(kind)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLUnionType):
        members = " ".join(f"... on {m.name} {selection(m, depth, where)}" for m in named.types)
        return f"{{ __typename {members} }}"
    assert isinstance(named, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in named.fields.items():
        path = f"{named.name}.{name}"
        arguments = ""
        if any(is_required_argument(a) for a in field.args.values()):
            assert path in NESTED_ARGS, f"{path} needs arguments ({EXTEND})"
            arguments = f"({NESTED_ARGS[path]})"
        elif "first" in field.args:
            arguments = f"({NESTED_PAGE})"
        if is_leaf_type(get_named_type(field.type)):
            parts.append(name + arguments)
        elif depth > 0:
            parts.append(f"{name}{arguments} {selection(field.type, depth - 1, path)}")
    return "{ " + " ".join(parts) + " }"


def operation(
    kind: str, name: str, values: Mapping[str, Any], depth: int = 3
) -> tuple[str, dict[str, Any]]:
    field = ROOTS[kind].fields[name]  # type: ignore[union-attr]
    unknown = set(values) - set(field.args)
    assert not unknown, f"{kind}.{name} has no argument {unknown} ({EXTEND})"
    definitions = ", ".join(f"${a}: {field.args[a].type}" for a in values)
    arguments = ", ".join(f"{a}: ${a}" for a in values)
    head = f"{kind.lower()}({definitions})" if definitions else kind.lower()
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call} {selection(field.type, depth)} }}", dict(values)


async def call(
    client: httpx.AsyncClient, kind: str, name: str, ids: Ids, depth: int = 3
) -> tuple[httpx.Response, Any]:
    """Call one root field with arguments made from ``ids``, selecting every field of the
    answer down to ``depth``; the response and the field's value (None without data)."""
    document, variables = operation(kind, name, CALLS[f"{kind}.{name}"].args(ids), depth)
    response = await guarded(
        client.post("/graphql", json={"query": document, "variables": variables})
    )
    assert response.status_code == 200, f"{kind}.{name}: {response.status_code} {response.text}"
    answer = response.json()
    return response, (answer.get("data") or {}).get(name)


def refused(value: Any) -> bool:
    if value is None or value == []:
        return True
    return isinstance(value, dict) and value.get("__typename") in REFUSALS


def succeeded(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    return isinstance(value, dict) and not value.get("__typename", "").endswith("Error")


# The two tenants' worlds --------------------------------------------------------------------------


@dataclass
class World:
    tenant: str
    client: httpx.AsyncClient
    ids: dict[str, str]

    @property
    def identifiers(self) -> set[str]:
        return set(self.ids.values())


async def build_world(api: Api, tenant: str, stack: AsyncExitStack) -> World:
    """A patient, a practitioner, their dyad, a PHQ-9 and a risk alert, through GraphQL."""
    client = await stack.enter_async_context(await api.client_for(tenant))
    people = await new_dyad(client, f"{tenant}-{uuid.uuid4().hex[:8]}")
    administration = await submit(client, people.dyad_id, "phq-9", 1, phq9(5))
    await submit(client, people.dyad_id, "phq-9", 2, phq9(5, item9=2))
    listing = "query($d: ID) { alerts(dyadId: $d) { id kind } }"
    alerts = await data(client, listing, {"d": people.dyad_id})
    assert [a["kind"] for a in alerts["alerts"]] == ["risk"], "setup: item 9 raises a risk alert"
    ids = {
        "patient_id": people.patient_id,
        "practitioner_id": people.practitioner_id,
        "dyad_id": people.dyad_id,
        "administration_id": administration["id"],
        "alert_id": alerts["alerts"][0]["id"],
        "patient_external_id": people.patient_external_id,
        "practitioner_external_id": people.practitioner_external_id,
        "practitioner_name": people.practitioner_name,
    }
    return World(tenant, client, ids)


def never_existed() -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in TENANT_OBJECTS} | {
        label: f"never-{uuid.uuid4().hex[:8]}" for label in LABELS
    }


@dataclass
class Tenants:
    api: Api
    a: World
    b: World
    stack: AsyncExitStack

    async def client(self, tenant: str, *scopes: Scope) -> httpx.AsyncClient:
        return await self.stack.enter_async_context(await self.api.client_for(tenant, *scopes))


@pytest.fixture
async def tenants(api: Api) -> AsyncIterator[Tenants]:
    async with AsyncExitStack() as stack:
        a = await build_world(api, "clinic-a", stack)
        b = await build_world(api, "clinic-b", stack)
        yield Tenants(api, a, b, stack)


STATE = """query($d: ID!) {
  dyad(id: $d) { administrations { id } alerts { id status } }
  dyads { id }
}"""


# The matrix knows every field ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k, n, _ in root_fields()], ids=lambda v: str(v)
)
def test_the_matrix_can_call(kind: str, name: str) -> None:
    assert f"{kind}.{name}" in CALLS, f"{kind}.{name}: {EXTEND}"
    operation(kind, name, CALLS[f"{kind}.{name}"].args(never_existed()))


def test_the_matrix_covers_the_fields_taking_ids() -> None:
    with_ids = {f"{k}.{n}" for k, n, f in root_fields() if takes_ids(f)}
    assert with_ids >= {
        "Query.patient",
        "Query.practitioner",
        "Query.dyad",
        "Query.calibration",
        "Mutation.createDyad",
        "Mutation.submitAdministration",
        "Mutation.acknowledgeAlert",
        "Mutation.resolveAlert",
    }
    assert set(CALLS) == {f"{k}.{n}" for k, n, _ in root_fields()}, "CALLS names a lost field"


# 1. Tenant isolation of objects -------------------------------------------------------------------


async def test_no_field_reaches_another_tenants_objects(tenants: Tenants) -> None:
    a, b, nowhere = tenants.a, tenants.b, never_existed()
    failures: list[str] = []
    before = await data(a.client, STATE, {"d": a.ids["dyad_id"]})
    checked = []
    for kind, name, field in root_fields():
        if not takes_ids(field):
            continue
        checked.append(name)
        where = f"{kind}.{name}: tenant B naming tenant A's objects"
        foreign, value = await call(b.client, kind, name, a.ids)
        unknown, _ = await call(b.client, kind, name, nowhere)
        if not refused(value):
            failures.append(f"{where}: expected null, [] or {sorted(REFUSALS)}: {foreign.text}")
        sent = json.dumps(CALLS[f"{kind}.{name}"].args(a.ids))
        if leaks := found_in(foreign.text, {i for i in a.identifiers if i not in sent}):
            failures.append(f"{where}: shows tenant A's data {leaks}: {foreign.text[:300]}")
        seen = mask(foreign.text, {v: f"<{k}>" for k, v in a.ids.items()})
        expected = mask(unknown.text, {v: f"<{k}>" for k, v in nowhere.items()})
        if seen != expected:
            failures.append(
                f"{where}: answers differently than for ids that never existed\n"
                f"      foreign: {seen[:300]}\n      never existed: {expected[:300]}"
            )
    assert checked, "no field takes an id: the matrix checked nothing"
    after = await data(a.client, STATE, {"d": a.ids["dyad_id"]})
    if after != before:
        failures.append(f"tenant B's calls changed tenant A's records: {before} -> {after}")

    # Tenant A naming its own objects succeeds, so the refusals above were about tenancy.
    for kind, name, field in root_fields():
        if takes_ids(field):
            response, value = await call(a.client, kind, name, a.ids)
            if not succeeded(value):
                failures.append(f"{kind}.{name}: tenant A naming its own objects: {response.text}")
    assert not failures, f"{len(failures)} failure(s):\n  " + "\n  ".join(failures)


async def test_external_ids_belong_to_one_tenant(tenants: Tenants) -> None:
    """Mutations naming no object: tenant B sending tenant A's external ids creates B's own
    records (no ConflictError naming A's record)."""
    a, b = tenants.a, tenants.b
    failures = []
    for kind, name, field in root_fields():
        if kind != "Mutation" or takes_ids(field):
            continue
        response, value = await call(b.client, kind, name, a.ids)
        if not succeeded(value):
            failures.append(f"{name}: expected tenant B's own record: {response.text}")
        sent = json.dumps(CALLS[f"{kind}.{name}"].args(a.ids))
        if leaks := found_in(response.text, {i for i in a.identifiers if i not in sent}):
            failures.append(f"{name}: shows tenant A's data {leaks}: {response.text[:300]}")
    assert not failures, "\n".join(failures)


# 2. Lists show the caller's rows only -------------------------------------------------------------


async def test_lists_show_only_the_callers_rows(tenants: Tenants) -> None:
    failures = []
    lists = [
        (kind, name)
        for kind, name, field in root_fields()
        if kind == "Query"
        and isinstance(_unwrapped(field.type), GraphQLList)
        and get_named_type(field.type).name not in SHARED_TYPES
        and not any(is_required_argument(arg) for arg in field.args.values())
    ]
    assert {"dyads", "alerts"} <= {name for _, name in lists}
    for me, other in ((tenants.a, tenants.b), (tenants.b, tenants.a)):
        for kind, name in lists:
            document, _ = operation(kind, name, {})
            response = await guarded(me.client.post("/graphql", json={"query": document}))
            where = f"{name} as tenant {me.tenant}"
            if leaks := found_in(response.text, other.identifiers):
                failures.append(f"{where}: shows tenant {other.tenant}'s data {leaks}")
            if not found_in(response.text, me.identifiers):
                failures.append(f"{where}: shows none of its own rows: {response.text[:300]}")
    assert not failures, "\n".join(failures)


def _unwrapped(kind: Any) -> Any:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


# 3. Scopes ----------------------------------------------------------------------------------------


async def test_every_field_demands_its_scope(tenants: Tenants) -> None:
    a = tenants.a
    fresh = a.ids | {label: f"scope-{uuid.uuid4().hex[:8]}" for label in LABELS}
    keys = {
        Scope.READ: await tenants.client(a.tenant, Scope.READ),
        Scope.WRITE: await tenants.client(a.tenant, Scope.WRITE),
    }
    failures = []
    # Read-only first: when the write-only key then succeeds with the same arguments, the
    # arguments were valid and the refused call stored nothing (createPatient would conflict).
    for scope, client in keys.items():
        for kind, name, _ in root_fields():
            needs = CALLS[f"{kind}.{name}"].scope
            # Only the payload's own fields: a Dyad's nested records need the read scope.
            response, value = await call(client, kind, name, fresh, depth=0)
            where = f"{kind}.{name} with a {scope}-only key"
            if needs in (None, scope):
                if not succeeded(value):
                    failures.append(f"{where}: expected success: {response.text[:300]}")
            elif kind == "Mutation":
                if not (isinstance(value, dict) and value.get("__typename") == "ForbiddenError"):
                    failures.append(f"{where}: expected ForbiddenError: {response.text[:300]}")
            elif value is not None or error_codes(response.json()) != ["forbidden"]:
                failures.append(f"{where}: expected a forbidden error: {response.text[:300]}")
    assert not failures, "\n".join(failures)


# 4. Settings: introspection, GraphiQL, GET and batching -------------------------------------------

INTROSPECTION = "{ __schema { queryType { name } } }"


@pytest.fixture
async def defaults(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(sqlite_url) as api, await api.client_for("clinic-a") as client:
        yield client


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite:///{tmp_path / 'opened.db'}"
    async with (
        running_app(url, graphql_introspection=True, graphql_ide=True) as api,
        await api.client_for("clinic-a") as client,
    ):
        yield client


async def test_introspection_is_off_by_default(defaults: httpx.AsyncClient) -> None:
    for document in (INTROSPECTION, '{ __type(name: "Patient") { fields { name } } }'):
        answer = await gql(defaults, document)
        assert answer.get("data") is None, answer
        assert answer["errors"], answer
        assert "Patient" not in json.dumps(answer.get("data"))
    assert (await data(defaults, "{ __typename }")) == {"__typename": "Query"}


async def test_introspection_is_on_with_the_setting(opened: httpx.AsyncClient) -> None:
    assert (await data(opened, INTROSPECTION)) == {"__schema": {"queryType": {"name": "Query"}}}
    # The query GraphiQL and code generators send passes the limits (issue 16.8).
    standard = await data(opened, get_introspection_query(descriptions=True))
    names = {t["name"] for t in standard["__schema"]["types"]}
    assert {"Query", "Mutation", "Dyad", "AlertStatus"} <= names


async def test_graphiql_is_not_served_by_default(defaults: httpx.AsyncClient) -> None:
    response = await defaults.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code in (404, 405), response.text
    assert "graphiql" not in response.text.lower()


async def test_graphiql_is_served_with_the_setting(opened: httpx.AsyncClient) -> None:
    response = await opened.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


@pytest.fixture(
    params=[{}, {"graphql_introspection": True, "graphql_ide": True}], ids=["defaults", "opened"]
)
async def either(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite:///{tmp_path / 'either.db'}"
    async with running_app(url, **request.param) as api, await api.client_for("clinic-a") as c:
        yield c


async def test_queries_and_mutations_over_get_are_refused(either: httpx.AsyncClient) -> None:
    client = either
    for document in (
        "{ instruments { id } }",
        'mutation { createPatient(externalId: "via-get") { __typename } }',
    ):
        response = await client.get("/graphql", params={"query": document})
        assert 400 <= response.status_code < 500, response.text
        assert "phq-9" not in response.text
    listed = await client.get("/v1/patients")
    assert listed.json()["items"] == []  # the GET mutation created nothing


async def test_a_batch_is_refused(defaults: httpx.AsyncClient) -> None:
    batch = [
        {"query": 'mutation { createPatient(externalId: "batch-1") { __typename } }'},
        {"query": 'mutation { createPatient(externalId: "batch-2") { __typename } }'},
    ]
    response = await guarded(defaults.post("/graphql", json=batch))
    assert 400 <= response.status_code < 500, response.text
    assert "__typename" not in response.text
    assert (await defaults.get("/v1/patients")).json()["items"] == []


async def test_documents_are_parsed_and_validated_once(
    defaults: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse and validation caches (extensions.py): the same document twice is parsed once
    and validated once."""
    import graphql.language.parser as parser
    import strawberry.schema.schema as strawberry_schema

    counts = {"parse": 0, "validate": 0}
    parse_document, validate = parser.Parser.parse_document, strawberry_schema.validate

    def counted_parse(self: Any) -> Any:
        counts["parse"] += 1
        return parse_document(self)

    def counted_validate(*args: Any, **kwargs: Any) -> Any:
        counts["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(parser.Parser, "parse_document", counted_parse)
    monkeypatch.setattr(strawberry_schema, "validate", counted_validate)
    document = f"# a document no other test sends: {uuid.uuid4()}\n{{ instruments {{ id }} }}"
    await data(defaults, document)
    assert counts == {"parse": 1, "validate": 1}
    await data(defaults, document)
    assert counts == {"parse": 1, "validate": 1}


# 5. Hostile documents -----------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so no ``except Exception`` swallows it."""


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Interrupt CPU-bound work in the event loop thread, which ``asyncio.wait_for`` cannot."""
    import signal

    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _doubling_fragments(levels: int) -> str:
    """F<n> spreads F<n-1> twice, each time under new aliases: 2^levels fields and aliases."""
    fragments = ["fragment F0 on Query { a: instruments { id } b: instruments { name } }"]
    for i in range(1, levels + 1):
        fragments.append(f"fragment F{i} on Query {{ x{i}: __typename ...F{i - 1} ...F{i - 1} }}")
    return f"query {{ ...F{levels} }} " + " ".join(fragments)


def _deep_through_fragments(levels: int) -> str:
    """Each fragment adds one level under the previous: depth ``levels``, few tokens."""
    fragments = [f"fragment D{i} on Dyad {{ patient {{ ...D{i + 1} }} }}" for i in range(levels)]
    fragments.append(f"fragment D{levels} on Dyad {{ id }}")
    return "query { dyads { ...D0 } } " + " ".join(fragments)


HOSTILE: dict[str, str] = {
    "circular fragments": (
        "query { ...A } fragment A on Query { instruments { id } ...B } "
        "fragment B on Query { ...A }"
    ),
    "a fragment spreading itself": "query { ...A } fragment A on Query { __typename ...A }",
    "40-level fragment doubling with aliases": _doubling_fragments(40),
    "100 aliases": "{ " + " ".join(f"a{i}: instruments {{ id }}" for i in range(100)) + " }",
    "depth 30 nesting": "{ " + "dyads { " * 30 + "id" + " }" * 30 + " }",
    "depth 30 through fragments": _deep_through_fragments(30),
    "a 1 MB document of repeated fields": "{ " + "instruments { id } " * 55_000 + "}",
    "100k tokens": "{ instruments { " + "id " * 100_000 + "} }",
    "nesting deeper than the parser goes": "{ " + "dyads { " * 3_000 + "id" + " }" * 3_000 + " }",
    "deeply nested list values": '{ score(instrument: "phq-9", responses: '
    + "[" * 3_000
    + "]" * 3_000
    + ") { total } }",
    "1900 repeated fields": "{ instruments { id " + "name " * 1_900 + "} }",
    "400 overlapping selections": "{ " + "instruments { id name } " * 400 + "}",
}

TOO_COMPLEX = {
    "circular fragments",
    "a fragment spreading itself",
    "40-level fragment doubling with aliases",
    "100 aliases",
    "depth 30 nesting",
    "depth 30 through fragments",
}
"""Documents the depth/alias/cycle guard refuses: their error has a stable code."""


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_document_answers_with_an_error_quickly(
    defaults: httpx.AsyncClient, name: str
) -> None:
    document = HOSTILE[name]
    started = time.perf_counter()
    with watchdog(GUARD_SECONDS + 1):
        response = await guarded(defaults.post("/graphql", json={"query": document}))
    elapsed = time.perf_counter() - started
    assert response.status_code < 500, response.text[:500]
    assert response.status_code == 200 or 400 <= response.status_code < 500
    if response.status_code == 200:
        answer = response.json()
        assert answer.get("data") is None, answer
        assert answer["errors"], answer
        assert all(e["message"] != "Unexpected error." for e in answer["errors"]), answer
        if name in TOO_COMPLEX:
            assert "query-too-complex" in error_codes(answer), answer
    assert elapsed < GUARD_SECONDS, f"{name}: {elapsed:.2f} s"
    # The service still answers afterwards.
    assert (await data(defaults, "{ __typename }")) == {"__typename": "Query"}


def test_the_hostile_documents_are_as_large_as_they_claim() -> None:
    assert len(HOSTILE["a 1 MB document of repeated fields"].encode()) >= 1_000_000
    assert HOSTILE["100k tokens"].count(" id") >= 100_000
    assert _doubling_fragments(40).count("fragment ") == 41


# 6. Unexpected errors are masked and logged -------------------------------------------------------


async def test_an_unexpected_error_is_masked_and_logged(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = await api.client_for("clinic-a")

    def broken() -> list[Any]:
        raise RuntimeError("secret detail: /srv/rapport/db password=hunter2")

    monkeypatch.setattr(api.services.instruments, "list", broken)
    with caplog.at_level(logging.ERROR):
        response = await guarded(client.post("/graphql", json={"query": "{ instruments { id } }"}))
    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] is None
    assert [e["message"] for e in answer["errors"]] == ["Unexpected error."]
    assert "secret" not in response.text
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    logged = [
        r
        for r in caplog.records
        if "secret detail" in r.getMessage()
        or (r.exc_info and isinstance(r.exc_info[1], RuntimeError))
    ]
    assert logged, "the unexpected error was not logged"

    monkeypatch.undo()
    assert (await data(client, "{ instruments { id } }"))["instruments"]
