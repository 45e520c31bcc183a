"""Engines for the two supported databases.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged write survives a power
loss) and foreign keys on. Python's sqlite3 module is put in autocommit mode and SQLAlchemy's
``begin`` event emits the BEGIN itself (SQLAlchemy's documented recipe for pysqlite), so
savepoints work: ``BEGIN IMMEDIATE``, which takes the write lock at the start of a
transaction rather than upgrading half-way, except on the service's reader connections
(service/store/database.py), which begin a plain ``BEGIN``: a snapshot, no lock.
PostgreSQL gets a bounded pool: without a bound its p99 collapses under load.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as sa_create_engine

from service.store.urls import driver_url, is_sqlite, sqlite_path

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    # Another process (a `rapport` command) holding the write lock: wait for it, on the
    # writer's own thread, never on the event loop.
    "PRAGMA busy_timeout=10000",
    # The writer runs each job of a group commit in a SAVEPOINT, whose sub-journal SQLite
    # spills to a temporary file past 64 KiB; in memory it is at most a batch's changed pages.
    "PRAGMA temp_store=MEMORY",
    # ANALYZE and PRAGMA optimize read a bounded sample of each index, whatever its size.
    "PRAGMA analysis_limit=1000",
)

# A reader connection's flag in ``Connection.info`` (kept with the DBAPI connection).
READER = "rapport.reader"

# JSON columns (responses, scores, evidence) through orjson: several times faster than the
# standard library both ways, and it writes NaN and infinities as null instead of emitting
# text PostgreSQL refuses.
_JSON: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode(),
    "json_deserializer": orjson.loads,
    "hide_parameters": True,  # no answers, scores or keys in exceptions and logs (issue 16.3)
}


def create_engine(database_url: str, pool_size: int = 10) -> Engine:
    """An engine for ``database_url`` with at most ``pool_size`` connections."""
    url = driver_url(database_url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa_create_engine(
            url, pool_size=pool_size, max_overflow=0, connect_args={"check_same_thread": False},
            **_JSON,
        )  # fmt: skip
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping (a round trip per transaction): stale connections are recycled instead,
    # and a statement on a lost connection surfaces as a retryable 503.
    return sa_create_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=300, **_JSON
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's begin event, not the driver, begins
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN" if connection.info.get(READER) else "BEGIN IMMEDIATE")
