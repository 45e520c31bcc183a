"""Engines for the two supported databases.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged write survives a power
loss) and foreign keys on. Python's sqlite3 module is put in autocommit mode and Rapport
emits ``BEGIN IMMEDIATE`` itself, so savepoints work and the write lock is taken at the
start of a transaction rather than upgraded half-way (SQLAlchemy's documented recipe).
PostgreSQL gets a bounded pool: without a bound its p99 collapses under load.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.pool import NullPool

from service.store.urls import driver_url, is_sqlite, sqlite_path

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)

# JSON columns (responses, scores, evidence) through orjson: several times faster than the
# standard library both ways, and it writes NaN and infinities as null instead of emitting
# text PostgreSQL refuses.
_JSON: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode(),
    "json_deserializer": orjson.loads,
}


def create_engine(database_url: str, pool_size: int = 10) -> Engine:
    url = driver_url(database_url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Connections are opened by the one writer thread and the migration runner only.
        engine = sa_create_engine(
            url, poolclass=NullPool, connect_args={"check_same_thread": False}, **_JSON
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping (a round trip per transaction, ~80 us measured): stale connections are
    # recycled instead, and a failed statement surfaces as a retryable 503.
    return sa_create_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=300, **_JSON
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # Rapport, not the driver, opens transactions
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
