"""A small closed-loop HTTP load generator (asyncio + httpx), used when ``wrk`` is missing.

``--connections`` workers share one keep-alive client and each POSTs the body again as soon as
its previous response arrives. A run stops at ``--duration`` seconds or ``--max-requests``,
whichever comes first, so it is always bounded. The result is one JSON line on stdout:
``{"requests", "seconds", "rps", "p50_ms", "p99_ms", "errors"}``.

A Python client spends far more CPU per request than ``wrk`` does, so on a small machine it
can become the bottleneck and squeeze the rapport/bare ratio towards 1; prefer ``wrk``.

Run: ``.venv/bin/python bench/loadgen.py --url http://127.0.0.1:8000/... --body '{...}'
[--header 'Authorization: Bearer ...']``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import httpx

ONLY_HOST = "127.0.0.1"


@dataclass(slots=True)
class Tally:
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    url: str
    body: bytes
    headers: dict[str, str]
    connections: int
    seconds: float
    max_requests: int


async def _worker(client: httpx.AsyncClient, plan: Plan, deadline: int, tally: Tally) -> None:
    while time.perf_counter_ns() < deadline and len(tally.latencies_ns) < plan.max_requests:
        start = time.perf_counter_ns()
        try:
            response = await client.post(plan.url, content=plan.body, headers=plan.headers)
            ok = 200 <= response.status_code < 400
        except httpx.HTTPError:
            ok = False
        tally.latencies_ns.append(time.perf_counter_ns() - start)
        if not ok:
            tally.errors += 1


def _client() -> httpx.AsyncClient:
    # One client (one keep-alive connection) per worker: a single shared httpx pool slows
    # down sharply as concurrency grows, and would measure the client, not the server.
    # Plain HTTP to 127.0.0.1 only, so skip building a TLS context per client.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10.0), verify=False)


async def drive(plan: Plan) -> tuple[Tally, float]:
    """Run the plan once; returns the tally and the wall-clock seconds it took.

    The clients are built before the clock starts.
    """
    tally = Tally()
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_client()) for _ in range(plan.connections)]
        start = time.perf_counter_ns()
        deadline = start + int(plan.seconds * 1e9)
        workers = [_worker(c, plan, deadline, tally) for c in clients]
        await asyncio.wait_for(asyncio.gather(*workers), timeout=plan.seconds + 30)
        elapsed = (time.perf_counter_ns() - start) / 1e9
    return tally, elapsed


def _run(plan: Plan) -> tuple[Tally, float]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(drive(plan))
    return uvloop.run(drive(plan))


def percentile_ms(sorted_ns: list[int], fraction: float) -> float | None:
    if not sorted_ns:
        return None
    index = min(len(sorted_ns) - 1, round(fraction * (len(sorted_ns) - 1)))
    return sorted_ns[index] / 1e6


def summarise(tally: Tally, seconds: float) -> dict[str, float | int | None]:
    ordered = sorted(tally.latencies_ns)
    return {
        "requests": len(ordered),
        "seconds": seconds,
        "rps": len(ordered) / seconds if seconds else 0.0,
        "p50_ms": percentile_ms(ordered, 0.50),
        "p99_ms": percentile_ms(ordered, 0.99),
        "errors": tally.errors,
    }


def _plan(args: argparse.Namespace, seconds: float) -> Plan:
    if httpx.URL(args.url).host != ONLY_HOST:
        raise SystemExit(f"loadgen: only {ONLY_HOST} may be targeted, not {args.url}")
    headers = {"Content-Type": "application/json"}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    return Plan(args.url, args.body.encode(), headers, args.connections, seconds, args.max_requests)


def main() -> int:
    parser = argparse.ArgumentParser(description="Closed-loop POST load generator.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", required=True, help="JSON request body")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="unmeasured seconds first")
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    args = parser.parse_args()
    if args.warmup > 0:
        _run(_plan(args, args.warmup))
    tally, seconds = _run(_plan(args, args.duration))
    print(json.dumps(summarise(tally, seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
