"""Time to draw a dyad's charts, beside the JSON they are drawn from, in one run.

Seeds, through the public API on a fresh SQLite database, the synthetic dyad of
tests/charts_support.py with ``--sessions`` (100) sessions, each with a PHQ-9, a WAI-SR and
a WAI-SR-T (300 administrations). Then, in-process (``create_app`` over
``httpx.ASGITransport``: no sockets), sends requests one at a time, round robin so drift
hits all alike, for ``--seconds`` per round:

* baselines: ``GET /healthz``, ``/progress?instrument=phq-9`` and ``/concordance`` (JSON);
* ``progress.svg``, ``alliance.svg`` (target: at most 50 ms each), their PNG and Vega-Lite
  forms, and the dyad page through a view link (both charts inline): these are answered
  from the drawing cache (service/api/charts/cache.py) after their first request, as
  repeated views of unchanged data are;
* ``progress.svg`` and ``alliance.svg`` drawn afresh: the cache is emptied before each
  request, as after a new administration.

It also splits a chart's cost, awaited in-process without HTTP: the use case (database and
statistics), building the Vega-Lite specification with altair, and rendering it with
vl-convert. Figures are printed (median and 90th percentile, and the median's ratio to the
progress JSON's), nothing is asserted.

Run: ``.venv/bin/python bench/charts.py [--sessions 100] [--seconds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.api.charts.alliance import alliance_chart
from service.api.charts.cache import DRAWINGS
from service.api.charts.progress import progress_chart
from service.api.charts.render import to_png, to_svg
from service.domain.records import Principal, Scope
from tests.charts_support import seed_dyad
from tests.conftest import running_api


def _summary(samples: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Median and 90th percentile of the wall times, median of the CPU times."""
    ordered = sorted(wall for wall, _ in samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return statistics.median(ordered), p90, statistics.median(cpu for _, cpu in samples)


async def _timed(call: Callable[[], Awaitable[Any]], seconds: float) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds of each call. CPU is the process's, every thread counted
    (vl-convert renders on threads of its own): a figure a busy machine distorts less."""
    samples: list[tuple[float, float]] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        start, start_cpu = time.perf_counter(), time.process_time()
        await call()
        samples.append(
            ((time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000)
        )
    return samples


async def main(sessions: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_api(f"sqlite:///{tmp}/bench.db") as api:
            client = await api.client_for("bench")
            print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            started = time.perf_counter()
            dyad, practitioner = await seed_dyad(client, sessions)
            print(f"seeded {sessions} sessions (x3 administrations) in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            link = (await client.post(f"/v1/dyads/{dyad}/view-links", json={})).json()["url"]
            page = httpx.URL(link).raw_path.decode()
            d = f"/v1/dyads/{dyad}"
            routes = {
                "GET /healthz": "/healthz",
                "progress JSON (baseline)": f"{d}/progress?instrument=phq-9",
                "concordance JSON": f"{d}/concordance",
                "progress.svg": f"{d}/charts/progress.svg?instrument=phq-9",
                "alliance.svg": f"{d}/charts/alliance.svg",
                "progress.png": f"{d}/charts/progress.png?instrument=phq-9",
                "alliance.png": f"{d}/charts/alliance.png",
                "progress.vl.json": f"{d}/charts/progress.vl.json?instrument=phq-9",
                "calibration.svg": f"/v1/practitioners/{practitioner}/charts/calibration.svg",
                "dyad page (view link)": page,
            }
            for url in routes.values():  # warm up, and check every answer once
                response = await client.get(url)
                assert response.status_code == 200, (url, response.text[:300])
            samples: dict[str, list[tuple[float, float]]] = {name: [] for name in routes}
            fresh = {
                "progress.svg, drawn afresh": routes["progress.svg"],
                "alliance.svg, drawn afresh": routes["alliance.svg"],
            }
            samples |= {name: [] for name in fresh}
            rounds = 5
            for _ in range(rounds):  # round robin: drift hits every route alike
                for name, url in routes.items():
                    samples[name] += await _timed(lambda url=url: client.get(url), seconds / rounds)
            for _ in range(rounds):  # apart: emptying the cache would slow the rows above
                for name, url in fresh.items():
                    samples[name] += await _timed(
                        lambda url=url: _afresh(client, url), seconds / rounds
                    )
            base = _summary(samples["progress JSON (baseline)"])[0]
            base_cpu = _summary(samples["progress JSON (baseline)"])[2]
            print(f"\n{'request (in-process, one at a time)':38} {'median':>9} {'p90':>9} "
                  f"{'x JSON':>7} {'CPU':>9} {'x JSON':>7} {'n':>5}")  # fmt: skip
            for name, values in samples.items():
                median, p90, cpu = _summary(values)
                print(f"{name:38} {median:7.1f}ms {p90:7.1f}ms {median / base:6.1f}x "
                      f"{cpu:7.1f}ms {cpu / base_cpu:6.1f}x {len(values):5}")  # fmt: skip

            print(f"load average after: {os.getloadavg()[0]:.1f}")
            charts = api.services.charts
            key = (await client.get("/v1/dyads", params={"limit": 1})).status_code
            assert key == 200
            principal = await api.services.authenticator.authenticate(
                client.headers["Authorization"]
            )
            reader = Principal(principal.tenant_id, principal.key_id, frozenset({Scope.READ}))

            dyad_id = uuid.UUID(dyad)
            print(f"\n{'split of a fresh drawing (no HTTP)':38} {'median':>9} {'p90':>9} "
                  f"{'CPU':>9}")  # fmt: skip
            progress = await charts.progress(reader, dyad_id, "phq-9")
            alliance = await charts.alliance(reader, dyad_id, "wai-sr")
            progress_spec, alliance_spec = progress_chart(progress), alliance_chart(alliance)
            steps: dict[str, Callable[[], Awaitable[Any]]] = {
                "progress: use case (DB + statistics)": lambda: charts.progress(
                    reader, dyad_id, "phq-9"
                ),
                "progress: altair specification": lambda: _sync(progress_chart, progress),
                "progress: vl-convert to SVG": lambda: _sync(to_svg, progress_spec),
                "progress: vl-convert to PNG": lambda: _sync(to_png, progress_spec),
                "alliance: use cases (3 reads)": lambda: charts.alliance(reader, dyad_id, "wai-sr"),
                "alliance: altair specification": lambda: _sync(alliance_chart, alliance),
                "alliance: vl-convert to SVG": lambda: _sync(to_svg, alliance_spec),
            }
            for name, step in steps.items():
                median, p90, cpu = _summary(await _timed(step, seconds / 3))
                print(f"{name:38} {median:7.1f}ms {p90:7.1f}ms {cpu:7.1f}ms")


async def _afresh(client: httpx.AsyncClient, url: str) -> httpx.Response:
    DRAWINGS.clear()
    return await client.get(url)


async def _sync(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sessions, arguments.seconds))
