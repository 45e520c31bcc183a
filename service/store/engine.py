"""Engines for the two supported databases.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged write survives a power
loss) and foreign keys on. Python's sqlite3 module is put in autocommit mode and Rapport
emits ``BEGIN IMMEDIATE`` itself, so savepoints work and the write lock is taken at the
start of a transaction rather than upgraded half-way (SQLAlchemy's documented recipe).
PostgreSQL gets a bounded pool: without a bound its p99 collapses under load.

The service's PostgreSQL connections open transactions lazily (``lazy_transactions``): they
run in autocommit, reads run on their own (each sees what is committed when it starts, as
every statement of a READ COMMITTED transaction does), and a transaction begins only at the
first statement that writes or locks. A unit of work that only reads and then writes once
(storing an administration: read the dyad, then one combined write, prepared.py) pays no
BEGIN and no COMMIT: two statements where it took seven (bench/README.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.pool import NullPool

from service.store.urls import driver_url, is_sqlite, sqlite_path

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    # The one connection runs each job of a group commit in a SAVEPOINT; the pages a job changes are
    # copied to the savepoint's sub-journal, which SQLite keeps in memory only up to 64 KiB
    # and then spills to a temporary file: with a batch of 20-30 stores, a file written and
    # closed per commit (about 25 us of system time per store, bench/README.md). In memory
    # it is at most a batch's changed pages; temporary tables and sorts live there too, and
    # every query Rapport runs is bounded (pages, one dyad's series).
    "PRAGMA temp_store=MEMORY",
)

# JSON columns (responses, scores, evidence) through orjson: several times faster than the
# standard library both ways, and it writes NaN and infinities as null instead of emitting
# text PostgreSQL refuses.
_JSON: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode(),
    "json_deserializer": orjson.loads,
    "hide_parameters": True,  # no answers, scores or keys in exceptions and logs (issue 16.3)
}


def create_engine(
    database_url: str, pool_size: int = 10, *, lazy_transactions: bool = False
) -> Engine:
    """An engine for ``database_url``. ``lazy_transactions`` (PostgreSQL, the service's own
    engine; never for migrations) begins transactions at the first write, see above."""
    url = driver_url(database_url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Connections are opened by the one serving connection (SqliteDatabase), the
        # migration runner and the `rapport` commands only.
        engine = sa_create_engine(
            url, poolclass=NullPool, connect_args={"check_same_thread": False}, **_JSON
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping (a round trip per transaction, ~80 us measured): stale connections are
    # recycled instead, and a failed statement surfaces as a retryable 503.
    engine = sa_create_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=30, pool_recycle=300, **_JSON,
        **({"isolation_level": "AUTOCOMMIT"} if lazy_transactions else {}),
    )  # fmt: skip
    if lazy_transactions:
        event.listen(engine, "before_cursor_execute", _begin_before_writing)
    return engine


_LONE = "rapport.lone_statement"
_LOCKING = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # statements are few and their text is reused
def _reads_only(statement: str) -> bool:
    return statement[:6].upper() == "SELECT" and not _LOCKING.search(statement)


@contextmanager
def lone_statement(connection: Connection) -> Iterator[None]:
    """The statement run inside is a unit of work's last: when no transaction is open, it
    needs none (a single statement is atomic by itself)."""
    connection.info[_LONE] = True
    try:
        yield
    finally:
        connection.info.pop(_LONE, None)


def _begin_before_writing(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
    """On a lazy-transaction connection, BEGIN before the first statement that is not a
    plain read, as the driver itself would before any statement."""
    if connection.info.get(_LONE) or _reads_only(statement):
        return
    if cursor.connection.info.transaction_status == TransactionStatus.IDLE:
        cursor.execute("BEGIN")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # Rapport, not the driver, opens transactions
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
