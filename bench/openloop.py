"""An open-loop, fixed-rate HTTP/1.1 load generator (what ``wrk2 -R`` does), in asyncio.

``wrk`` is closed-loop: each connection sends its next request when the previous answer
arrives, so a slow server is simply asked less and its tail latency is under-reported
("coordinated omission"). Debian has no ``wrk2``, so this module emulates it: request ``i`` is
*scheduled* at ``start + i / rate`` whatever happened before, sent on an idle keep-alive
connection (a new one is opened when none is idle, up to ``--max-connections``; beyond that
the request waits in a queue), and its latency is measured **from its scheduled time** to the
end of its response. A server that falls behind therefore shows the full wait its clients
would see. The latency from the actual send is reported beside it (``service``), and the lag
between schedule and send (``send lag``: the generator's own timer resolution, about 1 ms,
plus queueing when every connection is busy).

Requests are raw bytes written on ``asyncio.Protocol`` connections (no HTTP library), so the
generator spends a few tens of microseconds per request and stays far from its own limit at
the rates it is used for (a few thousand per second). Responses must carry
``Content-Length`` (uvicorn's do). After the run the generator waits (bounded) for every
request in flight, so its status counts are exact: each scheduled request either completed
with a status or failed on its socket.

The plan comes as JSON in a file (``--plan``): host, port, the ``wrkload.Requests`` fields,
``rate``, ``duration``, ``warmup`` and ``max_connections``. The result is one JSON line on
stdout. Only 127.0.0.1 may be targeted.

Run: ``.venv/bin/python bench/openloop.py --plan plan.json``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from wrkload import Requests

ONLY_HOST = "127.0.0.1"
DRAIN_TIMEOUT_S = 15.0


@dataclass(slots=True)
class Tally:
    latencies: list[float] = field(default_factory=list)  # from the scheduled time, seconds
    service: list[float] = field(default_factory=list)  # from the actual send
    lags: list[float] = field(default_factory=list)  # send minus scheduled
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: int = 0
    record: bool = True
    last_done: float = 0.0


@dataclass(slots=True)
class Pending:
    scheduled: float
    data: bytes
    tally: Tally
    sent: float = 0.0


class Connection(asyncio.Protocol):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.current: Pending | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, request: Pending) -> None:
        assert self.transport is not None
        self.current = request
        request.sent = time.perf_counter()
        self.transport.write(request.data)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.current is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            status = int(head.split(" ", 2)[1])
            del self.buffer[: end + 4 + length]
            request, self.current = self.current, None
            self.pool.completed(self, request, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.current is not None:
            request, self.current = self.current, None
            self.pool.failed(request)
        self.pool.lost(self)


class Pool:
    """Idle keep-alive connections, opened on demand up to a bound; a queue beyond it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, port: int, limit: int) -> None:
        self.loop = loop
        self.port = port
        self.limit = limit
        self.idle: deque[Connection] = deque()
        self.queue: deque[Pending] = deque()
        self.open = 0
        self.peak = 0
        self.in_flight = 0
        self.all_done = asyncio.Event()

    async def prime(self, count: int) -> None:
        for _ in range(min(count, self.limit)):
            self.idle.append(await self._connect())

    async def _connect(self) -> Connection:
        self.open += 1
        self.peak = max(self.peak, self.open)
        try:
            _, protocol = await self.loop.create_connection(
                lambda: Connection(self), ONLY_HOST, self.port
            )
        except OSError:
            self.open -= 1
            raise
        return protocol

    def submit(self, request: Pending) -> None:
        self.in_flight += 1
        self.all_done.clear()
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                connection.send(request)
                return
        self.queue.append(request)
        if self.open < self.limit:
            self.loop.create_task(self._grow())

    async def _grow(self) -> None:
        try:
            connection = await self._connect()
        except OSError:
            if self.queue:
                self.failed(self.queue.popleft())
            return
        self._next(connection)

    def _next(self, connection: Connection) -> None:
        if connection.closed:
            return
        if self.queue:
            connection.send(self.queue.popleft())
        else:
            self.idle.append(connection)

    def completed(self, connection: Connection, request: Pending, status: int) -> None:
        now = time.perf_counter()
        tally = request.tally
        tally.statuses[status] += 1
        tally.last_done = now
        if tally.record:
            tally.latencies.append(now - request.scheduled)
            tally.service.append(now - request.sent)
            tally.lags.append(request.sent - request.scheduled)
        self._finish()
        self._next(connection)

    def failed(self, request: Pending) -> None:
        request.tally.socket_errors += 1
        self._finish()

    def lost(self, connection: Connection) -> None:
        self.open -= 1
        if self.queue and self.open < self.limit:
            self.loop.create_task(self._grow())

    def _finish(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.all_done.set()

    def close(self) -> None:
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()


def render(requests: Requests, n: int, host_header: str) -> bytes:
    body = requests.body(n).encode()
    lines = [f"POST {requests.path(n)} HTTP/1.1", f"Host: {host_header}"]
    lines += [f"{k}: {v}" for k, v in requests.headers.items()]
    if requests.idempotency_nonce:
        lines.append(f"Idempotency-Key: {requests.idempotency_nonce}-{n}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def phase(
    pool: Pool, requests: Requests, first: int, rate: float, seconds: float, tally: Tally
) -> tuple[int, float]:
    """Schedule ``rate * seconds`` requests evenly; returns (count, seconds to schedule)."""
    total = int(rate * seconds)
    interval = 1.0 / rate
    host = f"{ONLY_HOST}:{pool.port}"
    start = time.perf_counter() + 0.001
    i = 0
    while i < total:
        now = time.perf_counter()
        while i < total and start + i * interval <= now:
            pool.submit(Pending(start + i * interval, render(requests, first + i, host), tally))
            i += 1
        if i < total:
            await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
    return total, time.perf_counter() - start


def _percentile_ms(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000


async def drive(plan: dict[str, Any]) -> dict[str, Any]:
    if plan.get("host", ONLY_HOST) != ONLY_HOST:
        raise SystemExit(f"openloop: only {ONLY_HOST} may be targeted")
    requests = Requests(
        paths=tuple(plan["paths"]),
        headers=dict(plan["headers"]),
        prefix=plan["prefix"],
        suffix=plan.get("suffix", ""),
        sessions=int(plan.get("sessions", 0)),
        idempotency_nonce=plan.get("idempotency_nonce"),
        expect=int(plan.get("expect", 200)),
    )
    rate, seconds = float(plan["rate"]), float(plan["duration"])
    drain_timeout = float(plan.get("drain_timeout", DRAIN_TIMEOUT_S))
    loop = asyncio.get_running_loop()
    pool = Pool(loop, int(plan["port"]), int(plan.get("max_connections", 256)))
    await pool.prime(int(plan.get("initial_connections", 16)))
    warm = Tally(record=False)
    first = 0
    if float(plan.get("warmup", 0)) > 0:
        first, _ = await phase(pool, requests, 0, rate, float(plan["warmup"]), warm)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pool.all_done.wait(), drain_timeout)
    tally = Tally()
    began = time.perf_counter()
    scheduled, spent = await phase(pool, requests, first, rate, seconds, tally)
    drained = True
    try:
        await asyncio.wait_for(pool.all_done.wait(), drain_timeout)
    except TimeoutError:
        drained = False
    pool.close()
    completed = sum(tally.statuses.values())
    # Completions over the time from the first scheduled send to the last answer: a server
    # that cannot keep up finishes late, and its achieved rate falls below the asked one.
    elapsed = max(spent, tally.last_done - began)
    return {
        "rate": rate,
        "scheduled": scheduled,
        "seconds": elapsed,
        "completed": completed,
        "achieved_rps": completed / elapsed if elapsed else 0.0,
        "expected": tally.statuses[requests.expect],
        "other": completed - tally.statuses[requests.expect],
        "socket_errors": tally.socket_errors,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "warmup_scheduled": first,
        "warmup_expected": warm.statuses[requests.expect],
        "warmup_other": sum(warm.statuses.values()) - warm.statuses[requests.expect],
        "warmup_socket_errors": warm.socket_errors,
        "drained": drained,
        "in_flight_left": pool.in_flight,
        "peak_connections": pool.peak,
        "p50_ms": _percentile_ms(tally.latencies, 0.50),
        "p90_ms": _percentile_ms(tally.latencies, 0.90),
        "p99_ms": _percentile_ms(tally.latencies, 0.99),
        "p999_ms": _percentile_ms(tally.latencies, 0.999),
        "max_ms": max(tally.latencies) * 1000 if tally.latencies else None,
        "service_p50_ms": _percentile_ms(tally.service, 0.50),
        "service_p99_ms": _percentile_ms(tally.service, 0.99),
        "lag_p50_ms": _percentile_ms(tally.lags, 0.50),
        "lag_p99_ms": _percentile_ms(tally.lags, 0.99),
    }


def run(plan: dict[str, Any]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(drive(plan))
    return uvloop.run(drive(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description="Open-loop fixed-rate POST load generator.")
    parser.add_argument("--plan", type=Path, required=True, help="JSON plan file")
    args = parser.parse_args()
    plan = json.loads(args.plan.read_text())
    print(json.dumps(run(plan)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
