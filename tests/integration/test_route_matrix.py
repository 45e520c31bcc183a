"""Every /v1 route, read from the app's route table, against authentication, scopes and tenancy.

The matrix is generated, so a route added later is covered without anyone remembering to.
For every (method, path) under /v1:

1. without a valid API key (none, unknown, malformed, wrong secret, other scheme) the answer
   is 401 problem+json with code ``unauthenticated`` and a ``WWW-Authenticate`` challenge;
2. a key without the scope a route needs gets 403 ``forbidden``, even with a valid body, and
   the refused request stores nothing; the same request with the scope then succeeds;
3. tenant B naming one of tenant A's objects (in the path, or in a write's body) gets the
   very answer it gets for an id that never existed (404 ``not-found`` for a path), which
   shows none of A's identifiers; the shared catalogue answers every tenant alike;
4. every read with the caller's own ids succeeds and shows nothing of the other tenant, and
   lists show the caller's own rows, also when filtered by the other tenant's ids.

When the matrix cannot call a route (a path or required query parameter it has no value for,
a write route it has no body for) it fails and says what to add below: nothing is skipped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from service.api.app import create_app
from service.domain.records import Scope
from service.settings import Settings
from tests.conftest import Api, running_api
from tests.integration.route_matrix_support import (
    Findings,
    RouteCase,
    body_of,
    documented_operations,
    fill,
    found_in,
    mask,
    problem_issues,
    route_cases,
)

APP = create_app(Settings(database_url="sqlite:///unused.db"))  # never started: routes only
ROUTES = route_cases(APP, "/v1")

# How to call each route: extend these when the matrix asks -------------------------------

TENANT_OBJECTS = (
    "patient_id", "practitioner_id", "dyad_id", "administration_id", "alert_id", "webhook_id",
    "delivery_id",
)  # fmt: skip
"""Parameters naming a stored object of a tenant. Each test tenant owns one of each (see
``build_world``); a new kind of object needs a line there and its parameter name here."""

SHARED_VALUES = {"instrument_id": "phq-9"}
"""Path parameters naming shared data: the catalogue belongs to no tenant."""

REQUIRED_QUERY_VALUES = {"instrument": "phq-9"}
"""Values for required query parameters that do not name a tenant's object."""

CATALOGUE = "/v1/instruments"
"""Routes under this path serve the shared catalogue: any valid key reads it, no tenant rows."""

PHQ9 = {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1, "7": 1, "8": 1, "9": 0}
ADMINISTRATION = {"instrument": "phq-9", "session": 1, "responses": PHQ9}
RISK = {"instrument": "phq-9", "session": 2, "responses": PHQ9 | {"9": 2}}  # raises a risk alert
WAI = {str(i): 4 for i in range(1, 13)}
ALLIANCE = [  # both sides of the alliance, so the alliance and calibration charts have data
    {"instrument": "wai-sr", "session": 1, "responses": WAI},
    {"instrument": "wai-sr-t", "session": 1, "responses": WAI},
]

HOOK = "http://127.0.0.1:9/matrix"  # the discard port: deliveries fail and are retried later
Ids = Mapping[str, str]


@dataclass(frozen=True)
class Write:
    """A valid request body for a write route (given the caller's object ids), and the scope
    the route needs (None: any valid key)."""

    body: Callable[[Ids], dict[str, Any]]
    scope: Scope | None = Scope.WRITE


