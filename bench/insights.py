"""Server time of progress, concordance and practitioner calibration on a seeded record.

Seeds, on a fresh database per backend (a temporary SQLite file, a throwaway PostgreSQL
database), directly through the repository layer (``SqlStore`` inside ``Database.run``):

* one dyad (adult patient) with 100 sessions, each with a PHQ-9, a WAI-SR and a WAI-SR-T
  (300 administrations; answers drawn from a seeded RNG around a slowly improving trend);
* one practitioner with ``--calibration-dyads`` dyads (200), each with
  ``--calibration-sessions`` (10) sessions holding a WAI-SR and a WAI-SR-T;

then builds the alliance summaries calibration reads, as an upgrade does
(``AllianceSummaries.ensure_current``): the rows were written around the use cases.

Then times, with sequential requests (one at a time, so each figure is one request's
latency, not a queue's), in two ways:

* ``in-process``: the ASGI app (``create_app`` with the seeded services, lifespan entered)
  called through ``httpx.ASGITransport``: no sockets, no server process;
* ``server``: a real ``rapport serve`` on the same database, over one keep-alive connection.

Each way measures ``GET /healthz`` the same way, interleaved request by request with the
endpoints (round robin, so drift hits all alike), and reports the **server time** of an
endpoint as its median latency minus the median ``/healthz`` latency: what the endpoint
costs beyond an empty request through the same stack and client. The use case alone
(``Insights.progress`` ... awaited in-process, no HTTP) is timed too, to split the cost
between the use case (database + statistics) and the REST layer (validation of the
response model, JSON). In-process and for the use case, the CPU time of this process per
request (all its threads, the database's included) is reported beside latency: on a shared
machine it moves less than latency does, and it is the figure to compare between two trees
(``server CPU``: an endpoint's median minus /healthz's). Every response is checked once
(status 200 and the expected counts: 100 points, 100 paired sessions, 200 dyads with 2,000
pairs).

Targets (issue 4): progress and concordance within 5 ms of server time; calibration within
100 ms. Figures are printed, nothing is asserted. Only 127.0.0.1 is used.

Run: ``.venv/bin/python bench/insights.py [--backends sqlite,postgres] [--seconds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import backends as db
import httpx
from score_endpoint import cpu_plan, run_main, serving, warn_if_busy

from service.api.app import create_app
from service.app.alliance_summaries import AllianceSummaries
from service.app.auth import issue_api_key
from service.app.ports import Store
from service.app.rendering import score_dict
from service.bootstrap import Services, build_services
from service.domain.ids import new_id
from service.domain.instruments.model import Population
from service.domain.records import Administration, Dyad, Patient, Practitioner, Principal, Scope
from service.settings import Settings

TARGET_MS = {"progress": 5.0, "concordance": 5.0, "calibration": 100.0}
ENDPOINTS = ("healthz", "progress", "concordance", "calibration")
SLOW = {"calibration": 10}  # calibration runs every 10th round: it takes ~15x longer


@dataclass(frozen=True, slots=True)
class InsightsSettings:
    backends: tuple[str, ...] = db.BACKENDS
    sessions: int = 100
    calibration_dyads: int = 200
    calibration_sessions: int = 10
    seconds: float = 3.0  # measuring time per way (in-process, server), all endpoints together
    warmup: int = 20  # requests per endpoint before measuring
    modes: tuple[str, ...] = ("in-process", "server", "use-case")
    pg_admin_url: str = db.PG_ADMIN_URL


@dataclass(frozen=True, slots=True)
class Seeded:
    dyad: uuid.UUID
    practitioner: uuid.UUID
    administrations: int


@dataclass(slots=True)
class Timings:
    backend: str
    mode: str
    samples: dict[str, list[float]] = field(default_factory=dict)  # ms per request
    # CPU ms per request of this process, all its threads (database threads included): less
    # moved by other work on the machine than latency. In-process and use-case ways only.
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def cpu_ms(self, name: str) -> float:
        return statistics.median(self.cpu[name])

    def server_cpu_ms(self, name: str) -> float:
        return self.cpu_ms(name) - (self.cpu_ms("healthz") if "healthz" in self.cpu else 0.0)

    def p90(self, name: str) -> float:
        values = sorted(self.samples[name])
        return values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]

    def server_ms(self, name: str) -> float:
        base = self.median("healthz") if "healthz" in self.samples else 0.0
        return self.median(name) - base


# -- seeding ---------------------------------------------------------------------------------


def _answers(rng: random.Random, instrument: str, level: float) -> dict[str, object]:
    """Answers for 9 PHQ-9 items (0-3) or 12 WAI items (1-5) around ``level`` in [0, 1]."""
    if instrument == "phq-9":
        return {str(i): max(0, min(3, round(level * 3 + rng.gauss(0, 0.6)))) for i in range(1, 10)}
    return {str(i): max(1, min(5, round(1 + level * 4 + rng.gauss(0, 0.6)))) for i in range(1, 13)}


def _administrations(
    services: Services, tenant: uuid.UUID, dyad: uuid.UUID, sessions: int,
    instruments: tuple[str, ...], rng: random.Random, start: datetime,
) -> list[tuple[Administration, int]]:  # fmt: skip
    found = []
    for session in range(1, sessions + 1):
        progress = session / sessions
        when = start + timedelta(days=7 * session)
        for name in instruments:
            definition = services.instruments.get(name)
            level = 0.8 - 0.5 * progress if name == "phq-9" else 0.5 + 0.3 * progress
            answers = _answers(rng, name, level)
            score = score_dict(services.instruments.score(name, answers, Population.ADULT.value))
            a = Administration(
                id=new_id(), tenant_id=tenant, dyad_id=dyad, session=session, instrument=name,
                instrument_version=definition.version, respondent=definition.respondent,
                completed_at=when, responses=answers, score=score, created_at=when,
            )  # fmt: skip
            found.append((a, session))
    return found


async def seed(services: Services, principal: Principal, s: InsightsSettings) -> Seeded:
    rng = random.Random(20240611)
    tenant = principal.tenant_id
    now = datetime.now(UTC)
    start = now - timedelta(days=7 * (s.sessions + 1))

    serial = iter(range(1_000_000))

    def person(tag: str) -> Patient:
        return Patient(new_id(), tenant, f"bench-{tag}-{next(serial)}", Population.ADULT, now)

    practitioner = Practitioner(new_id(), tenant, "bench-t-calibration", None, now)
    own = Practitioner(new_id(), tenant, "bench-t-progress", None, now)  # the 100-session dyad's
    patient = person("p")
    dyad = Dyad(new_id(), tenant, patient.id, own.id, None, None, now)
    rows = _administrations(
        services, tenant, dyad.id, s.sessions, ("phq-9", "wai-sr", "wai-sr-t"), rng, start
    )
    others: list[tuple[Patient, Dyad]] = []
    for _ in range(s.calibration_dyads):
        p = person("c")
        others.append((p, Dyad(new_id(), tenant, p.id, practitioner.id, None, None, now)))
    cal_start = now - timedelta(days=7 * (s.calibration_sessions + 1))
    for _, d in others:
        rows += _administrations(
            services, tenant, d.id, s.calibration_sessions, ("wai-sr", "wai-sr-t"), rng,
            cal_start,
        )  # fmt: skip

    def write_people(store: Store) -> None:
        store.add_practitioner(practitioner)
        store.add_practitioner(own)
        for p, d in [(patient, dyad), *others]:
            store.add_patient(p)
            store.add_dyad(d)

    await services.transact(write_people)
    chunk = 500
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]

        def write(store: Store, part: list[tuple[Administration, int]] = part) -> None:
            for a, session in part:
                session_id = store.ensure_session(tenant, a.dyad_id, session, a.created_at)
                store.add_administration(a, session_id)

        await services.transact(write)
    # Written around the use cases, so the calibration summaries are built as an upgrade
    # builds them (service/app/alliance_summaries.py).
    await AllianceSummaries(services.instruments).ensure_current(services.transact, force=True)
    return Seeded(dyad.id, practitioner.id, len(rows))


# -- measuring -------------------------------------------------------------------------------

Call = Callable[[], Awaitable[Any]]


def _paths(seeded: Seeded) -> dict[str, str]:
    return {
        "healthz": "/healthz",
        "progress": f"/v1/dyads/{seeded.dyad}/progress?instrument=phq-9",
        "concordance": f"/v1/dyads/{seeded.dyad}/concordance?instrument=wai-sr",
        "calibration": f"/v1/practitioners/{seeded.practitioner}/calibration",
    }


def check(name: str, body: dict[str, Any], s: InsightsSettings) -> str | None:
    """None when the response holds what was seeded, else what is wrong."""
    if name == "progress" and len(body.get("points", [])) != s.sessions:
        return f"progress has {len(body.get('points', []))} points, not {s.sessions}"
    if name == "concordance" and len(body.get("sessions", [])) != s.sessions:
        return f"concordance has {len(body.get('sessions', []))} sessions, not {s.sessions}"
    if name == "calibration":
        wai = next((c for c in body.get("items", []) if c.get("instrument") == "wai-sr"), {})
        pairs = s.calibration_dyads * s.calibration_sessions
        if wai.get("dyads") != s.calibration_dyads or wai.get("pairs") != pairs:
            return f"calibration wai-sr: {wai.get('dyads')} dyads, {wai.get('pairs')} pairs"
    return None


async def interleave(
    calls: dict[str, Call], seconds: float, warmup: int, every: dict[str, int] | None = None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Round robin over ``calls`` for ``seconds``; milliseconds per call, per name, of
    latency and of this process's CPU time.

    ``every`` makes a slow call run only every n-th round, so that it does not take all the
    time from the fast ones; every call gets at least 5 samples.
    """
    period = every or {}
    for _ in range(warmup):
        for call in calls.values():
            await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + seconds
    round_ = 0
    while time.perf_counter() < deadline or min(len(v) for v in samples.values()) < 5:
        for name, call in calls.items():
            if round_ % period.get(name, 1) and len(samples[name]) >= 5:
                continue
            start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
            await call()
            samples[name].append((time.perf_counter_ns() - start) / 1e6)
            cpu[name].append((time.process_time_ns() - start_cpu) / 1e6)
        round_ += 1
    return samples, cpu


