"""Where transactions run: the one owner of commit and rollback.

Use cases hand ``Database.run`` a function of a SQLAlchemy ``Connection``; it runs inside one
transaction that commits when the function returns and rolls back when it raises, so a
failure inside a request never leaves half its writes behind.

SQLite has one writer. A dedicated thread owns the only write connection and takes the jobs
of concurrent requests in batches: each job runs in its own SAVEPOINT (so one failing job
rolls back alone) and the batch commits once, paying one fsync for many requests (group
commit). Measured on this class of machine, a statement through the asyncio driver cost
about 400 us against 20-30 us on a plain connection in one thread (DESIGN.md section 6 and
bench/README.md), which is why Rapport does not use aiosqlite.

PostgreSQL takes concurrent transactions itself: jobs run on worker threads, as many as the
pool size (``RAPPORT_DB_POOL_SIZE``), each with a connection of its own, so that a burst
queues instead of collapsing p99. Its connections begin
a transaction only when a job first writes (service/store/engine.py): a job that reads and
then writes once is two statements and no BEGIN or COMMIT.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from service.domain.errors import Unavailable
from service.store.engine import create_engine
from service.store.urls import driver_url, is_sqlite

T = TypeVar("T")
Work = Callable[[Connection], T]
log = logging.getLogger("rapport.database")


class Database(ABC):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @abstractmethod
    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction: commit on return, roll back on exception."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def open_database(database_url: str, pool_size: int = 10) -> Database:
    if is_sqlite(driver_url(database_url)):
        return SqliteDatabase(create_engine(database_url))
    return PostgresDatabase(
        create_engine(database_url, pool_size, lazy_transactions=True), pool_size
    )


class PostgresDatabase(Database):
    """``pool_size`` worker threads, each holding one connection for as long as it works.

    A job goes to the first free worker through one queue and is settled on its event loop
    with one ``call_soon_threadsafe``: no pool checkout, connection reset or thread-pool
    bookkeeping per transaction, which cost more than a whole store's two statements
    (bench/README.md). The engine's pool holds exactly the workers' connections: nothing
    else takes one. A worker drops its connection when it is invalidated (the server
    went away: the job failed with OperationalError, a retryable 503) or older than the
    engine's recycle time, and opens a new one for its next job.
    """

    def __init__(self, engine: Engine, pool_size: int, max_queue: int = 20_000) -> None:
        super().__init__(engine)
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=max_queue)
        self._threads = [
            threading.Thread(target=self._worker, name=f"rapport-postgres-{i}", daemon=True)
            for i in range(pool_size)
        ]
        for thread in self._threads:
            thread.start()

    async def run(self, work: Work[T]) -> T:
        return await _submit(self._queue, work)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=30)
        self.engine.dispose()

    def _worker(self) -> None:
        connection: Connection | None = None
        opened = 0.0
        while True:
            job = self._queue.get()
            if not isinstance(job, _Job):
                break
            try:
                if connection is None:
                    connection, opened = self.engine.connect(), time.monotonic()
                job.result = self._transaction(connection, job.work)
            except BaseException as exc:
                job.error = exc
            if connection is not None and (
                connection.invalidated or time.monotonic() - opened > _RECYCLE_SECONDS
            ):
                connection.close()
                connection = None
            job.loop.call_soon_threadsafe(_settle, [job])
        if connection is not None:
            connection.close()

    def _transaction(self, connection: Connection, work: Work[T]) -> T:
        with connection.begin():
            return work(connection)


_RECYCLE_SECONDS = 300.0  # as the engine's pool_recycle: stale server-side state goes


@dataclass(slots=True)
class _Job:
    work: Work[Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = field(default=None)


_STOP = object()


class SqliteDatabase(Database):
    """One writer thread, group commit, one SAVEPOINT per job."""

    def __init__(self, engine: Engine, max_batch: int = 128, max_queue: int = 20_000) -> None:
        super().__init__(engine)
        self._max_batch = max_batch
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._writer, name="rapport-sqlite-writer")
        self._thread.daemon = True
        self._thread.start()

    async def run(self, work: Work[T]) -> T:
        return await _submit(self._queue, work)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
        self.engine.dispose()

    def _writer(self) -> None:
        with self.engine.connect() as connection:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        self._queue.put(_STOP)  # finish this batch, then stop
                        break
                    batch.append(item)
                jobs = [j for j in batch if isinstance(j, _Job)]
                self._commit(connection, jobs)
                # One wake-up per event loop for the whole batch: each ``call_soon_threadsafe``
                # writes to the loop's self-pipe, a syscall and a GIL hand-over.
                by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
                for job in jobs:
                    by_loop.setdefault(job.loop, []).append(job)
                for loop, settled in by_loop.items():
                    loop.call_soon_threadsafe(_settle, settled)

    def _commit(self, connection: Connection, jobs: list[_Job]) -> None:
        try:
            with connection.begin():
                # Savepoints as raw statements (as in service/store/prepared.py): through
                # ``begin_nested`` they cost two Core executions per job, more than storing
                # the job's administration.
                cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                for job in jobs:
                    connection._cursor_execute(cursor, "SAVEPOINT rapport_job", ())
                    try:
                        job.result = job.work(connection)
                    except BaseException as exc:
                        connection._cursor_execute(cursor, "ROLLBACK TO SAVEPOINT rapport_job", ())
                        job.error = exc
                    connection._cursor_execute(cursor, "RELEASE SAVEPOINT rapport_job", ())
                cursor.close()
        except Exception as exc:  # the COMMIT itself failed: nothing of the batch stands
            log.exception("group commit of %d job(s) failed", len(jobs))
            for job in jobs:
                job.result, job.error = None, exc


async def _submit(jobs: queue.Queue[_Job | object], work: Work[T]) -> T:
    """Queue ``work`` for a database thread and wait for its outcome."""
    loop = asyncio.get_running_loop()
    job = _Job(work, loop, loop.create_future())
    try:
        jobs.put_nowait(job)
    except queue.Full:
        raise Unavailable("Too many requests are waiting for the database.") from None
    result: T = await job.future
    return result


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.cancelled():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)
