"""Where units of work run (service/store/database.py).

A write commits whole or not at all; a write happens when called and the rest of its unit
of work sees it; a failing job of a group commit rolls back alone; a job cancelled before it
began is never written; reads never wait for a write nor for another read; the queue is
bounded. On SQLite, one writer connection, and reader connections that cannot write.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, RootTransaction
from sqlalchemy.exc import DBAPIError, OperationalError

from service.domain.errors import Unavailable
from service.domain.ids import new_id
from service.domain.records import Patient
from service.store.database import Database, SqliteDatabase, open_database
from service.store.repository import SqlStore
from service.store.urls import driver_url, sqlite_path
from tests.conftest import migrated


class Boom(Exception):
    pass


def _add_then(fail: bool, external_id: str, tenant_name: str = "t") -> Callable[[Connection], str]:
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


def _held(started: threading.Event, release: threading.Event) -> Callable[[Connection], str]:
    """Work that writes a patient and then holds its transaction open until released."""

    def work(connection: Connection) -> str:
        _add_then(False, "held")(connection)
        started.set()
        assert release.wait(10), "never released"
        return "held"

    return work


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    migrated(database_url)
    opened = open_database(database_url)
    yield opened
    opened.close()


async def test_a_failing_transaction_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(Boom):
        await database.write(_add_then(True, "lost"))
    assert await database.read(_count) == 0


async def test_a_write_happens_when_called_and_the_unit_of_work_reads_it(
    database: Database,
) -> None:
    def work(connection: Connection) -> tuple[bool, bool]:
        store = SqlStore(connection)
        tenant = store.ensure_tenant("t", new_id(), datetime.now(UTC))
        patient = Patient(new_id(), tenant.id, "MRN-1", None, datetime.now(UTC))
        store.add_patient(patient)
        # Written already: the raw count sees it, and so does the repository's own read.
        return _count(connection) == 1, store.patient(tenant.id, patient.id) == patient

    assert await database.write(work) == (True, True)


async def test_a_read_cannot_write(database: Database) -> None:
    """Read-only work runs in a read-only transaction (on SQLite a query-only connection:
    the one writer stays the only one)."""
    with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
        await database.read(_add_then(False, "from-a-reader"))
    assert await database.read(_count) == 0


async def test_failures_in_a_group_of_concurrent_writes_roll_back_alone(
    database: Database,
) -> None:
    jobs = [_add_then(i % 3 == 0, f"p{i}") for i in range(30)]
    results = await asyncio.gather(*(database.write(j) for j in jobs), return_exceptions=True)
    assert sorted(str(r) for r in results if isinstance(r, Boom)) == sorted(
        f"p{i}" for i in range(30) if i % 3 == 0
    )
    assert sorted(r for r in results if isinstance(r, str)) == sorted(
        f"p{i}" for i in range(30) if i % 3
    )
    assert await database.read(_count) == 20


async def test_a_read_is_not_blocked_by_an_open_write_and_does_not_see_it(
    database: Database,
) -> None:
    started, release = threading.Event(), threading.Event()
    try:
        held = asyncio.ensure_future(database.write(_held(started, release)))
        assert await asyncio.to_thread(started.wait, 10)
        # The write transaction is open (uncommitted): a read answers at once, without it.
        assert await asyncio.wait_for(database.read(_count), 5) == 0
        release.set()
        assert await held == "held"
        assert await database.read(_count) == 1
    finally:
        release.set()


async def test_a_slow_read_blocks_neither_other_reads_nor_writes(database: Database) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(connection: Connection) -> int:
        started.set()
        assert release.wait(10), "never released"
        return _count(connection)

    try:
        long_read = asyncio.ensure_future(database.read(slow))
        assert await asyncio.to_thread(started.wait, 10)
        assert await asyncio.wait_for(database.write(_add_then(False, "meanwhile")), 5)
        assert await asyncio.wait_for(database.read(_count), 5) == 1
        release.set()
        assert await long_read in (0, 1)  # its snapshot began before or after the write
    finally:
        release.set()


async def test_a_job_cancelled_before_it_began_is_never_written(database_url: str) -> None:
    migrated(database_url)
    # One worker on PostgreSQL, the one writer on SQLite: the second job queues behind.
    database = open_database(database_url, pool_size=1)
    started, release = threading.Event(), threading.Event()
    try:
        held = asyncio.ensure_future(database.write(_held(started, release)))
        assert await asyncio.to_thread(started.wait, 10)
        dropped = asyncio.ensure_future(database.write(_add_then(False, "dropped")))
        await asyncio.sleep(0.05)
        dropped.cancel()
        release.set()
        assert await held == "held"
        with pytest.raises(asyncio.CancelledError):
            await dropped
        assert await database.write(_add_then(False, "after")) == "after"

        def names(connection: Connection) -> list[str]:
            rows = connection.exec_driver_sql("SELECT external_id FROM patients").scalars()
            return sorted(rows)

        assert await database.read(names) == ["after", "held"]
    finally:
        release.set()
        database.close()


async def test_work_beyond_the_queue_is_refused_as_unavailable(sqlite_url: str) -> None:
    migrated(sqlite_url)
    database = SqliteDatabase(sqlite_url, max_queue=2)
    started, release = threading.Event(), threading.Event()
    try:
        held = asyncio.ensure_future(database.write(_held(started, release)))
        assert await asyncio.to_thread(started.wait, 10)
        queued = asyncio.ensure_future(database.write(_add_then(False, "queued")))
        await asyncio.sleep(0)
        with pytest.raises(Unavailable):
            await database.read(_count)
        release.set()
        assert [await held, await queued] == ["held", "queued"]
        assert await database.read(_count) == 2  # room again once the queue drained
    finally:
        release.set()
        database.close()


async def test_the_event_loops_of_other_threads_are_served(database: Database) -> None:
    results: list[str] = []

    def elsewhere() -> None:
        async def store() -> list[str]:
            jobs = [_add_then(False, f"thread-{i}") for i in range(10)]
            return list(await asyncio.gather(*(database.write(j) for j in jobs)))

        results.extend(asyncio.run(store()))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    here = await asyncio.wait_for(
        asyncio.gather(*(database.write(_add_then(False, f"loop-{i}")) for i in range(10))), 30
    )
    await asyncio.to_thread(thread.join, 30)
    assert sorted(here) == sorted(f"loop-{i}" for i in range(10))
    assert sorted(results) == sorted(f"thread-{i}" for i in range(10))
    assert await database.read(_count) == 20


async def test_a_job_outlives_its_callers_loop(database_url: str) -> None:
    """A caller gives up and its loop closes before its job finishes: the thread that ran
    it has nobody to tell and must go on serving (one worker here, so a lost worker would
    leave every later job waiting)."""
    migrated(database_url)
    database = open_database(database_url, pool_size=1)
    started, release = threading.Event(), threading.Event()

    def elsewhere() -> None:
        async def give_up() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(database.write(_held(started, release)), 0.05)

        asyncio.run(give_up())

    try:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive()
        release.set()  # the job finishes now, for a loop that has closed
        assert await asyncio.wait_for(database.write(_count), 10) == 1
    finally:
        release.set()
        database.close()


async def test_sqlite_is_durable_with_one_writer_and_readers_that_cannot_write(
    sqlite_url: str,
) -> None:
    """WAL with synchronous=FULL: an acknowledged write survives a power loss (issue 3);
    foreign keys on; savepoint sub-journals in memory; readers query-only."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)

    def pragmas(connection: Connection) -> dict[str, object]:
        names = ("journal_mode", "synchronous", "foreign_keys", "temp_store", "query_only")
        return {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar_one() for n in names}

    try:
        written, read = await database.write(pragmas), await database.read(pragmas)
    finally:
        database.close()
    # synchronous 2 = FULL; temp_store 2 = MEMORY (sqlite.org/pragma.html)
    durable = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "temp_store": 2}
    assert written == durable | {"query_only": 0}
    assert read == durable | {"query_only": 1}


