"""Cost against history: does a request's cost follow its data, or the database's size?

Issue 15. Builds two databases and measures the same things on each:

* ``empty``: only the measured fixtures, in clinic ``bench-big``: a practitioner with 10
  dyads and one with 2,000 dyads (``--calibration-sessions`` paired WAI-SR/WAI-SR-T
  sessions each), a dyad with 500 paired WAI-SR sessions, and fresh dyads to store into;
* ``history``: the same fixtures, then filler up to ``--administrations`` administrations in
  all, ``--big-share`` (47 %) of them in ``bench-big`` and the rest over ``--tenants`` other
  clinics; filler dyads have 20 sessions of PHQ-9 + GAD-7, or of WAI-SR + WAI-SR-T.

Seeding goes through the ``Store`` port only (``await transact(work)`` calling
``ensure_tenant``, ``add_patient``, ``add_practitioner``, ``add_dyad``, ``ensure_session``,
``add_administration``), ``--batch`` administrations per transaction, with scores the
scorer computed (a pool of scored answer sets per instrument, reused). The per-dyad alliance
summaries that calibration reads are then built from those administrations as an upgrade
builds them (``AllianceSummaries.ensure_current``, timed: the one-off cost of migrating a
database of that size to revision 0017). Then ``rapport migrate`` runs again, as at a
restart, and gives the query planners their statistics of the seeded data. The services come
from ``service.bootstrap.build_services(Settings(database_url=...))``; the schema from
``rapport migrate``. Nothing here touches the store's internals, so the benchmark measures
whatever store the service is built with.

Figures, per database (use cases awaited in-process, sequentially, no HTTP):

* building the alliance summaries of every administration (s);
* calibration of the 10-dyad and of the 2,000-dyad practitioner (``Insights.calibration``),
  median and p90 (targets 20 ms and 300 ms);
* storing a PHQ-9 (``Administrations.submit``, alerts on) back to back for ``--seconds``:
  p50/p99 alone, and while the 2,000-dyad calibration runs in a loop beside it (target p99
  <= 50 ms);
* a WAI-SR stored to the 500-session dyad against one stored to a new dyad (median);
* bytes on disk per administration (SQLite: the file after a WAL checkpoint; PostgreSQL:
  ``pg_database_size``), over all rows and, for ``history``, the marginal bytes of the
  filler.

Nothing is asserted. Run:

    .venv/bin/python bench/history_scale.py                        # quick: 60k, SQLite
    .venv/bin/python bench/history_scale.py --administrations 1000000
    .venv/bin/python bench/history_scale.py --backend postgres --administrations 1000000
    .venv/bin/python bench/history_scale.py --database-url postgresql://...  (an empty database)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from service.api.app import GC_THRESHOLDS, SWITCH_INTERVAL
from service.app.administrations import NewAdministration
from service.app.alliance_summaries import AllianceSummaries
from service.app.auth import issue_api_key
from service.app.ports import Store
from service.app.rendering import score_dict
from service.bootstrap import Services, build_services
from service.domain.ids import new_id
from service.domain.instruments.model import Population
from service.domain.records import Administration, Dyad, Patient, Practitioner, Principal, Scope
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGETS = {"calibration-10": 20.0, "calibration-2000": 300.0, "store-p99-calibrating": 50.0}
PAIRS = (("phq-9", "gad-7"), ("wai-sr", "wai-sr-t"))
FILLER_SESSIONS = 20


@dataclass(frozen=True, slots=True)
class Options:
    administrations: int = 60_000  # the fixtures alone are about 21,000
    big_share: float = 0.47
    tenants: int = 20
    calibration_sessions: int = 5
    long_sessions: int = 500
    # The store before issue 15 sends a transaction's PostgreSQL writes as one statement,
    # which holds at most 65,535 parameters (about 3,900 administrations).
    batch: int = 2_000
    seconds: float = 10.0
    backend: str = "sqlite"
    database_url: str | None = None
    pg_admin_url: str = PG_ADMIN_URL
    only: tuple[str, ...] = ("empty", "history")


@dataclass
class Fixtures:
    principal: Principal
    small: uuid.UUID  # practitioner with 10 dyads
    large: uuid.UUID  # practitioner with 2,000 dyads
    long: uuid.UUID  # dyad with 500 paired sessions
    fresh: list[uuid.UUID]  # dyads with no history
    administrations: int


@dataclass
class Report:
    label: str
    administrations: int = 0
    seed_seconds: float = 0.0
    rebuild_seconds: float = 0.0
    figures: dict[str, list[float]] = field(default_factory=dict)  # ms samples
    calibrations_during_load: int = 0
    bytes_total: int = 0


# -- scored answers ----------------------------------------------------------------------------


class Scores:
    """A pool of answer sets per instrument with the scores the scorer gives them."""

    def __init__(self, services: Services, rng: random.Random, size: int = 64) -> None:
        self._pool: dict[str, list[tuple[dict[str, object], dict[str, Any]]]] = {}
        self._services = services
        for pair in PAIRS:
            for name in pair:
                d = services.instruments.get(name)
                low, high = (0, 3) if name in ("phq-9", "gad-7") else (1, 5)
                items = [i.id for i in d.items if i.id.isdigit() and int(i.id) <= _items(name)]
                sets = []
                for _ in range(size):
                    answers: dict[str, object] = {i: rng.randint(low, high) for i in items}
                    result = services.instruments.score(name, answers, Population.ADULT.value)
                    sets.append((answers, score_dict(result)))
                self._pool[name] = sets

    def administration(
        self, rng: random.Random, tenant: uuid.UUID, dyad: uuid.UUID, session: int, name: str,
        when: datetime,
    ) -> Administration:  # fmt: skip
        d = self._services.instruments.get(name)
        answers, score = rng.choice(self._pool[name])
        return Administration(
            new_id(), tenant, dyad, session, name, d.version, d.respondent, when, answers, score,
            when,
        )  # fmt: skip


def _items(name: str) -> int:
    return {"phq-9": 9, "gad-7": 7}.get(name, 12)


# -- seeding through the Store port -------------------------------------------------------------


@dataclass
class Batch:
    """People and administrations written in one transaction."""

    tenant: uuid.UUID
    practitioners: list[Practitioner] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)
    dyads: list[Dyad] = field(default_factory=list)
    rows: list[Administration] = field(default_factory=list)

    def write(self, store: Store) -> None:
        for p in self.practitioners:
            store.add_practitioner(p)
        for patient in self.patients:
            store.add_patient(patient)
        for d in self.dyads:
            store.add_dyad(d)
        sessions: dict[tuple[uuid.UUID, int], uuid.UUID] = {}
        for a in self.rows:
            key = (a.dyad_id, a.session)
            if key not in sessions:
                sessions[key] = store.ensure_session(
                    self.tenant, a.dyad_id, a.session, a.created_at
                )
            store.add_administration(a, sessions[key])


class Seeder:
    def __init__(self, services: Services, scores: Scores, rng: random.Random, batch: int) -> None:
        self.services, self.scores, self.rng, self.size = services, scores, rng, batch
        self.count = 0
        self._serial = 0
        self._now = datetime.now(UTC)

    def _id(self, tag: str) -> str:
        self._serial += 1
        return f"{tag}-{self._serial}"

    async def flush(self, batch: Batch) -> Batch:
        if batch.practitioners or batch.patients or batch.dyads or batch.rows:
            await self.services.transact(batch.write)
            self.count += len(batch.rows)
        return Batch(batch.tenant)

    async def tenant(self, name: str) -> uuid.UUID:
        now = self._now
        found = await self.services.transact(lambda s: s.ensure_tenant(name, new_id(), now))
        return found.id

    def practitioner(self, batch: Batch) -> uuid.UUID:
        p = Practitioner(new_id(), batch.tenant, self._id("t"), None, self._now)
        batch.practitioners.append(p)
        return p.id

    async def dyads(
        self, batch: Batch, practitioner: uuid.UUID, count: int, sessions: int,
        pair: tuple[str, str] | None,
    ) -> tuple[Batch, list[uuid.UUID]]:  # fmt: skip
        """``count`` dyads of ``practitioner`` with ``sessions`` sessions of ``pair`` each."""
        made = []
        start = self._now - timedelta(days=7 * (sessions + 1))
        for _ in range(count):
            patient = Patient(new_id(), batch.tenant, self._id("p"), Population.ADULT, self._now)
            dyad = Dyad(new_id(), batch.tenant, patient.id, practitioner, None, None, self._now)
            batch.patients.append(patient)
            batch.dyads.append(dyad)
            made.append(dyad.id)
            forms = pair or self.rng.choice(PAIRS)
            for session in range(1, sessions + 1):
                when = start + timedelta(days=7 * session)
                for name in forms:
                    batch.rows.append(
                        self.scores.administration(self.rng, batch.tenant, dyad.id, session, name,
                                                   when)
                    )  # fmt: skip
            if len(batch.rows) >= self.size:
                batch = await self.flush(batch)
        return batch, made


async def seed_fixtures(services: Services, seeder: Seeder, o: Options) -> Fixtures:
    token = await issue_api_key(services.transact, "bench-big", frozenset(Scope))
    principal = await services.authenticator.authenticate(f"Bearer {token}")
    batch = Batch(principal.tenant_id)
    wai = ("wai-sr", "wai-sr-t")
    small = seeder.practitioner(batch)
    batch, _ = await seeder.dyads(batch, small, 10, o.calibration_sessions, wai)
    large = seeder.practitioner(batch)
    batch, _ = await seeder.dyads(batch, large, 2_000, o.calibration_sessions, wai)
    other = seeder.practitioner(batch)
    batch, [long] = await seeder.dyads(batch, other, 1, o.long_sessions, wai)
    batch, fresh = await seeder.dyads(batch, other, 400, 0, wai)
    await seeder.flush(batch)
    return Fixtures(principal, small, large, long, fresh, seeder.count)


async def seed_history(seeder: Seeder, o: Options, big_tenant: uuid.UUID) -> None:
    """Filler up to ``o.administrations`` in all: ``big_share`` in the big clinic."""
    remaining = max(0, o.administrations - seeder.count)
    big = max(0, round(o.administrations * o.big_share) - seeder.count)
    plan = [(big_tenant, min(big, remaining))]
    rest = remaining - plan[0][1]
    others = [await seeder.tenant(f"bench-{k}") for k in range(o.tenants)]
    plan += [(t, rest // len(others) + (k < rest % len(others))) for k, t in enumerate(others)]
    per_dyad = FILLER_SESSIONS * 2
    for tenant, rows in plan:
        batch = Batch(tenant)
        dyads = rows // per_dyad
        for start in range(0, dyads, 30):  # 30 dyads per practitioner
            practitioner = seeder.practitioner(batch)
            batch, _ = await seeder.dyads(
                batch, practitioner, min(30, dyads - start), FILLER_SESSIONS, None
            )
            _progress(seeder.count, o.administrations)
        await seeder.flush(batch)
    print(file=sys.stderr)


def _progress(done: int, total: int) -> None:
    print(f"\r  seeded {done:,} / {total:,} administrations", end="", file=sys.stderr, flush=True)


# -- measuring ----------------------------------------------------------------------------------


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(services: Services, f: Fixtures, o: Options, report: Report) -> None:
    who = f.principal
    calibrate = services.insights.calibration
    figures = report.figures

    async def repeat(name: str, call: Callable[[], Awaitable[object]], n: int) -> None:
        await call()  # warm-up
        figures[name] = [await timed(call) for _ in range(n)]

    await repeat("calibration-10", lambda: calibrate(who, f.small), 30)
    await repeat("calibration-2000", lambda: calibrate(who, f.large), 7)

    sessions = dict.fromkeys(f.fresh[:50], 0)
    phq = {str(i): 1 for i in range(1, 10)}

    async def store_one() -> None:
        dyad = min(sessions, key=sessions.__getitem__)
        sessions[dyad] += 1
        new = NewAdministration(dyad, "phq-9", sessions[dyad], phq)
        await services.administrations.submit(who, new)

    async def store_for(seconds: float) -> list[float]:
        found = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            found.append(await timed(store_one))
        return found

    await store_for(1.0)  # warm-up
    figures["store-alone"] = await store_for(o.seconds)
    stop = asyncio.Event()

    async def calibrating() -> int:
        n = 0
        while not stop.is_set():
            await calibrate(who, f.large)
            n += 1
        return n

    loop = asyncio.create_task(calibrating())
    await asyncio.sleep(0.05)
    figures["store-p99-calibrating"] = await store_for(o.seconds)
    stop.set()
    report.calibrations_during_load = await loop

    wai = {str(i): 4 for i in range(1, 13)}
    long_session = o.long_sessions
    fresh = iter(f.fresh[50:])
    figures["wai-sr-long"], figures["wai-sr-new"] = [], []
    for i in range(120):  # interleaved, so drift hits both alike; the first 20 warm up
        long_session += 1
        into_long = NewAdministration(f.long, "wai-sr", long_session, wai)
        into_new = NewAdministration(next(fresh), "wai-sr", 1, wai)
        a = await timed(lambda n=into_long: services.administrations.submit(who, n))
        b = await timed(lambda n=into_new: services.administrations.submit(who, n))
        if i >= 20:
            figures["wai-sr-long"].append(a)
            figures["wai-sr-new"].append(b)


def disk_bytes(url: str) -> int:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:  # WAL into the main file, then measure
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        assert row is not None
        return int(row[0])


# -- databases ----------------------------------------------------------------------------------


@contextmanager
def fresh_database(o: Options, workdir: Path, label: str) -> Iterator[str]:
    """A new empty database, migrated with ``rapport migrate``; a throwaway one is dropped."""
    if o.database_url is not None:
        url = o.database_url
        yield _migrated(url)
        return
    if o.backend == "sqlite":
        yield _migrated(f"sqlite:///{workdir / f'{label}.db'}")
        return
    name = f"rapport_history_{secrets.token_hex(5)}"
    admin = psycopg.connect(o.pg_admin_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield _migrated(o.pg_admin_url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        admin.close()


def _migrated(url: str) -> str:
    rapport = ROOT / ".venv" / "bin" / "rapport"
    command = [str(rapport)] if rapport.exists() else [sys.executable, "-m", "service.cli.main"]
    env = {**os.environ, "RAPPORT_DATABASE_URL": url, "RAPPORT_LOG_LEVEL": "warning"}
    subprocess.run([*command, "migrate"], env=env, check=True, cwd=ROOT, timeout=300)
    return url


async def run_one(url: str, o: Options, label: str) -> Report:
    services = build_services(Settings(database_url=url))
    report = Report(label)
    try:
        rng = random.Random(15)
        seeder = Seeder(services, Scores(services, rng), rng, o.batch)
        started = time.perf_counter()
        fixtures = await seed_fixtures(services, seeder, o)
        if label == "history":
            await seed_history(seeder, o, fixtures.principal.tenant_id)
        report.seed_seconds = time.perf_counter() - started
        report.administrations = seeder.count
        started = time.perf_counter()
        summaries = AllianceSummaries(services.instruments)
        await summaries.ensure_current(services.transact, force=True)
        report.rebuild_seconds = time.perf_counter() - started
        # A restart after the import (what a clinic's service does: `rapport serve` migrates
        # first): the planner's statistics of the data as it now is.
        _migrated(url)
        # The server's process settings (service/api/app.py's lifespan): the figures are
        # those of a request in a running service, not of a script's defaults.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        sys.setswitchinterval(SWITCH_INTERVAL)
        print(f"  {label}: {seeder.count:,} administrations seeded in "
              f"{report.seed_seconds:.0f} s, summarised in {report.rebuild_seconds:.1f} s; "
              "measuring", file=sys.stderr, flush=True)  # fmt: skip
        report.bytes_total = disk_bytes(url)
        await measure(services, fixtures, o, report)
    finally:
        services.close()
    return report


# -- reporting ----------------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def med(r: Report, name: str) -> float:
    return statistics.median(r.figures[name])


def render(reports: list[Report], o: Options) -> str:
    lines = [
        f"History scale ({o.database_url or o.backend}): calibration fixtures "
        f"{o.calibration_sessions} paired WAI sessions per dyad, long dyad {o.long_sessions} "
        f"sessions; store runs {o.seconds:g} s each",
        f"{'figure':<40}" + "".join(f"{r.label:>22}" for r in reports) + "    target",
    ]

    def row(name: str, value: Callable[[Report], str], target: str = "") -> None:
        lines.append(f"{name:<40}" + "".join(f"{value(r):>22}" for r in reports) + f"    {target}")

    def spread(name: str) -> Callable[[Report], str]:
        return lambda r: f"{med(r, name):.1f} (p90 {pct(r.figures[name], 0.9):.1f})"

    def tail(name: str) -> Callable[[Report], str]:
        return lambda r: f"{pct(r.figures[name], 0.5):.1f} / {pct(r.figures[name], 0.99):.1f}"

    row("administrations", lambda r: f"{r.administrations:,}")
    row("seeding (s)", lambda r: f"{r.seed_seconds:.0f}")
    row("building alliance summaries (s)", lambda r: f"{r.rebuild_seconds:.1f}")
    row("calibration, 10 dyads (ms)", spread("calibration-10"), "<= 20")
    row("calibration, 2,000 dyads (ms)", spread("calibration-2000"), "<= 300")
    row("store PHQ-9 alone p50 / p99 (ms)", tail("store-alone"))
    row("store while calibrating p50 / p99 (ms)", tail("store-p99-calibrating"), "p99 <= 50")
    row("  stores / calibrations in that run", lambda r: (
        f"{len(r.figures['store-p99-calibrating'])} / {r.calibrations_during_load}"))  # fmt: skip
    row("WAI-SR store, 500-session dyad (ms)", lambda r: f"{med(r, 'wai-sr-long'):.2f}")
    row("WAI-SR store, new dyad (ms)", lambda r: f"{med(r, 'wai-sr-new'):.2f}")
    row("  long / new", lambda r: f"{med(r, 'wai-sr-long') / med(r, 'wai-sr-new'):.2f}x")
    row("bytes on disk", lambda r: f"{r.bytes_total:,}")
    row("bytes per administration", lambda r: f"{r.bytes_total / max(1, r.administrations):,.0f}")
    by = {r.label: r for r in reports}
    if "empty" in by and "history" in by:
        e, h = by["empty"], by["history"]
        extra = h.administrations - e.administrations
        if extra > 0:
            marginal = (h.bytes_total - e.bytes_total) / extra
            lines.append(f"{'marginal bytes per filler row':<40}{marginal:>44,.0f}")
        for name in ("calibration-10", "calibration-2000", "wai-sr-long", "store-alone"):
            lines.append(f"{'history / empty, ' + name:<40}{med(h, name) / med(e, name):>44.2f}x")
        name = "store-p99-calibrating"
        ratio = pct(h.figures[name], 0.99) / pct(e.figures[name], 0.99)
        lines.append(f"{'history / empty, store p99 calibrating':<40}{ratio:>44.2f}x")
    return "\n".join(lines)


def options(argv: list[str] | None = None) -> Options:
    d = Options()
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument(
        "--administrations",
        type=int,
        default=d.administrations,
        help="in all, in the history database (1000000 for the issue's figures)",
    )
    p.add_argument("--big-share", type=float, default=d.big_share)
    p.add_argument("--tenants", type=int, default=d.tenants, help="besides the big clinic")
    p.add_argument("--calibration-sessions", type=int, default=d.calibration_sessions)
    p.add_argument("--long-sessions", type=int, default=d.long_sessions)
    p.add_argument("--batch", type=int, default=d.batch, help="administrations per transaction")
    p.add_argument("--seconds", type=float, default=d.seconds, help="per store run")
    p.add_argument("--backend", choices=("sqlite", "postgres"), default=d.backend)
    p.add_argument("--database-url", help="an EMPTY database to use (both runs reuse it: "
                   "use with --only)")  # fmt: skip
    p.add_argument("--pg-admin-url", default=d.pg_admin_url)
    p.add_argument("--only", default=",".join(d.only), help="empty,history")
    a = p.parse_args(argv)
    only = tuple(x for x in a.only.split(",") if x)
    if a.database_url and len(only) != 1:
        p.error("--database-url names one database: add --only empty or --only history")
    return Options(
        a.administrations, a.big_share, a.tenants, a.calibration_sessions, a.long_sessions,
        a.batch, a.seconds, a.backend, a.database_url, a.pg_admin_url, only,
    )  # fmt: skip


def main() -> int:
    o = options()
    reports = []
    with tempfile.TemporaryDirectory(prefix="rapport-history-") as tmp:
        for label in o.only:
            with fresh_database(o, Path(tmp), label) as url:
                reports.append(asyncio.run(run_one(url, o, label)))
    print(render(reports, o))
    return 0


if __name__ == "__main__":
    sys.exit(main())