WRITES: dict[str, Write] = {
    # Stateless scoring stores nothing and reads no tenant data (DESIGN section 3): like
    # reading the catalogue, any valid key may score.
    "POST /v1/instruments/{instrument_id}/score": Write(
        lambda ids: {"responses": PHQ9}, scope=None
    ),
    "POST /v1/patients": Write(lambda ids: {"external_id": "matrix-new-patient"}),
    "POST /v1/practitioners": Write(lambda ids: {"external_id": "matrix-new-practitioner"}),
    "POST /v1/dyads": Write(
        lambda ids: {"patient_id": ids["patient_id"], "practitioner_id": ids["practitioner_id"]}
    ),
    "POST /v1/dyads/{dyad_id}/administrations": Write(lambda ids: ADMINISTRATION | {"session": 3}),
    # Routes are called in path order, so an alert is acknowledged before it is resolved.
    "POST /v1/alerts/{alert_id}/acknowledge": Write(lambda ids: {"note": "seen in the matrix"}),
    "POST /v1/alerts/{alert_id}/resolve": Write(lambda ids: {"note": "closed by the matrix"}),
    "POST /v1/webhooks": Write(lambda ids: {"url": HOOK, "events": ["alert.raised"]}),
    "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": Write(lambda ids: {}),
    "DELETE /v1/webhooks/{webhook_id}": Write(lambda ids: {}),  # deletions are called last
    # Voiding is idempotent: the second key's call answers like the first.
    "POST /v1/administrations/{administration_id}/void": Write(
        lambda ids: {"reason": "entered in error by the matrix"}
    ),
    # A view link only reads: the read scope creates one.
    "POST /v1/dyads/{dyad_id}/view-links": Write(lambda ids: {"expires_in": 60}, scope=Scope.READ),
}

READ_SCOPES = {"GET /v1/audit-events": Scope.AUDIT}
"""Reads that need a scope other than ``read`` (the audit trail is a grant of its own)."""

CONTRACT_TODAY = {
    "GET /v1/instruments",
    "GET /v1/instruments/{instrument_id}",
    "POST /v1/instruments/{instrument_id}/score",
    "POST /v1/patients",
    "GET /v1/patients/{patient_id}",
    "POST /v1/practitioners",
    "GET /v1/practitioners/{practitioner_id}",
    "POST /v1/dyads",
    "POST /v1/dyads/{dyad_id}/administrations",
    "GET /v1/dyads/{dyad_id}/administrations",
}
"""The DESIGN section 3 routes that exist today; routes added later join the matrix by
themselves, and belong here once they are part of the contract, so they cannot drop out."""

EXTEND = "extend the tables at the top of tests/integration/test_route_matrix.py"


def unmapped(route: RouteCase) -> list[str]:
    """Why the matrix cannot call ``route`` (empty when it can)."""
    missing = [
        f"path parameter {{{name}}} has no value: add it to TENANT_OBJECTS (and create one "
        "such object per tenant in build_world) or to SHARED_VALUES"
        for name in route.path_params
        if name not in TENANT_OBJECTS and name not in SHARED_VALUES
    ]
    missing += [
        f"required query parameter {q.name!r} has no value: add it to REQUIRED_QUERY_VALUES"
        for q in route.query_params
        if q.required and q.name not in TENANT_OBJECTS and q.name not in REQUIRED_QUERY_VALUES
    ]
    if not route.reads and str(route) not in WRITES:
        missing.append(f"no request body: add {str(route)!r} to WRITES (valid body, scope)")
    return missing


def owned_params(route: RouteCase) -> list[str]:
    return [name for name in route.path_params if name in TENANT_OBJECTS]


def in_catalogue(route: RouteCase) -> bool:
    return route.path == CATALOGUE or route.path.startswith(CATALOGUE + "/")


def needed_scope(route: RouteCase) -> Scope | None:
    """The scope a route demands; None when any valid key will do."""
    if route.reads:
        return None if in_catalogue(route) else READ_SCOPES.get(str(route), Scope.READ)
    return WRITES[str(route)].scope


def callable_routes(findings: Findings) -> list[RouteCase]:
    """The routes the matrix can call; the others are findings, never silently skipped."""
    assert ROUTES, "the route table yielded no /v1 route: the matrix would check nothing"
    routes = []
    for route in ROUTES:
        if missing := unmapped(route):
            findings.add(route, f"the matrix cannot call this route ({EXTEND}): {missing}")
        else:
            routes.append(route)
    return routes


