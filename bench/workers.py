"""Stores per second on PostgreSQL with ``rapport serve --workers 1`` and ``--workers 2``.

One throwaway PostgreSQL database; in the same run, servers with 1 and 2 worker processes
alternate (1, 2, 2, 1, ... so drift hits both), each driven by the same closed loop:
``--connections`` asyncio clients (one keep-alive connection each) POST a PHQ-9 to
``/v1/dyads/{id}/administrations``, each cycling over its own dyads with rising session
numbers, no Idempotency-Key, alerts on (the defaults). Stores per second count 201s only;
the stored rows are checked against them afterwards. The ratio 2-workers / 1-worker is
the figure (issue 17); it is bounded by the machine's cores, which the load generator and
PostgreSQL share with the servers (printed with the figures). Nothing is asserted.

Run: ``.venv/bin/python bench/workers.py [--seconds 10] [--rounds 2] [--connections 32]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import backends
import httpx

VENV_BIN = Path(sys.executable).parent
BODY = {
    "instrument": "phq-9",
    "responses": {"1": 1, "2": 2, "3": 1, "4": 2, "5": 1, "6": 0, "7": 1, "8": 0, "9": 0},
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(env: dict[str, str], workers: int, workdir: Path) -> Iterator[str]:
    port = _free_port()
    log = workdir / f"server-{workers}-{port}.log"
    command = [f"{VENV_BIN}/rapport", "serve", "--no-migrate", "--no-access-log",
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _drive(
    base: str, token: str, dyads: list[list[str]], seconds: float, first_session: int
) -> tuple[int, int, float]:
    """(201s, other answers, elapsed seconds) of a closed loop over ``dyads`` (one list
    of dyads per connection)."""
    headers = {"Authorization": f"Bearer {token}"}
    stored = failed = 0

    async def worker(client: httpx.AsyncClient, mine: list[str], deadline: float) -> None:
        nonlocal stored, failed
        session = first_session
        while time.perf_counter() < deadline:
            for dyad in mine:
                body = BODY | {"session": session}
                answer = await client.post(f"/v1/dyads/{dyad}/administrations", json=body)
                if answer.status_code == 201:
                    stored += 1
                else:
                    failed += 1
            session += 1

    async with AsyncExitStack() as stack:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30)
            )
            for _ in dyads
        ]
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(c, m, deadline) for c, m in zip(clients, dyads, strict=True)))
        elapsed = time.perf_counter() - started
    return stored, failed, elapsed


def _rapport(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [f"{VENV_BIN}/rapport", *args], env=env, capture_output=True, text=True, check=True
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (1 then 2 workers)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--dyads-per-connection", type=int, default=4)
    parser.add_argument("--pg-admin-url", default=backends.PG_ADMIN_URL)
    args = parser.parse_args()
    why = backends.postgres_available(args.pg_admin_url)
    if why is not None:
        print(f"PostgreSQL is needed: {why}")
        return 1
    print(
        f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}; {args.connections} "
        f"connections, {args.seconds:g} s per run, {args.rounds} rounds"
    )
    figures: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="rapport-workers-") as tmp:
        workdir = Path(tmp)
        with backends.database("postgres", workdir, args.pg_admin_url) as url:
            env = backends.server_env(dict(os.environ), url)
            _rapport(env, "migrate")
            token = _rapport(env, "create-api-key", "--tenant", "bench")
            api_dyads: list[list[str]] = []
            order = [w for r in range(args.rounds) for w in ((1, 2) if r % 2 == 0 else (2, 1))]
            session = 1
            total_stored = 0
            for workers in order:
                with _server(env, workers, workdir) as base:
                    if not api_dyads:
                        api = backends.Api(base, token)
                        patient, practitioner = api.people("workers")
                        count = args.connections * args.dyads_per_connection
                        flat = api.dyads(patient, practitioner, count)
                        api.close()
                        per = args.dyads_per_connection
                        api_dyads = [flat[i * per : (i + 1) * per] for i in range(args.connections)]
                    warm = asyncio.run(_drive(base, token, api_dyads, args.warmup, session))
                    session += 1_000
                    stored, failed, elapsed = asyncio.run(
                        _drive(base, token, api_dyads, args.seconds, session)
                    )
                    session += 1_000
                    total_stored += warm[0] + stored
                    rate = stored / elapsed
                    figures[workers].append(rate)
                    print(f"  workers={workers}: {rate:8.1f} stored/s ({stored} 201s, "
                          f"{failed} other answers in {elapsed:.1f} s)", flush=True)  # fmt: skip
            counter = backends.Counter(url)
            in_db = counter.settled("administrations")
            counter.close()
    one, two = statistics.median(figures[1]), statistics.median(figures[2])
    print(f"median stored/s: 1 worker {one:.1f}, 2 workers {two:.1f}; ratio 2/1 = {two / one:.2f}")
    check = "ok" if in_db == total_stored else "MISMATCH"
    print(f"rows stored {in_db} vs 201 answers {total_stored}: {check}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