def _http_call(client: httpx.AsyncClient, path: str) -> Call:
    async def call() -> None:
        response = await client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text}")

    return call


async def _check_all(
    get: Callable[[str], Awaitable[httpx.Response]], paths: dict[str, str], s: InsightsSettings
) -> None:
    for name, path in paths.items():
        response = await get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text}")
        problem = check(name, response.json(), s)
        if problem:
            raise RuntimeError(problem)


async def in_process(
    backend: str, url: str, s: InsightsSettings
) -> tuple[list[Timings], Seeded, str]:
    """Seed, then time the in-process and use-case ways; returns the token for the server."""
    settings = Settings(database_url=url, log_level="warning")
    services = build_services(settings)
    app = create_app(settings, services)
    try:
        token = await issue_api_key(services.transact, "bench", frozenset(Scope))
        principal = await services.authenticator.authenticate(f"Bearer {token}")
        started = time.perf_counter()
        seeded = await seed(services, principal, s)
        print(
            f"  {backend}: seeded {seeded.administrations} administrations in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        results = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1", headers=headers
            ) as client:
                paths = _paths(seeded)
                await _check_all(client.get, paths, s)
                if "in-process" in s.modes:
                    calls = {n: _http_call(client, p) for n, p in paths.items()}
                    samples, cpu = await interleave(calls, s.seconds, s.warmup, SLOW)
                    results.append(Timings(backend, "in-process", samples, cpu))
            if "use-case" in s.modes:
                insights = services.insights
                uses: dict[str, Call] = {
                    "progress": lambda: insights.progress(principal, seeded.dyad, "phq-9"),
                    "concordance": lambda: insights.concordance(principal, seeded.dyad, "wai-sr"),
                    "calibration": lambda: insights.calibration(principal, seeded.practitioner),
                }
                samples, cpu = await interleave(uses, s.seconds, s.warmup, SLOW)
                results.append(Timings(backend, "use-case", samples, cpu))
        return results, seeded, token
    finally:
        services.close()