async def send(
    client: httpx.AsyncClient,
    route: RouteCase,
    ids: Ids,
    *,
    body_ids: Ids | None = None,
    with_body: bool = True,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Call ``route`` with ``ids`` in its path and required query, and a valid body made from
    ``body_ids`` (default ``ids``) when it is a write."""
    url = fill(route.path, {**SHARED_VALUES, **ids})
    query = {
        q.name: ids[q.name] if q.name in TENANT_OBJECTS else REQUIRED_QUERY_VALUES[q.name]
        for q in route.query_params
        if q.required
    } | dict(params or {})
    body = None
    if with_body and not route.reads:
        body = WRITES[str(route)].body(body_ids if body_ids is not None else ids)
    return await client.request(
        route.method, url, params=query, json=body, headers=dict(headers or {})
    )


# The two tenants' worlds -------------------------------------------------------------------


@dataclass
class World:
    """One tenant, its read-write client, and one stored object of each kind."""

    tenant: str
    token: str
    client: httpx.AsyncClient
    ids: dict[str, str]
    labels: tuple[str, ...]  # external ids and names, as distinctive as the ids

    @property
    def identifiers(self) -> tuple[str, ...]:
        return (*self.ids.values(), *self.labels)


def never_existed() -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in TENANT_OBJECTS}


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    response = await client.post(path, json=body)
    assert response.status_code == 201, f"setup: POST {path}: {response.text}"
    identifier: str = response.json()["id"]
    return identifier


async def build_world(api: Api, tenant: str, stack: AsyncExitStack) -> World:
    """A patient, a practitioner, their dyad, a PHQ-9, a webhook, a risk alert (raised by a
    second PHQ-9 endorsing item 9) with its webhook delivery, and a session rated on WAI-SR
    and WAI-SR-T, all through the public API."""
    client = await stack.enter_async_context(await api.client_for(tenant))
    token = client.headers["Authorization"].removeprefix("Bearer ")
    tag = f"{tenant}-{uuid.uuid4().hex[:8]}"
    patient_ext, practitioner_ext, name = f"{tag}-patient", f"{tag}-practitioner", f"{tag} Name"
    patient = await created(client, "/v1/patients", {"external_id": patient_ext})
    practitioner = await created(
        client, "/v1/practitioners", {"external_id": practitioner_ext, "display_name": name}
    )
    dyad = await created(
        client, "/v1/dyads", {"patient_id": patient, "practitioner_id": practitioner}
    )
    administration = await created(client, f"/v1/dyads/{dyad}/administrations", ADMINISTRATION)
    webhook = await created(client, "/v1/webhooks", {"url": HOOK, "events": ["alert.raised"]})
    await created(client, f"/v1/dyads/{dyad}/administrations", RISK)
    deliveries = await client.get(f"/v1/webhooks/{webhook}/deliveries")
    for rating in ALLIANCE:
        await created(client, f"/v1/dyads/{dyad}/administrations", rating)
    alerts = await client.get("/v1/alerts", params={"dyad_id": dyad, "kind": "risk"})
    assert alerts.status_code == 200, f"setup: GET /v1/alerts: {alerts.text}"
    assert alerts.json()["items"], "setup: PHQ-9 item 9 endorsed must raise a risk alert"
    ids = {
        "patient_id": patient,
        "practitioner_id": practitioner,
        "dyad_id": dyad,
        "administration_id": administration,
        "alert_id": alerts.json()["items"][0]["id"],
        "webhook_id": webhook,
        "delivery_id": deliveries.json()["items"][0]["id"],  # the risk alert's event
    }
    assert set(ids) == set(TENANT_OBJECTS), "build_world must create every kind of object"
    return World(tenant, token, client, ids, (patient_ext, practitioner_ext, name))


@dataclass
class Tenants:
    api: Api
    a: World
    b: World
    stack: AsyncExitStack = field(repr=False)

    async def client(self, tenant: str, *scopes: Scope) -> httpx.AsyncClient:
        return await self.stack.enter_async_context(await self.api.client_for(tenant, *scopes))


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """Rapport in-process on each engine, with webhooks allowed to 127.0.0.1."""
    async with running_api(database_url, webhook_allowed_hosts="127.0.0.1") as running:
        yield running


@pytest.fixture
async def tenants(api: Api) -> AsyncIterator[Tenants]:
    async with AsyncExitStack() as stack:
        a = await build_world(api, "clinic-a", stack)
        b = await build_world(api, "clinic-b", stack)
        yield Tenants(api, a, b, stack)


# The matrix knows every route ---------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_the_matrix_can_call(route: RouteCase) -> None:
    if missing := unmapped(route):
        pytest.fail(f"{route}: {EXTEND}:\n  " + "\n  ".join(missing), pytrace=False)


def test_the_matrix_covers_the_public_contract() -> None:
    generated = {str(route) for route in ROUTES}
    assert generated >= CONTRACT_TODAY, f"missing: {sorted(CONTRACT_TODAY - generated)}"


def test_the_matrix_covers_every_documented_operation() -> None:
    generated = {str(route) for route in ROUTES}
    documented = documented_operations(APP, "/v1")
    assert generated >= documented, f"missing: {sorted(documented - generated)}"


# 1. Authentication ----------------------------------------------------------------------------


async def test_every_route_refuses_a_missing_or_wrong_api_key(tenants: Tenants) -> None:
    findings = Findings()
    a = tenants.a
    prefix = a.token.split("_")[1]
    credentials: dict[str, str | None] = {
        "no Authorization header": None,
        "an unknown key": "Bearer rap_000000000000_nope",
        "a malformed token": "Bearer garbage",
        "an empty bearer token": "Bearer ",
        "a known key id with a wrong secret": f"Bearer rap_{prefix}_{'x' * 43}",
        "another scheme": "Basic bWF0cml4Om1hdHJpeA==",
    }
    for route in callable_routes(findings):
        for what, authorization in credentials.items():
            headers = {} if authorization is None else {"Authorization": authorization}
            attempts = [("", await send(tenants.api.http, route, a.ids, headers=headers))]
            if not route.reads and authorization is None:  # authentication precedes validation
                bare = await send(tenants.api.http, route, a.ids, with_body=False)
                attempts.append((" and no body", bare))
            for suffix, response in attempts:
                issues = problem_issues(response, 401, "unauthenticated")
                if "www-authenticate" not in response.headers:
                    issues.append("expected a WWW-Authenticate challenge")
                if leaks := found_in(response.text, a.labels):
                    issues.append(f"shows tenant A's data {leaks}")
                findings.extend(f"{route} with {what}{suffix}", issues, response)
    findings.assert_none()


# 2. Scopes --------------------------------------------------------------------------------------


async def test_every_route_demands_its_scope(tenants: Tenants) -> None:
    findings = Findings()
    a = tenants.a
    # Read-only first: when the write-only key then succeeds with the same body, the body was
    # valid and the refused request stored nothing (POST /v1/patients would conflict).
    keys = {
        Scope.READ: await tenants.client(a.tenant, Scope.READ),
        Scope.WRITE: await tenants.client(a.tenant, Scope.WRITE),
        Scope.AUDIT: await tenants.client(a.tenant, Scope.AUDIT),
    }
    for route in callable_routes(findings):
        needs = needed_scope(route)
        for scope, client in keys.items():
            where = f"{route} with a {scope}-only key"
            response = await send(client, route, a.ids)
            if needs in (None, scope):
                if not response.is_success:
                    findings.add(where, "expected success", response)
            else:
                findings.extend(where, problem_issues(response, 403, "forbidden"), response)
    findings.assert_none()


# 3. Tenant isolation of objects ---------------------------------------------------------------


async def test_no_route_reaches_another_tenants_objects(tenants: Tenants) -> None:
    findings = Findings()
    a, b, nowhere = tenants.a, tenants.b, never_existed()
    for route in callable_routes(findings):
        if owned := owned_params(route):
            # B asks for A's object by id: exactly what B gets for an id that never existed.
            where = f"{route}: tenant B naming tenant A's {', '.join(owned)}"
            foreign = await send(b.client, route, a.ids, body_ids=b.ids)
            unknown = await send(b.client, route, nowhere, body_ids=b.ids)
            findings.extend(where, problem_issues(foreign, 404, "not-found"), foreign)
            _same_answer(findings, where, foreign, a.ids, unknown, nowhere)
            asked = {a.ids[name] for name in owned}
            if leaks := found_in(foreign.text, set(a.identifiers) - asked):
                findings.add(where, f"shows tenant A's data {leaks}", foreign)
            mine = await send(a.client, route, a.ids)
            if not mine.is_success:
                findings.add(f"{route}: tenant A naming its own objects", "expected success", mine)
        elif route.path_params:
            shared = await send(b.client, route, b.ids)
            if not shared.is_success:
                findings.add(f"{route}: tenant B", "shared data must answer every tenant", shared)
        if not route.reads and _body_names_objects(route, a, b):
            # B writes a body naming A's objects: refused exactly like never-existing ids.
            where = f"{route}: tenant B sending a body naming tenant A's objects"
            foreign = await send(b.client, route, b.ids, body_ids=a.ids)
            unknown = await send(b.client, route, b.ids, body_ids=nowhere)
            if foreign.is_success or foreign.status_code >= 500:
                findings.add(where, "expected a 4xx refusal", foreign)
            _same_answer(findings, where, foreign, a.ids, unknown, nowhere)
            sent = json.dumps(WRITES[str(route)].body(a.ids))
            if leaks := found_in(foreign.text, {s for s in a.identifiers if s not in sent}):
                findings.add(where, f"shows tenant A's data {leaks}", foreign)
    findings.assert_none()


def _body_names_objects(route: RouteCase, a: World, b: World) -> bool:
    write = WRITES[str(route)]
    return write.body(a.ids) != write.body(b.ids)


def _same_answer(
    findings: Findings,
    where: str,
    foreign: httpx.Response,
    foreign_ids: Mapping[str, str],
    unknown: httpx.Response,
    unknown_ids: Mapping[str, str],
) -> None:
    """Another tenant's object must be indistinguishable from one that never existed."""
    seen = (foreign.status_code, mask(foreign.text, _placeholders(foreign_ids)))
    expected = (unknown.status_code, mask(unknown.text, _placeholders(unknown_ids)))
    if seen != expected:
        findings.add(
            where,
            "answers differently than for ids that never existed, revealing that they exist"
            f"\n      never-existed answer: {expected[0]}: {expected[1][:300]}",
            foreign,
        )


def _placeholders(ids: Mapping[str, str]) -> dict[str, str]:
    return {value: f"<{name}>" for name, value in ids.items()}


# 4. Reads and lists show the caller's rows only -----------------------------------------------


async def test_reads_show_only_the_callers_rows(tenants: Tenants) -> None:
    findings = Findings()
    for route in callable_routes(findings):
        if not route.reads:
            continue
        for me, other in ((tenants.a, tenants.b), (tenants.b, tenants.a)):
            where = f"{route}: tenant {me.tenant}"
            response = await send(me.client, route, me.ids)
            if not response.is_success:
                findings.add(where, "expected success reading its own data", response)
                continue
            if leaks := found_in(response.text, other.identifiers):
                findings.add(where, f"shows tenant {other.tenant}'s data {leaks}", response)
            _sees_own_rows(findings, where, route, response, me)
            for q in route.query_params:
                if q.required or q.name not in TENANT_OBJECTS:
                    continue
                # Filtering by the other tenant's id finds nothing of theirs...
                filtered = await send(me.client, route, me.ids, params={q.name: other.ids[q.name]})
                at = f"{where} filtering by tenant {other.tenant}'s {q.name}"
                if filtered.status_code not in (200, 404, 422):
                    findings.add(at, "expected 200 without their rows, 404 or 422", filtered)
                hidden = set(other.identifiers) - {other.ids[q.name]}
                if leaks := found_in(filtered.text, hidden):
                    findings.add(at, f"shows tenant {other.tenant}'s data {leaks}", filtered)
                # ...while filtering by one's own id still finds one's own rows.
                own = await send(me.client, route, me.ids, params={q.name: me.ids[q.name]})
                _sees_own_rows(findings, f"{where} filtering by its own {q.name}", route, own, me)
    findings.assert_none()


def _sees_own_rows(
    findings: Findings, where: str, route: RouteCase, response: httpx.Response, me: World
) -> None:
    """A list of tenant data must show the caller's rows: an empty list proves nothing."""
    body = body_of(response)
    is_list = isinstance(body, dict) and {"items", "next_cursor"} <= set(body)  # DESIGN 3
    if in_catalogue(route) or not is_list:
        return
    if not found_in(json.dumps(body["items"]), me.identifiers):
        findings.add(
            where,
            "the list shows none of the caller's own rows, which proves nothing: make "
            "build_world (tests/integration/test_route_matrix.py) create a row of each "
            "tenant that this list returns",
            response,
        )
