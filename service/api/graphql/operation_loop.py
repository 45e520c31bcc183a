"""GraphQL operations run on an event loop of their own, in a thread of their own.

graphql-core builds an answer on the loop that runs it: for a document near the cost limit
(guard.py: thousands of rows, each completed field by field) that is a second or more of
Python with only brief awaits, and everything else on that loop (``/healthz``, REST)
waited behind it. Running each operation on this second loop leaves the server's loop free:
the two threads share the interpreter, which hands over every few milliseconds, so other
requests are delayed by milliseconds instead of by the whole answer. The use cases are
loop-agnostic (each call awaits its own loop's future), DataLoaders are created on first
use inside the operation, so on this loop, and the answer is serialised here too.

One loop serves every operation of the app: GraphQL requests still share a loop with each
other, as they did, but no longer with the rest of the service.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class OperationLoop:
    """A daemon thread running an event loop, started on first use, stopped by ``close``."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="rapport-graphql", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """``work``'s result, computed on the operation loop; cancelled with the caller."""
        future = asyncio.run_coroutine_threadsafe(work, self._started())
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
