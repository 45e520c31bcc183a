"""A ceiling on request bodies: a larger one is refused with 413 instead of being buffered.

Every route reads its body into memory (JSON, FHIR resources, GraphQL documents), so without
a ceiling one request could hold as much memory as it cares to send. ``BodyLimit`` is plain
ASGI middleware, so it applies to every route, present and future. A body that declares a
larger ``Content-Length`` is refused before a byte of it is read; one sent in chunks is
refused as soon as it passes the limit. The refusal is an ``HTTPException`` raised from
``receive``, which FastAPI lets through its body reading, so every adapter answers it in its
own format (problem+json, an OperationOutcome under /fhir/R4).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: ``receive`` of every HTTP request bounded by ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            receive = limited(scope, receive, self.limit)
        await self.app(scope, receive, send)


def limited(scope: Scope, receive: Receive, limit: int) -> Receive:
    """``receive``, refusing a body of more than ``limit`` bytes with a 413."""
    declared = _content_length(scope)
    received = 0

    async def bounded() -> Message:
        nonlocal received
        if declared is not None and declared > limit:
            raise _too_large(limit)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return bounded


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"Request bodies are limited to {limit} bytes.")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
