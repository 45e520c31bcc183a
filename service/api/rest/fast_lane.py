"""The fast lane: the busiest routes served without FastAPI's per-request machinery.

FastAPI 0.165 spends about 250 us of the event loop on every POST to the administration
route around the endpoint itself (five middleware layers, dependency solving, telemetry
hooks, parameter extraction): more than scoring the answers and storing them takes
(bench/README.md). A lane serves one route's requests in the common case by itself. It
validates the path, query, header and body parameters with FastAPI's own functions and the
route's own fields, so it accepts exactly what FastAPI accepts and builds the same values;
it resolves the route's dependencies (the caller's API key, the services) and calls the
route's own endpoint function, so no route logic lives here.

Whatever a lane does not accept outright (a missing, unknown or under-scoped key, a body
that is not JSON or does not validate, a path FastAPI might read differently) goes on to
FastAPI untouched, with the body replayed (a body is bounded by the app's ceiling,
service/api/body_limit.py), so every refusal comes from the one documented path and is
audited there. Errors the endpoint or a dependency raises are answered by the
app's own exception handlers, as FastAPI's would answer them. Only routes whose parameters
are of those kinds (or the request itself, its body readable again), whose dependencies are
an ``ApiKey`` or take nothing but the request, and whose endpoint returns a ``Response``
can have a lane (checked when the lane is built). tests/integration/test_fast_lane.py sends
the same requests with and without the lane and compares the answers byte for byte.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, get_type_hints

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from service.api.deps import ApiKey

Resolve = Callable[[Request], Awaitable[Any]]
_DECLINED = object()  # a dependency's answer when the lane leaves the request to FastAPI
# Content types FastAPI reads as JSON, as clients send them; any other goes to FastAPI.
_JSON_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})


@dataclass(frozen=True, slots=True)
class _Lane:
    route: APIRoute
    path: re.Pattern[str]
    dependencies: tuple[tuple[str | None, Resolve], ...]  # (endpoint argument, resolver)
    endpoint: Callable[..., Awaitable[Response]]

    async def arguments(self, request: Request, body: bytes) -> dict[str, Any] | None:
        """The endpoint's arguments, or None when FastAPI should answer this request."""
        dependant: Dependant = self.route.dependant
        json_body: Any = None
        if dependant.body_params:
            if not body or request.headers.get("content-type", "").lower() not in _JSON_TYPES:
                return None
            try:
                json_body = json.loads(body)  # Starlette's own decoder: the same values
            except ValueError:  # not JSON, not UTF-8: FastAPI says how
                return None
        values: dict[str, Any] = {}
        for name, resolve in self.dependencies:
            value = await resolve(request)
            if value is _DECLINED:
                return None
            if name is not None:
                values[name] = value
        for fields, received in (
            (dependant.path_params, request.path_params),
            (dependant.query_params, request.query_params),
            (dependant.header_params, request.headers),
        ):
            if fields:
                found, errors = request_params_to_args(fields, received)
                if errors:
                    return None
                values.update(found)
        if dependant.body_params:
            found, errors = await request_body_to_args(dependant.body_params, json_body, False)
            if errors:
                return None
            values.update(found)
        if dependant.request_param_name is not None:
            values[dependant.request_param_name] = request
        return values


class FastLane:
    """The lanes of some routes of ``app``, matched by method and path."""

    def __init__(self, app: FastAPI, routes: Sequence[str]) -> None:
        """``routes``: "METHOD /path/{param}", as the routes are declared."""
        self._app = app
        self._lanes: dict[str, list[_Lane]] = {}
        for name in routes:
            method, path = name.split(" ", 1)
            route = _route_of(app, method, path)
            lane = _Lane(route, route.path_regex, _resolvers(route.dependant), route.endpoint)
            self._lanes.setdefault(method, []).append(lane)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer the request (None), or return what FastAPI should receive to answer it."""
        lanes = self._lanes.get(scope["method"])
        if not lanes or scope.get("root_path"):
            return receive
        for lane in lanes:
            match = lane.path.match(scope["path"])
            if match is not None:
                break
        else:
            return receive
        scope["app"] = self._app
        convert = lane.route.param_convertors
        scope["path_params"] = {k: convert[k].convert(v) for k, v in match.groupdict().items()}
        request = Request(scope, receive)
        try:
            body = await _read_body(receive)  # bounded by the app's ceiling (body_limit.py)
            if body is None:
                return None  # the client went away
            request = Request(scope, _replay(body, receive))  # the body, for a request param
            arguments = await lane.arguments(request, body)
            if arguments is None:
                return _replay(body, receive)
            response = await lane.endpoint(**arguments)
        except Exception as error:  # as FastAPI's handlers would answer it
            response = await self._handle(request, error)
        await response(scope, receive, send)
        return None

    async def _handle(self, request: Request, error: Exception) -> Response:
        """The answer the app's exception handlers give (problem+json, a masked 500)."""
        for kind in type(error).__mro__:
            handler = self._app.exception_handlers.get(kind)
            if handler is not None:
                response = await handler(request, error)  # type: ignore[misc]
                assert isinstance(response, Response)
                return response
        raise error  # pragma: no cover - add_problem_handlers maps Exception itself


def _route_of(app: FastAPI, method: str, path: str) -> APIRoute:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            # Included without a prefix or dependencies of its own: the route's own
            # dependant and path are the ones FastAPI serves.
            assert context.path == route.path, f"{route.path} is included under a prefix"
            _check(route)
            return route
    raise LookupError(f"no route {method} {path}")


def _check(route: APIRoute) -> None:
    dependant = route.dependant
    returns = get_type_hints(route.endpoint).get("return")
    unsupported = [
        what
        for what, present in (
            ("cookie parameters", dependant.cookie_params),
            ("several body parameters", len(dependant.body_params) > 1),
            ("an embedded body", any(getattr(f.field_info, "embed", False)
                                     for f in dependant.body_params)),
            ("a return value other than a Response",
             not (isinstance(returns, type) and issubclass(returns, Response))),
        )
        if present
    ]  # fmt: skip
    if unsupported:
        raise TypeError(f"{route.path} cannot have a fast lane: it has {', '.join(unsupported)}")


def _resolvers(dependant: Dependant) -> tuple[tuple[str | None, Resolve], ...]:
    resolvers: list[tuple[str | None, Resolve]] = []
    for dependency in dependant.dependencies:
        call = dependency.call
        if isinstance(call, ApiKey):
            resolvers.append((dependency.name, _admitted(call)))
        elif (
            call is not None
            and inspect.iscoroutinefunction(call)
            and dependency.request_param_name is not None
            and not dependency.dependencies
            and len(inspect.signature(call).parameters) == 1
        ):
            resolvers.append((dependency.name, call))
        else:
            raise TypeError(f"a fast lane cannot resolve the dependency {call!r}")
    return tuple(resolvers)


def _admitted(api_key: ApiKey) -> Resolve:
    async def resolve(request: Request) -> Any:
        principal = await api_key.admitted(request)
        return _DECLINED if principal is None else principal

    return resolve


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body; None if the client went away."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then the rest of the request."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
