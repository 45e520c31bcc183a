"""One owner of the transaction: a failure rolls back everything its request wrote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from service.domain.ids import new_id
from service.domain.records import Patient
from service.store.database import open_database
from service.store.repository import SqlStore
from tests.conftest import migrated


class Boom(Exception):
    pass


def _add_then(fail: bool, external_id: str, tenant_name: str = "t") -> object:
    def work(connection: Connection) -> str:
        store = SqlStore(connection)
        tenant = store.ensure_tenant(tenant_name, new_id(), datetime.now(UTC))
        store.add_patient(Patient(new_id(), tenant.id, external_id, None, datetime.now(UTC)))
        if fail:
            raise Boom(external_id)
        return external_id

    return work


def _count(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SELECT count(*) FROM patients").scalar_one())


async def test_a_failing_transaction_leaves_nothing_behind(database_url: str) -> None:
    migrated(database_url)
    database = open_database(database_url)
    try:
        with pytest.raises(Boom):
            await database.run(_add_then(True, "lost"))  # type: ignore[arg-type]
        assert await database.run(_count) == 0
    finally:
        database.close()


async def test_failures_in_a_group_commit_roll_back_alone(database_url: str) -> None:
    migrated(database_url)
    database = open_database(database_url)
    try:
        jobs = [_add_then(i % 3 == 0, f"p{i}") for i in range(30)]
        results = await asyncio.gather(
            *(database.run(job) for job in jobs),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, Boom)]
        stored = [r for r in results if isinstance(r, str)]
        assert len(failed) == 10
        assert len(stored) == 20
        assert await database.run(_count) == 20
    finally:
        database.close()


async def test_sqlite_connections_are_durable_and_keep_savepoints_in_memory(
    sqlite_url: str,
) -> None:
    """WAL with synchronous=FULL: an acknowledged write survives a power loss (issue 3);
    foreign keys on; savepoint sub-journals of a group commit in memory, not a temp file."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)

    def pragmas(connection: Connection) -> dict[str, object]:
        names = ("journal_mode", "synchronous", "foreign_keys", "temp_store")
        return {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar_one() for n in names}

    try:
        found = await database.run(pragmas)
    finally:
        database.close()
    # synchronous 2 = FULL; temp_store 2 = MEMORY (sqlite.org/pragma.html)
    assert found == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "temp_store": 2}
