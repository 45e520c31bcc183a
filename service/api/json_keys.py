"""Refuse a JSON body in which an object names a key twice, on every face (issue 16, item 8).

JSON parsers keep the last of duplicate keys, so ``{"external_id": "a", "external_id": "b"}``
was stored as "b": what a reviewer reads in a log of the request and what is stored differ.
The check sits on ``receive``, as the body ceiling does (service/api/body_limit.py): chunks
pass through as they arrive, and the last one raises a 422 ``HTTPException`` when the whole
body repeats a key, which FastAPI's body reading lets through, so each adapter answers in
its own format (problem+json, an OperationOutcome under /fhir/R4). A body that is not JSON
at all is left to the adapters, which refuse it as they always have.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DUPLICATE_KEY = "A JSON object in the body names the key {key!r} more than once."


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen.add(key)


def duplicate_key(body: bytes) -> str | None:
    """The first key some object of ``body`` repeats; None when none does or it is not JSON."""
    if body.count(b":") < 2:  # fewer than two keys anywhere: nothing can repeat
        return None
    try:
        json.loads(body, object_pairs_hook=_unique)
    except _Duplicate as found:
        return found.key
    except (ValueError, RecursionError):  # not JSON, or too deep: the adapters refuse it
        return None
    return None


def _is_json(scope: Scope) -> bool:
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def unique_keys(scope: Scope, receive: Receive) -> Receive:
    """``receive``, refusing (422) a JSON body whose objects repeat a key."""
    if not _is_json(scope):
        return receive
    chunks: list[bytes] = []

    async def checked() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                key = duplicate_key(b"".join(chunks))
                chunks.clear()
                if key is not None:
                    raise HTTPException(422, DUPLICATE_KEY.format(key=key[:64]))
        return message

    return checked


class UniqueKeys:
    """ASGI middleware: ``receive`` of every HTTP request through ``unique_keys``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            receive = unique_keys(scope, receive)
        await self.app(scope, receive, send)
