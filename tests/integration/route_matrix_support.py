"""Mechanics of the route matrix: enumerate the app's routes, and judge one response.

The rules themselves (which ids fill which path parameter, which body each write route takes,
what each caller must see) live in ``test_route_matrix.py``; this module only knows how to
walk FastAPI's route table and how to recognise a problem document or a leaked identifier.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

PROBLEM_JSON = "application/problem+json"
READ_METHODS = frozenset({"GET", "HEAD"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class QueryParam:
    name: str
    required: bool


@dataclass(frozen=True)
class RouteCase:
    """One (method, path) of the public API, as the matrix exercises it."""

    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[QueryParam, ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def reads(self) -> bool:
        return self.method in READ_METHODS


def _operations(app: FastAPI) -> Iterator[tuple[str, frozenset[str]]]:
    """(path, methods) of every APIRoute, however deeply routers are included.

    Since FastAPI 0.137 ``include_router`` leaves an opaque ``_IncludedRouter`` in
    ``app.routes`` instead of copying the routes in, so filtering ``app.routes`` by
    ``APIRoute`` finds nothing. ``iter_route_contexts`` is FastAPI's public way to flatten
    the tree; each context carries the path *with* the include prefix.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI < 0.137: app.routes is already flat
        contexts: Iterable[Any] = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    for context in contexts:
        if isinstance(getattr(context, "original_route", context), APIRoute):
            yield context.path, frozenset(context.methods or ())


def route_cases(app: FastAPI, prefix: str) -> list[RouteCase]:
    """Every (method, path) under ``prefix``, with query parameters from the OpenAPI schema."""
    operations = app.openapi().get("paths", {})
    cases = []
    for path, methods in _operations(app):
        if not (path == prefix or path.startswith(prefix + "/")):
            continue
        for method in sorted(methods):
            parameters = operations.get(path, {}).get(method.lower(), {}).get("parameters", [])
            query = tuple(
                QueryParam(p["name"], bool(p.get("required")))
                for p in parameters
                if p.get("in") == "query"
            )
            cases.append(RouteCase(method, path, tuple(_PATH_PARAM.findall(path)), query))
    # In path order, deletions last: a deletion ends what the other routes can show.
    return sorted(cases, key=lambda c: (c.method == "DELETE", c.path, c.method))


def documented_operations(app: FastAPI, prefix: str) -> set[str]:
    """'METHOD /path' of every operation the OpenAPI schema publishes under ``prefix``."""
    paths = app.openapi().get("paths", {})
    return {
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        if path == prefix or path.startswith(prefix + "/")
        for method in operations
        if method.upper() in HTTP_METHODS
    }


def fill(path: str, values: Mapping[str, str]) -> str:
    return _PATH_PARAM.sub(lambda m: values[m.group(1)], path)


def id_forms(value: str) -> set[str]:
    """The spellings under which an identifier could surface in a response."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return {value}
    return {str(parsed), parsed.hex, str(parsed).upper()}


def mask(text: str, replacements: Mapping[str, str]) -> str:
    """Replace each identifier (in every spelling) by a placeholder, for comparing answers."""
    for value, placeholder in replacements.items():
        for form in id_forms(value):
            text = text.replace(form, placeholder)
    return text


@dataclass
class Findings:
    """Every broken expectation of a run, so one run reports the whole matrix at once."""

    items: list[str] = field(default_factory=list)

    def add(self, where: object, message: str, response: httpx.Response | None = None) -> None:
        if response is not None:
            message += f"\n      got {response.status_code}: {response.text[:300]}"
        self.items.append(f"{where}: {message}")

    def extend(self, where: object, messages: Iterable[str], response: httpx.Response) -> None:
        if messages := list(messages):
            self.add(where, "; ".join(messages), response)

    def assert_none(self) -> None:
        assert not self.items, f"{len(self.items)} failure(s):\n  " + "\n  ".join(self.items)


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # not JSON, or not even text (a PNG chart)
        return None


def problem_issues(response: httpx.Response, status: int, code: str) -> list[str]:
    """Why ``response`` is not an RFC 9457 problem with this status and a code containing
    ``code`` (empty when it is)."""
    issues = []
    if response.status_code != status:
        issues.append(f"expected {status}")
    content_type = response.headers.get("content-type", "")
    if response.request.method == "HEAD":
        return issues
    if content_type.split(";")[0].strip() != PROBLEM_JSON:
        issues.append(f"expected content-type {PROBLEM_JSON}, got {content_type!r}")
    body = body_of(response)
    if not isinstance(body, dict) or code not in str(body.get("code", "")):
        issues.append(f"expected a problem whose code contains {code!r}")
    elif body.get("status") != response.status_code:
        issues.append("the problem's status differs from the HTTP status")
    return issues


def found_in(text: str, identifiers: Iterable[str]) -> list[str]:
    """Which of ``identifiers`` appear in ``text``, in any spelling."""
    return sorted({i for i in identifiers for form in id_forms(i) if form in text})
