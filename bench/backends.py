"""Databases for the benchmarks that store: a temporary SQLite file or a throwaway PostgreSQL DB.

``database("sqlite", workdir)`` yields the URL of a file in ``workdir``;
``database("postgres", workdir)`` creates ``rapport_bench_<random>`` on the PostgreSQL server
named by ``--pg-admin-url`` (default ``postgresql://postgres@127.0.0.1:5432/test``, trust
auth), yields its URL and always drops it afterwards (``DROP DATABASE ... WITH (FORCE)``).
Only 127.0.0.1 is accepted.

Also here: the environment of a ``rapport serve`` process on such a database, the API calls
that set up a patient, a practitioner and dyads before a load, and row counts read directly
from the database to check a run's responses against what was stored.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from score_endpoint import migrate, started
from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from service.store.queries.base import administrations, alerts, audit_events, idempotency_keys
from service.store.urls import driver_url

HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")


def parse_backends(value: str, parser: argparse.ArgumentParser) -> tuple[str, ...]:
    """``--backends sqlite,postgres`` as a tuple; an unknown name is a usage error."""
    chosen = tuple(b for b in value.split(",") if b)
    for b in chosen:
        if b not in BACKENDS:
            parser.error(f"unknown backend {b!r}")
    return chosen


TABLES: dict[str, Table] = {
    "administrations": administrations,
    "idempotency_keys": idempotency_keys,
    "alerts": alerts,
    "audit_events": audit_events,
}


def _local_only(url: str) -> None:
    host = make_url(url).host
    if host not in (None, "", HOST, "localhost"):
        raise SystemExit(f"only {HOST} may be used, not {host}")


def postgres_available(admin_url: str = PG_ADMIN_URL) -> str | None:
    """None when the server answers, else why not (the PostgreSQL runs are then skipped)."""
    _local_only(admin_url)
    try:
        engine = create_engine(
            driver_url(admin_url), poolclass=NullPool, connect_args={"connect_timeout": 5}
        )
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: no PostgreSQL for this run
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@contextmanager
def database(kind: str, workdir: Path, admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """Yield the plain RAPPORT_DATABASE_URL of a fresh, empty database of ``kind``."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'rapport-{secrets.token_hex(4)}.db'}"
        return
    if kind != "postgres":
        raise ValueError(f"unknown backend {kind!r}")
    _local_only(admin_url)
    name = f"rapport_bench_{secrets.token_hex(6)}"
    admin = create_engine(driver_url(admin_url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def usable(backends: Sequence[str], admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """The requested backends that can run here; says why PostgreSQL is skipped."""
    for backend in backends:
        if backend == "postgres":
            why = postgres_available(admin_url)
            if why is not None:
                print(f"  postgres skipped: {why}", flush=True)
                continue
        yield backend


@dataclass(frozen=True)
class Migrated:
    backend: str
    url: str
    env: dict[str, str]  # the environment a server or `rapport` command needs for it
    workdir: Path  # a temporary directory for logs and scripts, shared by the run


def migrated_databases(
    backends: Sequence[str], admin_url: str, prefix: str
) -> Generator[Migrated, None, None]:
    """A fresh, migrated database for each usable backend in turn, in one temporary work
    directory; each is dropped when the loop moves on. Iterate under ``contextlib.closing``
    so that an interrupted loop drops its database at once."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        for backend in usable(backends, admin_url):
            with migrated(backend, workdir, admin_url) as each:
                yield each


@contextmanager
def migrated(backend: str, workdir: Path, admin_url: str) -> Iterator[Migrated]:
    """One fresh, migrated database of ``backend``, dropped afterwards."""
    with database(backend, workdir, admin_url) as url:
        env = server_env(dict(os.environ), url)
        migrate(env)
        yield Migrated(backend, url, env, workdir)


def server_env(base: dict[str, str], url: str, **settings: str) -> dict[str, str]:
    """The environment of ``rapport serve`` on ``url``; keyword settings become RAPPORT_*."""
    env = dict(base)
    env["RAPPORT_DATABASE_URL"] = url
    env["RAPPORT_LOG_LEVEL"] = "warning"
    for name, value in settings.items():
        env[f"RAPPORT_{name.upper()}"] = value
    return env


class Counter:
    """Row counts straight from the database (not through the API: no audit, no cost)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(driver_url(url), poolclass=NullPool)

    def count(self, table: str, dyad_ids: Sequence[str] | None = None) -> int:
        t: Table = TABLES[table]
        query = select(func.count()).select_from(t)
        if dyad_ids is not None:
            query = query.where(t.c.dyad_id.in_([uuid.UUID(d) for d in dyad_ids]))
        with self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def settled(
        self, table: str, dyad_ids: Sequence[str] | None = None, timeout: float = 10.0,
        quiet: float = 0.5,
    ) -> int:  # fmt: skip
        """The count once it has stopped moving for ``quiet`` s (writes still in flight)."""
        deadline = time.monotonic() + timeout
        last = self.count(table, dyad_ids)
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.count(table, dyad_ids)
            if now != last:
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                break
        return last

    def wal(self) -> tuple[int, int, int] | None:
        """PostgreSQL's WAL so far, the whole server's: (bytes, full-page images,
        checkpoints, timed and requested). None elsewhere."""
        if self._engine.dialect.name != "postgresql":
            return None
        with self._engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT w.wal_bytes, w.wal_fpi, b.checkpoints_timed + b.checkpoints_req "
                    "FROM pg_stat_wal w, pg_stat_bgwriter b"
                )
            ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        self._engine.dispose()


class Api:
    """The few API calls that set up a load: people and dyads, through a real server."""

    def __init__(self, base_url: str, token: str) -> None:
        if httpx.URL(base_url).host != HOST:
            raise SystemExit(f"only {HOST} may be targeted")
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._client = httpx.Client(base_url=base_url, headers=self.headers, timeout=30)

    def post(self, path: str, body: object, expect: int = 201) -> dict[str, object]:
        response = self._client.post(path, json=body)
        if response.status_code != expect:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")
        result: dict[str, object] = response.json()
        return result

    def people(self, label: str, population: str | None = "adult") -> tuple[str, str]:
        """A new patient and practitioner; returns their ids."""
        tag = f"{label}-{secrets.token_hex(4)}"
        patient_body: dict[str, object] = {"external_id": f"bench-p-{tag}"}
        if population:
            patient_body["population"] = population
        patient = self.post("/v1/patients", patient_body)
        practitioner = self.post("/v1/practitioners", {"external_id": f"bench-t-{tag}"})
        return str(patient["id"]), str(practitioner["id"])

    def dyads(self, patient_id: str, practitioner_id: str, count: int) -> list[str]:
        body = {"patient_id": patient_id, "practitioner_id": practitioner_id}
        return [str(self.post("/v1/dyads", body)["id"]) for _ in range(count)]

    def close(self) -> None:
        self._client.close()


# -- a server whose CPU time can be read --------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_cpu(path: Path) -> float:
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, from /proc (0.0 off Linux)."""
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def main_thread_cpu_seconds(pid: int) -> float:
    """CPU time of the process's main thread (uvicorn's event loop) alone."""
    return _stat_cpu(Path(f"/proc/{pid}/task/{pid}/stat"))


def postgres_cpu_seconds() -> float:
    """CPU time of every process named postgres (all of the server, other clients' too)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        if name.startswith("postgres"):
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


@dataclass(frozen=True, slots=True)
class Server:
    base_url: str
    pid: int

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def loop_cpu(self) -> float:
        """The event-loop thread's share (with SQLite's statements); the rest is the SQLite
        commit thread or the PostgreSQL worker threads."""
        return main_thread_cpu_seconds(self.pid)


@contextmanager
def rapport_server(env: dict[str, str], prefix: list[str], workdir: Path) -> Iterator[Server]:
    """``score_endpoint.serving("rapport", ...)`` that also gives the process id."""
    with started("rapport", env, prefix, workdir) as (base_url, process):
        yield Server(base_url, process.pid)
