"""A real HTTP server that receives webhooks, as an EHR's endpoint would."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; ``answer`` picks each reply's status (and headers) by the number
    of requests seen so far, so a test can be down for a while, then up."""

    url: str
    received: list[Received] = field(default_factory=list)
    answer: Callable[[int], tuple[int, dict[str, str]]] = lambda n: (200, {})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Received]:
        """The requests answered 2xx, in the order they arrived."""
        with self.lock:
            return [r for i, r in enumerate(self.received) if 200 <= self.answer(i)[0] < 300]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(got := self.accepted()) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(self.accepted())} of {count} webhooks arrived")


@contextmanager
def receiving(port: int = 0) -> Iterator[Receiver]:
    receiver = Receiver("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                index = len(receiver.received)
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                status, headers = receiver.answer(index)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
