"""The ``Allow`` header of a 405: every method the path supports, not one route's.

Starlette answers a known path with an unsupported method from the first route whose path
matches, so ``OPTIONS /v1/patients`` listed only POST although GET serves the same path
(issue 16, item 8). This table gathers the methods of every route by path template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from starlette.routing import compile_path

_TABLE = "allow_table"


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(app.state, _TABLE, None)
    if table is None:
        by_path: dict[str, set[str]] = {}
        for template, methods in _routes(app):
            by_path.setdefault(template, set()).update(methods)
        table = [(compile_path(t)[0], frozenset(m)) for t, m in by_path.items()]
        setattr(app.state, _TABLE, table)
    found: set[str] = set()
    for regex, methods in table:
        if regex.match(path):
            found |= methods
    return sorted(found)


def _routes(app: FastAPI) -> Iterable[tuple[str, frozenset[str]]]:
    """(path with its include prefix, methods) of every route that has methods."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI < 0.137: app.routes is already flat
        contexts: Iterable[Any] = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    for context in contexts:
        methods = getattr(context, "methods", None) or getattr(
            getattr(context, "original_route", None), "methods", None
        )
        path = getattr(context, "path", None)
        if methods and isinstance(path, str):
            yield path, frozenset(methods)
