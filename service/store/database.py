"""Where units of work run: the threads, connections and transactions of the store.

``Database.write(work)`` runs ``work(connection)`` in one transaction that commits when it
returns and rolls back when it raises; ``Database.read(work)`` runs it in a read-only one.
Either way the work runs on a thread of its own, never on the event loop: the caller awaits
a ``concurrent.futures.Future``, so a caller cancelled before its job started leaves the job
unrun (``Future.set_running_or_notify_cancel``, as ``ThreadPoolExecutor`` does), and a
caller's event loop may close at any time without stranding anybody else's job. Beyond
``max_queue`` unfinished jobs a new one is refused with ``Unavailable`` (503).

SQLite (WAL mode, ``synchronous=FULL``): exactly one writer connection, owned by one writer
thread, because several writers to one file expose a WAL-reset corruption bug in SQLite
before 3.51.3. The writer takes every write job queued when it comes round (at most
``max_batch``), runs each in a SAVEPOINT so that a failing job rolls back alone (a job
alone needs none), and commits the batch once: one fsync for many requests (group commit).
Reads run on
a small pool of reader threads, each with a connection of its own: in WAL mode a reader
sees the last commit and never waits for the writer, nor for another request's slow read.

PostgreSQL takes concurrent transactions itself: every job runs in its own ``engine.begin()``
on one of ``pool_size`` threads (``RAPPORT_DB_POOL_SIZE``), each with a pooled connection, so
that a burst queues instead of collapsing p99.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from service.app import telemetry
from service.domain.errors import Unavailable
from service.store.engine import READER, create_engine
from service.store.urls import driver_url, is_sqlite

T = TypeVar("T")
Work = Callable[[Connection], T]
log = logging.getLogger("rapport.database")

MAX_QUEUE = 20_000


class Database(ABC):
    def __init__(self, engine: Engine, max_queue: int) -> None:
        self.engine = engine
        self._max_queue = max_queue
        self._unfinished = 0
        self._lock = threading.Lock()

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction: commit on return, roll back on exception."""
        return await asyncio.wrap_future(self._admit(self._submit_write, work))

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` in one read-only transaction (a snapshot of what is committed)."""
        return await asyncio.wrap_future(self._admit(self._submit_read, work))

    @abstractmethod
    def close(self) -> None: ...

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @abstractmethod
    def _submit_write(self, work: Work[T]) -> Future[T]: ...

    @abstractmethod
    def _submit_read(self, work: Work[T]) -> Future[T]: ...

    def _admit(self, submit: Callable[[Work[T]], Future[T]], work: Work[T]) -> Future[T]:
        with self._lock:
            if self._unfinished >= self._max_queue:
                raise Unavailable("Too many requests are waiting for the database.")
            self._unfinished += 1
        future = submit(work)
        future.add_done_callback(self._finished)  # run, failed or cancelled
        return future

    def _finished(self, _future: Future[Any]) -> None:
        with self._lock:
            self._unfinished -= 1


def open_database(database_url: str, pool_size: int = 10) -> Database:
    if is_sqlite(driver_url(database_url)):
        return SqliteDatabase(database_url)
    return PostgresDatabase(database_url, pool_size)


class PostgresDatabase(Database):
    def __init__(self, database_url: str, pool_size: int, max_queue: int = MAX_QUEUE) -> None:
        super().__init__(create_engine(database_url, pool_size), max_queue)
        self._threads = ThreadPoolExecutor(pool_size, thread_name_prefix="rapport-postgres")

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()

    def _submit_write(self, work: Work[T]) -> Future[T]:
        return self._threads.submit(self._write, work)

    def _submit_read(self, work: Work[T]) -> Future[T]:
        return self._threads.submit(self._read, work)

    def _write(self, work: Work[T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    def _read(self, work: Work[T]) -> T:
        with self.engine.connect() as connection:
            # BEGIN READ ONLY; the pool resets the characteristic when the connection returns.
            connection.execution_options(postgresql_readonly=True)
            with connection.begin():
                return work(connection)


class SqliteDatabase(Database):
    def __init__(
        self, database_url: str, readers: int = 4, max_batch: int = 64, max_queue: int = MAX_QUEUE
    ) -> None:
        super().__init__(create_engine(database_url, pool_size=readers + 1), max_queue)
        self._max_batch = max_batch
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="rapport-sqlite-read")
        self._writes: queue.SimpleQueue[tuple[Future[Any], Work[Any]] | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="rapport-sqlite-write")
        self._writer.daemon = True
        self._writer.start()

    def close(self) -> None:
        self._readers.shutdown(wait=True, cancel_futures=True)
        self._writes.put(None)
        self._writer.join(timeout=30)
        self.engine.dispose()

    def _submit_write(self, work: Work[T]) -> Future[T]:
        future: Future[T] = Future()
        self._writes.put((future, work))
        return future

    def _submit_read(self, work: Work[T]) -> Future[T]:
        return self._readers.submit(self._read, work)

    def _read(self, work: Work[T]) -> T:
        with self.engine.connect() as connection:
            if not connection.info.get(READER):
                # BEGIN, not BEGIN IMMEDIATE (engine.py); and a reader that tried to write
                # would be a second writer: SQLite refuses it.
                _driver(connection).execute("PRAGMA query_only=ON")
                connection.info[READER] = True
            with connection.begin():
                return work(connection)

    # On the writer thread ------------------------------------------------------------------

    def _write_loop(self) -> None:
        connection: Connection | None = None
        stopping = False
        while not stopping:
            batch = [self._writes.get()]
            while len(batch) < self._max_batch and not self._writes.empty():
                batch.append(self._writes.get())
            if None in batch:
                stopping = True
            # A job whose caller stopped waiting before it began is not run: nobody would
            # hear of it, and it would store what nobody acknowledged.
            jobs = [j for j in batch if j is not None and j[0].set_running_or_notify_cancel()]
            if not jobs:
                continue
            try:
                if connection is None or connection.invalidated:
                    connection = self._writer_connection(connection)
            except Exception as exc:
                for future, _ in jobs:
                    future.set_exception(exc)
                continue
            started = time.perf_counter()
            if len(jobs) == 1:
                _alone(connection, *jobs[0])
            else:
                _group_commit(connection, jobs)
            telemetry.batch_committed(len(jobs), time.perf_counter() - started)
        if connection is not None:
            _driver(connection).execute("PRAGMA optimize")  # statistics for the next start
            connection.close()

    def _writer_connection(self, old: Connection | None) -> Connection:
        if old is not None:
            old.close()
        connection = self.engine.connect()
        if connection.info.get(READER):  # the pool may hand back a former reader's
            _driver(connection).execute("PRAGMA query_only=OFF")
            connection.info[READER] = False
        return connection


def _alone(connection: Connection, future: Future[T], work: Work[T]) -> None:
    """One job in its own transaction (no savepoint needed)."""
    try:
        with connection.begin():
            result = work(connection)
    except BaseException as exc:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _group_commit(connection: Connection, jobs: list[tuple[Future[Any], Work[Any]]]) -> None:
    """Several jobs in one transaction, each in a savepoint so that a failing job rolls back
    alone; their futures are settled once the commit is durable.

    The savepoints are plain SQL through ``exec_driver_sql``: a ``begin_nested()`` pair cost
    200-350 us here against ~55 us (bench/README.md), more than a job's own statements."""
    outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
    try:
        with connection.begin():
            for future, work in jobs:
                connection.exec_driver_sql("SAVEPOINT rapport_job")
                try:
                    result = work(connection)
                except Exception as exc:
                    # Should this fail, the whole batch fails below.
                    connection.exec_driver_sql("ROLLBACK TO SAVEPOINT rapport_job")
                    outcomes.append((future, None, exc))
                else:
                    outcomes.append((future, result, None))
                connection.exec_driver_sql("RELEASE SAVEPOINT rapport_job")
    except BaseException as exc:  # BEGIN, a savepoint or COMMIT failed: no job stands
        log.error("a batch of %d write(s) failed: %s", len(jobs), type(exc).__name__)
        for future, _ in jobs:
            future.set_exception(exc)
        return
    for future, result, error in outcomes:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _driver(connection: Connection) -> Any:
    """The DBAPI connection: a PRAGMA on it runs outside SQLAlchemy's transaction."""
    return connection.connection.dbapi_connection
