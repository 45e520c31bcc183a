"""One owner of the transaction: a failure rolls back everything its request wrote."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, RootTransaction
from sqlalchemy.exc import OperationalError

from service.domain.errors import Unavailable
from service.domain.ids import new_id
from service.domain.records import Patient
from service.store.database import SqliteDatabase, open_database
from service.store.engine import create_engine
from service.store.repository import SqlStore
from service.store.urls import driver_url, sqlite_path
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


@pytest.mark.postgres
async def test_postgres_workers_survive_a_caller_whose_loop_closed(postgres_database: str) -> None:
    """A caller gives up on its job and its loop closes before the job finishes: the worker
    that ran it has nobody to tell, and must go on serving (one worker here, so a worker
    lost would leave every later job waiting)."""
    migrated(postgres_database)
    database = open_database(postgres_database, pool_size=1)
    release = threading.Event()

    def held(connection: Connection) -> int:
        release.wait(10)
        return _count(connection)

    def elsewhere() -> None:
        loop = asyncio.new_event_loop()

        async def give_up() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(database.run(held), 0.05)

        loop.run_until_complete(give_up())
        loop.close()

    try:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        await asyncio.to_thread(thread.join, 10)
        assert not thread.is_alive()
        release.set()  # the job finishes now, for a loop that has closed
        assert await asyncio.wait_for(database.run(_count), 10) == 0
    finally:
        release.set()
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


async def test_sqlite_waits_for_another_process_lock_off_the_event_loop(sqlite_url: str) -> None:
    """A `rapport` command holding the write lock delays storing, never the event loop."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    path = sqlite_path(driver_url(sqlite_url))
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await database.run(_count)  # the serving connection is open
        other.execute("BEGIN IMMEDIATE")  # as another process writing
        stored = asyncio.ensure_future(database.run(_add_then(False, "after-the-lock")))  # type: ignore[arg-type]
        # The loop keeps running while the job waits for the lock: 20 timer ticks on time.
        started = time.monotonic()
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert time.monotonic() - started < 0.5
        assert not stored.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(stored, 10) == "after-the-lock"
        assert await database.run(_count) == 1
    finally:
        other.close()
        database.close()


async def test_sqlite_serves_event_loops_of_other_threads(sqlite_url: str) -> None:
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    results: list[object] = []

    def elsewhere() -> None:
        async def store() -> list[object]:
            jobs = [_add_then(False, f"thread-{i}") for i in range(10)]
            return list(await asyncio.gather(*(database.run(j) for j in jobs)))  # type: ignore[arg-type]

        results.extend(asyncio.run(store()))

    try:
        thread = threading.Thread(target=elsewhere)
        thread.start()
        here = await asyncio.wait_for(
            asyncio.gather(
                *(database.run(_add_then(False, f"loop-{i}")) for i in range(10))  # type: ignore[arg-type]
            ),
            30,
        )
        await asyncio.to_thread(thread.join, 30)
        assert sorted(here) == sorted(f"loop-{i}" for i in range(10))
        assert sorted(results) == sorted(f"thread-{i}" for i in range(10))  # type: ignore[type-var]
        assert await database.run(_count) == 20
    finally:
        database.close()


