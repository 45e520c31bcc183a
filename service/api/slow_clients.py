"""Bounds on slow clients, at the HTTP transport (issue 16, item 7).

uvicorn bounds idle keep-alive connections but not how long a client may take to send a
request: 200 connections sending headers a byte a second were all held, and a body sent as
slowly was never dropped. This protocol is uvicorn's httptools protocol (the one
``rapport serve`` uses) with three bounds from the settings:

- ``max_connections``: a connection beyond it is answered ``503`` with ``Retry-After`` and
  closed before any of it is read;
- ``header_timeout``: from connecting (or from the first byte of a later request on a
  kept-alive connection) to the end of the headers; then the connection is closed;
- ``body_timeout``: from the end of the headers to the end of the body; then closed.

A closed connection is what a slow client gets: never a hang, and no worker held. A request
whose body arrived is never cut while the app works on it or answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.settings import get_settings

BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"retry-after: 1\r\n"
    b"connection: close\r\n"
    b"content-length: 41\r\n"
    b"\r\n"
    b"Too many connections; retry in a second.\n"
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds of ``Bounds.current()``.

    A module-level class, so that ``rapport serve --workers N`` (spawned processes, which
    pickle the config) can name it; each process reads the bounds from its settings."""

    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > Bounds.current().max_connections:
            transport.write(BUSY)
            transport.close()
            return
        self.arm(Bounds.current().header_timeout)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.deadline is None:  # a later request on a kept-alive connection
            self.arm(Bounds.current().header_timeout)

    def on_headers_complete(self) -> None:
        self.arm(Bounds.current().body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        super().connection_lost(exc)

    def arm(self, seconds: float) -> None:
        self.disarm()
        self.deadline = asyncio.get_running_loop().call_later(seconds, self.expire)

    def disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def expire(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.transport.close()


@dataclass(frozen=True, slots=True)
class Bounds:
    max_connections: int
    header_timeout: float
    body_timeout: float

    @staticmethod
    @cache
    def current() -> Bounds:
        """From RAPPORT_MAX_CONNECTIONS, RAPPORT_HEADER_TIMEOUT_SECONDS and
        RAPPORT_BODY_TIMEOUT_SECONDS (service/settings.py), read once per process."""
        settings = get_settings()
        return Bounds(
            settings.max_connections, settings.header_timeout_seconds,
            settings.body_timeout_seconds,
        )  # fmt: skip
