"""Time to draw a dyad's charts, beside the JSON they are drawn from, in one run.

Seeds, through the public API on a fresh SQLite database, the synthetic dyad of
tests/charts_support.py with ``--sessions`` (100) sessions, each with a PHQ-9, a WAI-SR and
a WAI-SR-T (300 administrations). Then, in-process (``create_app`` over
``httpx.ASGITransport``: no sockets), sends requests one at a time, round robin so drift
hits all alike, for ``--seconds`` per section:

* baselines: ``GET /healthz``, ``/progress?instrument=phq-9`` and ``/concordance`` (JSON);
* ``progress.svg``, ``alliance.svg``, their PNG and Vega-Lite forms, and the dyad page
  through a view link (both charts inline): these are answered from the drawing cache
  (service/api/charts/cache.py) after their first request, as repeated views of unchanged
  data are;
* ``progress.svg`` and ``alliance.svg`` drawn afresh (target: at most 50 ms each): the
  drawing cache is emptied before each request, as after a new administration;
* the same, for a new shape: the templates (service/api/charts/template.py) are forgotten
  too, as for the first chart of an instrument and kind of series in a process.

It also splits a chart's cost, awaited in-process without HTTP: the use case (database and
statistics), filling the chart's template, building a template (altair and the Vega-Lite
compilation, once per shape), and drawing the filled Vega with vl-convert. Figures are
printed (median and 90th percentile, CPU time of the whole process, and the medians' ratio
to the progress JSON's), nothing is asserted; ``summary`` says whether the target is met
(median time of a drawing afresh, wall clock).

vl-convert measures every text it lays out with the font it finds for the charts' family;
a font file found on the host (Debian's fonts-liberation, which chromium recommends, holds
one) is read again for every glyph measured, and a drawing costs about twice as much
(docs/charts.md). The service hides the host's fonts from vl-convert (its first conversion
runs with ``FONTCONFIG_FILE`` naming a configuration without fonts:
service/api/charts/fonts.py), so by default (``--fonts bundled``) this process measures what
the service and the container image do; ``--fonts host`` measures with the host's fonts, as
a service whose operator set ``FONTCONFIG_FILE`` to the host's configuration would. The
header says which font vl-convert uses.

Run: ``.venv/bin/python bench/charts.py [--sessions 100] [--seconds 3] [--fonts host]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.api.charts.alliance import alliance_chart
from service.api.charts.cache import DRAWINGS
from service.api.charts.progress import progress_chart
from service.api.charts.render import to_png, to_svg
from service.api.charts.spec import FONT
from service.api.charts.template import forget_templates
from service.domain.records import Principal, Scope
from tests.charts_support import seed_dyad
from tests.conftest import running_api

TARGET_MS = 50.0
AFRESH = ("progress.svg, drawn afresh", "alliance.svg, drawn afresh")
NEW_SHAPE = ("progress.svg, new shape", "alliance.svg, new shape")
BASELINE = "progress JSON (baseline)"


@dataclass(frozen=True, slots=True)
class ChartSettings:
    sessions: int = 100
    seconds: float = 3.0  # per section of the round robin
    fonts: str = "bundled"  # or "host": see the module's docstring


@dataclass
class ChartFigures:
    sessions: int
    font: str  # the face vl-convert finds for the charts' font family
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (wall, CPU)
    split: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(wall for wall, _ in self.samples[name])

    def cpu(self, name: str) -> float:
        return statistics.median(cpu for _, cpu in self.samples[name])


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


HOST_FONTS = "/etc/fonts/fonts.conf"  # fontconfig's own configuration on Debian


def host_font() -> str:
    """The face fontconfig gives for the charts' first family, or the bundled one."""
    family = FONT.split(",")[0].strip()
    if shutil.which("fc-list") is None:
        return f"{family} (no fc-list: not known)"
    found = subprocess.run(
        ["fc-list", f":family={family}", "file"], capture_output=True, text=True, check=False
    ).stdout.split()
    if not found:
        return f"{family}, bundled by vl-convert"
    return f"{family}, the host's ({Path(found[0].rstrip(':')).parent})"