async def test_sqlite_jobs_outlive_a_loop_of_another_thread_that_closes(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop in another thread runs a batch while this loop's jobs queue behind it, then,
    its own job done, ``asyncio.run`` returns and closes it. The next batch must go to a
    loop whose caller waits (this one), never to the closing loop: a batch run there still
    commits after the loop has closed, nobody hears of it, and every job queued after it
    waits forever (it hung CI once). Commits take 0.1 s here, as a slow disk's would, so
    that the closing loop is closed before a batch it ran could finish."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    real_commit = RootTransaction.commit

    def slow_commit(self: RootTransaction) -> None:
        time.sleep(0.1)
        real_commit(self)

    monkeypatch.setattr(RootTransaction, "commit", slow_commit)
    started, release = threading.Event(), threading.Event()
    results: list[str] = []
    ran_on: list[threading.Thread] = []

    def held(connection: Connection) -> str:
        ran_on.append(threading.current_thread())
        started.set()
        release.wait(10)  # holds the other thread's loop, mid-batch
        return str(_add_then(False, "thread")(connection))  # type: ignore[operator]

    def elsewhere() -> None:
        results.append(asyncio.run(database.run(held)))

    try:
        await database.run(_count)  # the serving connection is open
        await asyncio.sleep(
            0
        )  # and this loop's batches have stopped: the thread's loop runs its own
        thread = threading.Thread(target=elsewhere)
        thread.start()
        assert await asyncio.to_thread(started.wait, 10)
        assert ran_on == [thread]
        queued = [
            asyncio.ensure_future(database.run(_add_then(False, f"loop-{i}")))  # type: ignore[arg-type]
            for i in range(10)
        ]
        await asyncio.sleep(0)  # every job is queued behind the other loop's batch
        release.set()
        here = await asyncio.wait_for(asyncio.gather(*queued), 10)
        await asyncio.to_thread(thread.join, 10)
        assert results == ["thread"]
        assert sorted(here) == sorted(f"loop-{i}" for i in range(10))
        assert await asyncio.wait_for(database.run(_count), 10) == 11
    finally:
        release.set()
        database.close()


async def test_sqlite_skips_a_job_whose_caller_stopped_waiting(sqlite_url: str) -> None:
    """A job cancelled before its batch began never runs: its caller was told it failed,
    so writing it would store what nobody acknowledged."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    try:
        await database.run(_count)
        kept = asyncio.ensure_future(database.run(_add_then(False, "kept")))  # type: ignore[arg-type]
        dropped = asyncio.ensure_future(database.run(_add_then(False, "dropped")))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # both queued; their batch begins at the next iteration
        dropped.cancel()
        assert await asyncio.wait_for(kept, 10) == "kept"
        assert dropped.cancelled()
        assert await database.run(_count) == 1
    finally:
        database.close()


async def test_sqlite_refuses_work_beyond_its_queue(sqlite_url: str) -> None:
    migrated(sqlite_url)
    database = SqliteDatabase(create_engine(sqlite_url), max_queue=2)
    try:
        outcomes = await asyncio.gather(
            *(database.run(_count) for _ in range(3)), return_exceptions=True
        )
        assert outcomes[:2] == [0, 0]
        assert isinstance(outcomes[2], Unavailable)
    finally:
        database.close()


async def test_sqlite_a_failed_commit_fails_its_batch_and_the_next_one_stands(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COMMIT that fails (a full disk, an I/O error) fails every job of its batch with the
    error, leaves none of their writes, and the connection serves the next batch."""
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
            *(database.run(_add_then(False, f"lost-{i}")) for i in range(5)),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        assert all(isinstance(r, OperationalError) for r in first)
        assert await database.run(_add_then(False, "kept")) == "kept"  # type: ignore[arg-type]
        assert await database.run(_count) == 1
    finally:
        database.close()


async def test_sqlite_runs_slow_work_off_the_event_loop_in_order(sqlite_url: str) -> None:
    """Work marked slow runs on the commit thread: the loop keeps its timers meanwhile, and
    the jobs queued around it still run in the order they came."""
    migrated(sqlite_url)
    database = open_database(sqlite_url)
    order: list[str] = []

    def slow(connection: Connection) -> str:
        time.sleep(0.3)  # a long computation, holding the connection
        order.append("slow")
        return "slow"

    def quick(name: str) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            order.append(name)
            return name

        return work

    try:
        await database.run(_count)
        before = asyncio.ensure_future(database.run(quick("before")))
        during = asyncio.ensure_future(database.run(slow, slow=True))
        after = asyncio.ensure_future(database.run(quick("after")))
        started = time.monotonic()
        ticks = 0
        while not during.done():
            await asyncio.sleep(0.01)
            ticks += 1
        # 0.3 s of slow work: about 30 ticks of 10 ms when the loop is free, 1-2 if blocked.
        assert ticks >= 10, ticks
        assert time.monotonic() - started >= 0.3
        assert [await before, await during, await after] == ["before", "slow", "after"]
        assert order == ["before", "slow", "after"]
    finally:
        database.close()