async def through_server(
    backend: str, base_url: str, token: str, seeded: Seeded, s: InsightsSettings
) -> Timings:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as client:
        paths = _paths(seeded)
        await _check_all(client.get, paths, s)
        calls = {n: _http_call(client, p) for n, p in paths.items()}
        samples, _ = await interleave(calls, s.seconds, s.warmup, SLOW)  # the client's CPU
    return Timings(backend, "server", samples)


def run(s: InsightsSettings, echo: bool = True) -> list[Timings]:
    results: list[Timings] = []
    databases = db.migrated_databases(s.backends, s.pg_admin_url, "rapport-bench-insights-")
    with closing(databases):
        for each in databases:
            backend, url, env, workdir = each.backend, each.url, each.env, each.workdir
            if echo:
                warn_if_busy()
            timings, seeded, token = asyncio.run(in_process(backend, url, s))
            results += timings
            if "server" in s.modes:
                server_prefix, _ = cpu_plan()
                with serving("rapport", env, server_prefix, workdir) as base_url:
                    results.append(asyncio.run(through_server(backend, base_url, token, seeded, s)))
            if echo:
                for t in (t for t in results if t.backend == backend):
                    print(format_timings(t), flush=True)
    return results


# -- reporting -------------------------------------------------------------------------------


def format_timings(t: Timings) -> str:
    lines = []
    for name in ENDPOINTS:
        if name not in t.samples:
            continue
        server = "" if name == "healthz" or "healthz" not in t.samples else (
            f"  server time {t.server_ms(name):7.2f} ms"
        )  # fmt: skip
        cpu = f"  cpu {t.cpu_ms(name):6.2f} ms" if name in t.cpu else ""
        lines.append(
            f"  {t.backend:<8} {t.mode:<10} {name:<11} median {t.median(name):7.2f} ms  "
            f"p90 {t.p90(name):7.2f} ms  ({len(t.samples[name])} requests){server}{cpu}"
        )
    return "\n".join(lines)


