"""RFC 9457 problem details: the one place REST turns errors into responses.

Every ``DomainError`` code maps to a status here; a test asserts that every subclass has a
mapping, so a new error cannot fall through to a 500. Unexpected exceptions are logged with
a correlation id and answered with a masked 500 that leaks nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.allow import allowed_methods
from service.api.refusals import audit_refusal
from service.domain.errors import (
    Conflict,
    DefinitionError,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    InstrumentNotFound,
    InvalidResponses,
    NotFound,
    Unauthenticated,
    Unavailable,
    UnknownPopulation,
    ValidationFailed,
)

log = logging.getLogger("rapport.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:rapport:problem:"

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    DomainError: 400,
    NotFound: 404,
    InstrumentNotFound: 404,
    ValidationFailed: 422,
    InvalidResponses: 422,
    UnknownPopulation: 422,
    IdempotencyKeyReused: 422,
    Unauthenticated: 401,
    Forbidden: 403,
    Conflict: 409,
    Unavailable: 503,
    DefinitionError: 500,
}


def status_for(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500  # pragma: no cover - DomainError itself is mapped


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = list(errors)
    if extra:
        body.update(extra)
    return Response(
        orjson.dumps(body), status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _field_errors(error: ValidationFailed) -> list[dict[str, Any]]:
    item_errors = isinstance(error, InvalidResponses)
    out = []
    for e in error.errors:
        entry: dict[str, Any] = {"code": e.code, "detail": e.message}
        if isinstance(error, IdempotencyKeyReused) or e.field == "cursor":
            entry["parameter"] = e.field
        else:
            entry["pointer"] = f"/responses/{e.field}" if item_errors else f"/{e.field}"
        if item_errors:
            entry["item"] = e.field
        out.append(entry)
    return out


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    if status >= 500:
        incident = uuid.uuid4().hex
        await audit_refusal(request, exc, status, f"{exc.code} incident {incident}")
        return _masked(exc, incident)
    await audit_refusal(request, exc, status, exc.code)
    errors = _field_errors(exc) if isinstance(exc, ValidationFailed) else None
    headers = {"WWW-Authenticate": 'Bearer realm="rapport"'} if status == 401 else None
    extra = {"existing_id": exc.existing_id} if isinstance(exc, Conflict) else None
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": "1"}
    return problem(status, exc.code, exc.title, exc.detail, errors, headers, extra)


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    await audit_refusal(request, exc, 422, "validation-failed")
    errors = []
    for e in exc.errors():
        loc = [str(part) for part in e.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc else ("body", [])
        entry: dict[str, Any] = {
            "pointer": "/" + "/".join(path) if where == "body" else None,
            "parameter": None if where == "body" else (path[0] if path else where),
            "code": str(e.get("type", "invalid")),
            "detail": str(e.get("msg", "Invalid value")),
        }
        if where == "body" and len(path) >= 2 and path[0] == "responses":
            entry["item"] = path[1]
        errors.append({k: v for k, v in entry.items() if v is not None})
    if any(e["code"] == "json_invalid" for e in errors):
        position = next((e.get("ctx", {}).get("error") for e in exc.errors()), None)
        detail = (
            f"The body is not valid JSON ({position})."
            if position
            else "The body is not valid JSON."
        )
        return problem(422, "malformed-json", "Malformed JSON", detail, [])
    return problem(422, "validation-failed", "Invalid input", _summary(errors), errors)


def _summary(errors: list[dict[str, Any]]) -> str:
    places = [e.get("pointer") or e.get("parameter") or "body" for e in errors]
    return f"{len(errors)} invalid field(s): {', '.join(p or '/' for p in places)}"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    await audit_refusal(request, exc, exc.status_code, f"http-{exc.status_code}")
    if exc.status_code == 400:  # FastAPI could not decode the body (not UTF-8, say)
        return problem(422, "malformed-json", "Malformed JSON", "The body is not valid JSON.", [])
    code = {
        404: "not-found", 405: "method-not-allowed", 401: "unauthorized",
        413: "payload-too-large", 422: "malformed-json",  # 422: a key repeated (json_keys.py)
    }.get(exc.status_code, "http-error")  # fmt: skip
    title = {
        404: "Not found", 405: "Method not allowed", 413: "Payload too large",
        422: "Malformed JSON",
    }.get(exc.status_code, "HTTP error")  # fmt: skip
    headers = exc.headers
    if exc.status_code == 405:  # every method of the path, not only the first route's
        methods = allowed_methods(request.app, request.url.path)
        if methods:
            headers = {**(headers or {}), "Allow": ", ".join(methods)}
    return problem(exc.status_code, code, title, str(exc.detail), headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    incident = uuid.uuid4().hex
    await audit_refusal(request, exc, 500, f"internal-error incident {incident}")
    return _masked(exc, incident)


def _masked(exc: Exception, incident: str | None = None) -> Response:
    incident = incident or uuid.uuid4().hex
    log.error("unexpected error (incident %s)", incident, exc_info=exc)
    return problem(
        500,
        "internal-error",
        "Internal error",
        f"An unexpected error occurred; it has been logged as incident {incident}.",
    )


class MaskUnexpected:
    """ASGI middleware: an unexpected error becomes the masked 500 problem here, and goes no
    further. Left to Starlette's outermost layer it would be answered too, but then raised on
    to the server, which closes the connection: the client's next request on that kept-alive
    connection would fail with a reset. Added first, so innermost: the app's own handlers
    (domain errors, validation, HTTP errors) have answered everything they know."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, tracked)
        except Exception as exc:
            if started:  # part of an answer is out: only the server can end it
                raise
            answer = await _unexpected(Request(scope, receive), exc)  # audited, masked
            await answer(scope, receive, send)


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)  # errors raised outside MaskUnexpected
    app.add_middleware(MaskUnexpected)


class ProblemResponses:
    """OpenAPI declarations of the problem+json answers a route can give."""

    _DESCRIPTIONS: ClassVar[dict[int, str]] = {
        401: "Missing or invalid bearer token",
        403: "The token lacks the scope this operation needs",
        404: "Not found",
        409: "Conflict",
        422: "Invalid input; `errors` names each offending field or item",
        503: "Not ready",
    }

    @classmethod
    def of(cls, *statuses: int) -> dict[int | str, dict[str, Any]]:
        return {
            status: {
                "description": cls._DESCRIPTIONS[status],
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
            for status in statuses
        }
