"""Engines for the two supported databases.

SQLite runs in WAL mode with ``synchronous=FULL`` (an acknowledged write survives a power
loss) and foreign keys on; PostgreSQL gets a bounded pool, because without a bound its p99
collapses under load (DESIGN.md section 6).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.store.urls import async_url, is_sqlite, sqlite_path

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    url = async_url(database_url)
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_pre_ping=False)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=10, pool_pre_ping=True
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