async def measure(s: ChartSettings, echo: bool = True) -> ChartFigures:
    bundled = f"{FONT.split(',')[0].strip()}, bundled by vl-convert (service/api/charts/fonts.py)"
    figures = ChartFigures(s.sessions, host_font() if s.fonts == "host" else bundled)
    with tempfile.TemporaryDirectory() as tmp:
        async with running_api(f"sqlite:///{tmp}/bench.db") as api:
            client = await api.client_for("bench")
            if echo:
                print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            started = time.perf_counter()
            dyad, practitioner = await seed_dyad(client, s.sessions)
            if echo:
                took = time.perf_counter() - started
                print(f"seeded {s.sessions} sessions (x3 administrations) in {took:.1f} s")
                print(f"charts' font: {figures.font}")
            link = (await client.post(f"/v1/dyads/{dyad}/view-links", json={})).json()["url"]
            page = httpx.URL(link).raw_path.decode()
            d = f"/v1/dyads/{dyad}"
            routes = {
                "GET /healthz": "/healthz",
                BASELINE: f"{d}/progress?instrument=phq-9",
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
            fresh = dict(zip(AFRESH, (routes["progress.svg"], routes["alliance.svg"]), strict=True))
            shapes = dict(
                zip(NEW_SHAPE, (routes["progress.svg"], routes["alliance.svg"]), strict=True)
            )
            samples |= {name: [] for name in (*fresh, *shapes)}
            rounds = 5
            for _ in range(rounds):  # round robin: drift hits every route alike
                for name, url in routes.items():
                    samples[name] += await _timed(
                        lambda url=url: client.get(url), s.seconds / rounds
                    )
            for _ in range(rounds):  # apart: emptying the cache would slow the rows above
                for name, url in fresh.items():
                    samples[name] += await _timed(
                        lambda url=url: _afresh(client, url), s.seconds / rounds
                    )
                for name, url in shapes.items():
                    samples[name] += await _timed(
                        lambda url=url: _afresh(client, url, new_shape=True), s.seconds / rounds
                    )
            figures.samples = samples
            if echo:
                print(_table(figures))
                print(f"load average after: {os.getloadavg()[0]:.1f}")
            figures.split = await _split(api, client, uuid.UUID(dyad), s.seconds)
            if echo:
                print(_split_table(figures))
    return figures


async def _split(
    api: Any, client: httpx.AsyncClient, dyad_id: uuid.UUID, seconds: float
) -> dict[str, list[tuple[float, float]]]:
    charts = api.services.charts
    principal = await api.services.authenticator.authenticate(client.headers["Authorization"])
    reader = Principal(principal.tenant_id, principal.key_id, frozenset({Scope.READ}))
    progress = await charts.progress(reader, dyad_id, "phq-9")
    alliance = await charts.alliance(reader, dyad_id, "wai-sr")
    progress_drawn, alliance_drawn = progress_chart(progress), alliance_chart(alliance)
    steps: dict[str, Callable[[], Awaitable[Any]]] = {
        "progress: use case (DB + statistics)": lambda: charts.progress(reader, dyad_id, "phq-9"),
        "progress: fill its template": lambda: _sync(progress_chart, progress),
        "progress: build a template (new shape)": lambda: _new_shape(progress_chart, progress),
        "progress: vl-convert to SVG": lambda: _sync(to_svg, progress_drawn),
        "progress: vl-convert to PNG": lambda: _sync(to_png, progress_drawn),
        "alliance: use cases (3 reads)": lambda: charts.alliance(reader, dyad_id, "wai-sr"),
        "alliance: fill its template": lambda: _sync(alliance_chart, alliance),
        "alliance: build a template (new shape)": lambda: _new_shape(alliance_chart, alliance),
        "alliance: vl-convert to SVG": lambda: _sync(to_svg, alliance_drawn),
    }
    return {name: await _timed(step, seconds / 3) for name, step in steps.items()}


def _table(f: ChartFigures) -> str:
    base, _, base_cpu = _summary(f.samples[BASELINE])
    lines = [
        f"\n{'request (in-process, one at a time)':38} {'median':>9} {'p90':>9} {'x JSON':>7} "
        f"{'CPU':>9} {'x JSON':>7} {'n':>5}"
    ]
    for name, values in f.samples.items():
        median, p90, cpu = _summary(values)
        lines.append(
            f"{name:38} {median:7.1f}ms {p90:7.1f}ms {median / base:6.1f}x "
            f"{cpu:7.1f}ms {cpu / base_cpu:6.1f}x {len(values):5}"
        )
    return "\n".join(lines)


def _split_table(f: ChartFigures) -> str:
    lines = [f"\n{'split of a fresh drawing (no HTTP)':38} {'median':>9} {'p90':>9} {'CPU':>9}"]
    for name, values in f.split.items():
        median, p90, cpu = _summary(values)
        lines.append(f"{name:38} {median:7.1f}ms {p90:7.1f}ms {cpu:7.1f}ms")
    return "\n".join(lines)


def summary(f: ChartFigures) -> list[str]:
    base = f.median(BASELINE)
    lines = []
    for name in (*AFRESH, *NEW_SHAPE):
        median = f.median(name)
        verdict = "met" if median <= TARGET_MS else "NOT met"
        target = f"  (target <= {TARGET_MS:g} ms: {verdict})" if name in AFRESH else ""
        lines.append(
            f"  {name:<28} {median:5.1f} ms median, {f.cpu(name):5.1f} ms CPU, "
            f"x{median / base:.1f} JSON{target}"
        )
    lines.append(
        f"  repeated views (drawing cache): progress.svg {f.median('progress.svg'):.1f} ms, "
        f"alliance.svg {f.median('alliance.svg'):.1f} ms; {f.sessions} sessions; "
        f"font: {f.font}"
    )
    return lines


def run(s: ChartSettings, echo: bool = True) -> ChartFigures:
    """One run; the font set-up holds for the process (vl-convert reads fonts once)."""
    saved = os.environ.get("FONTCONFIG_FILE")
    if s.fonts == "host":  # as an operator who names the host's configuration would
        os.environ["FONTCONFIG_FILE"] = HOST_FONTS
    try:
        return asyncio.run(measure(s, echo))
    finally:
        os.environ.pop("FONTCONFIG_FILE", None)
        if saved is not None:
            os.environ["FONTCONFIG_FILE"] = saved


async def _afresh(
    client: httpx.AsyncClient, url: str, *, new_shape: bool = False
) -> httpx.Response:
    DRAWINGS.clear()
    if new_shape:
        forget_templates()
    return await client.get(url)


async def _new_shape(build: Callable[[Any], Any], data: Any) -> Any:
    forget_templates()
    return build(data)


async def _sync(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=ChartSettings().sessions)
    parser.add_argument("--seconds", type=float, default=ChartSettings().seconds)
    parser.add_argument("--fonts", choices=("bundled", "host"), default=ChartSettings().fonts)
    arguments = parser.parse_args()
    figures = run(ChartSettings(arguments.sessions, arguments.seconds, arguments.fonts))
    print("\nSummary:")
    print("\n".join(summary(figures)))