def summary(results: list[Timings]) -> list[str]:
    lines = []
    for t in results:
        if t.mode == "use-case":
            continue
        parts = []
        for name in ("progress", "concordance", "calibration"):
            ms, target = t.server_ms(name), TARGET_MS[name]
            parts.append(f"{name} {ms:.2f} ms ({'met' if ms <= target else 'NOT met'})")
        lines.append(f"  {t.backend:<8} {t.mode:<10} server time: " + ", ".join(parts))
        if t.cpu:
            parts = [
                f"{n} {t.server_cpu_ms(n):.2f} ms"
                for n in ("progress", "concordance", "calibration")
            ]
            lines.append(f"  {t.backend:<8} {t.mode:<10} server CPU:  " + ", ".join(parts))
    uses = [t for t in results if t.mode == "use-case"]
    for t in uses:
        names = ("progress", "concordance", "calibration")
        parts = [f"{n} {t.median(n):.2f} ms (cpu {t.cpu_ms(n):.2f})" for n in names]
        lines.append(f"  {t.backend:<8} use case alone (median): " + ", ".join(parts))
    lines.append(
        "  targets: progress and concordance <= 5 ms, calibration <= 100 ms of server time "
        "(median minus /healthz); server CPU: this process's CPU per request (median) minus "
        "/healthz's, in-process only"
    )
    return lines


def header(s: InsightsSettings) -> str:
    return (
        f"Insights: dyad with {s.sessions} sessions (PHQ-9, WAI-SR, WAI-SR-T each), "
        f"practitioner with {s.calibration_dyads} dyads x {s.calibration_sessions} paired "
        f"WAI-SR/WAI-SR-T sessions; sequential requests, {s.seconds:g} s per way after "
        f"{s.warmup} warm-up rounds; ways: {', '.join(s.modes)}"
    )


def settings_from(argv: list[str] | None = None) -> InsightsSettings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    d = InsightsSettings()
    parser.add_argument("--backends", default=",".join(d.backends), help="sqlite,postgres")
    parser.add_argument("--sessions", type=int, default=d.sessions)
    parser.add_argument("--calibration-dyads", type=int, default=d.calibration_dyads)
    parser.add_argument("--calibration-sessions", type=int, default=d.calibration_sessions)
    parser.add_argument("--seconds", type=float, default=d.seconds, help="per way")
    parser.add_argument("--warmup", type=int, default=d.warmup, help="rounds")
    parser.add_argument("--modes", default=",".join(d.modes))
    parser.add_argument("--pg-admin-url", default=d.pg_admin_url)
    a = parser.parse_args(argv)
    chosen = db.parse_backends(a.backends, parser)
    return replace(
        d, backends=chosen, sessions=a.sessions, calibration_dyads=a.calibration_dyads,
        calibration_sessions=a.calibration_sessions, seconds=a.seconds, warmup=a.warmup,
        modes=tuple(m for m in a.modes.split(",") if m), pg_admin_url=a.pg_admin_url,
    )  # fmt: skip


def main() -> int:
    s = settings_from()
    print(header(s), flush=True)
    results = run(s)
    print("\nSummary:")
    print("\n".join(summary(results)))
    return 0


if __name__ == "__main__":
    run_main(main)
