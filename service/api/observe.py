"""The outermost layer of the HTTP app: request id, access log line, request metrics.

Pure ASGI middleware, the outermost layer of the app (``Observed``, added last in
``create_app``), so every route is covered whichever path serves it. For each request it

- takes the id from ``X-Request-ID`` when it is safe to echo (1-128 letters, digits and
  ``._:-``), else generates one; it is set in ``service.logs.REQUEST_ID`` (every log line
  of the request carries it) and echoed in the response's ``X-Request-ID`` header;
- writes one access log line: method, route template, status and duration. Never the raw
  path nor the query string (a path holds ids; a query string may hold a token or a search
  for an identifier);
- observes the request in ``rapport_http_request_duration_seconds`` under its route
  template (``unmatched`` for a path no route serves);
- answers ``GET /metrics`` itself when metrics are served on the service's port.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import Message, Receive, Scope, Send

from service.api import metrics
from service.logs import REQUEST_ID

access_log = logging.getLogger("rapport.access")

Inner = Callable[[Scope, Receive, Send], Awaitable[None]]
UNMATCHED = "unmatched"
METRICS_PATH = "/metrics"
_SAFE_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RouteTemplates:
    """The template of the route that serves a path (``/v1/dyads/{dyad_id}``): static paths
    by lookup, the others by their routes' patterns in the router's order."""

    def __init__(self, routes: Sequence[BaseRoute], extra: Sequence[str] = ()) -> None:
        self._static: dict[str, str] = {path: path for path in extra}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        # FastAPI keeps included routers as routes of their own: their contexts give each
        # route with its path as served (the router's prefix included).
        for context in iter_route_contexts(routes):
            path = context.path
            if not isinstance(path, str):
                continue
            mount = isinstance(context.original_route, Mount)
            template = f"{path}/{{path:path}}" if mount else path
            if "{" not in template:
                self._static.setdefault(template, template)
                continue
            pattern, _, _ = compile_path(template)
            self._patterns.append((pattern, template))

    def of(self, path: str) -> str:
        found = self._static.get(path)
        if found is not None:
            return found
        for pattern, template in self._patterns:
            if pattern.match(path):
                return template
        return UNMATCHED


class Observer:
    def __init__(self, templates: RouteTemplates, serve_metrics: bool) -> None:
        self._templates = templates
        self._serve_metrics = serve_metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send, inner: Inner) -> None:
        request_id = _request_id(scope)
        REQUEST_ID.set(request_id)
        header = (b"x-request-id", request_id.encode())
        status = 500  # when the app fails before it answers
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        path: str = scope["path"]
        if self._serve_metrics and path == METRICS_PATH:
            await _metrics(scope, observed_send)
            return
        try:
            await inner(scope, receive, observed_send)
        finally:
            # On an exception the request id stays set: the server's own log line of it
            # (uvicorn's "Exception in ASGI application") still carries it.
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = self._templates.of(path)
            metrics.REQUESTS.labels(method, route, str(status)).observe(elapsed)
            access_log.info(
                "%s %s %d %.1fms", method, route, status, elapsed * 1000,
                extra={"method": method, "route": route, "status": status,
                       "duration_ms": round(elapsed * 1000, 3)},
            )  # fmt: skip


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _SAFE_ID.fullmatch(value):
                given: str = value.decode()
                return given
            break
    return uuid.uuid4().hex


async def _metrics(scope: Scope, send: Send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        body, status = b"Method Not Allowed\n", 405
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD")]
    else:
        body, status = metrics.exposition(), 200
        headers = [(b"content-type", metrics.CONTENT_TYPE.encode())]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class Observed:
    """The observer as ASGI middleware (``app.add_middleware(Observed, observer=...)``)."""

    def __init__(self, app: Inner, observer: Observer) -> None:
        self._app = app
        self._observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._observer(scope, receive, send, self._app)
        else:
            await self._app(scope, receive, send)