async def test_sqlite_waits_for_another_process_lock_off_the_event_loop(sqlite_url: str) -> None:
    """A `rapport` command holding the write lock delays storing, never the event loop."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    path = sqlite_path(driver_url(sqlite_url))
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # as another process writing
        stored = asyncio.ensure_future(database.write(_add_then(False, "after-the-lock")))
        # The loop keeps running while the job waits for the lock: 20 timer ticks on time.
        started = time.monotonic()
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert time.monotonic() - started < 0.5
        assert not stored.done()
        assert await database.read(_count) == 0  # and reads go on meanwhile
        other.execute("COMMIT")
        assert await asyncio.wait_for(stored, 10) == "after-the-lock"
        assert await database.read(_count) == 1
    finally:
        other.close()
        database.close()


async def test_sqlite_a_failed_commit_fails_its_batch_and_the_next_one_stands(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT that fails (a full disk, an I/O error) fails every job of its batch with the
    error, leaves none of their writes, and the writer serves the next batch."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    real_commit = RootTransaction.commit
    failures = iter([True])

    def commit(self: RootTransaction) -> None:
        if next(failures, False):
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))
        real_commit(self)

    monkeypatch.setattr(RootTransaction, "commit", commit)
    try:
        first = await asyncio.gather(
            *(database.write(_add_then(False, f"lost-{i}")) for i in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(r, OperationalError) for r in first), first
        assert await database.write(_add_then(False, "kept")) == "kept"
        assert await database.read(_count) == 1
    finally:
        database.close()
