"""Where transactions run: the one owner of commit and rollback.

Use cases hand ``Database.run`` a function of a SQLAlchemy ``Connection``; it runs inside one
transaction that commits when the function returns and rolls back when it raises, so a
failure inside a request never leaves half its writes behind.

SQLite has one writer: one connection takes the jobs of concurrent requests in batches. Each
job runs in its own SAVEPOINT (so one failing job rolls back alone), on the event loop, and
the batch commits once on a thread of its own, paying one fsync for many requests (group
commit) without holding up the loop. Measured on this class of machine, a statement through
the asyncio driver cost about 400 us against 20-30 us on a plain connection (DESIGN.md
section 6 and bench/README.md), which is why Rapport does not use aiosqlite.

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

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

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
    async def run(self, work: Work[T], *, slow: bool = False) -> T:
        """Run ``work`` in one transaction: commit on return, roll back on exception.
        ``slow``: it may take tens of milliseconds; keep it off the event loop."""

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

    async def run(self, work: Work[T], *, slow: bool = False) -> T:
        return await _submit(self._queue, work)  # always on a worker thread

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
            _to_loop(job.loop, _settle, [job])  # a loop that has closed has nobody waiting
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
    slow: bool = False  # SQLite: runs in a batch of its own on the commit thread


_STOP = object()


class SqliteDatabase(Database):
    """One connection; jobs run in batches on the event loop, each batch commits on a thread.

    A batch is every job queued when the previous commit finished (at most ``max_batch``).
    Its jobs run one after another on the event loop of its first caller (who is waiting, so
    that loop is running), each in its own SAVEPOINT, so a failing job rolls back alone; the
    batch then commits on the committer thread, whose fsync releases the GIL while the loop
    goes on serving requests and queueing the next batch's jobs. A job's caller hears its
    outcome only once the commit is durable.

    Why the loop: a store is a few statements of 10-40 us each. When a writer thread ran
    them, every batch handed the GIL back and forth with the loop (two to four context
    switches per request at 1,000 stores/s on one core) and p99 at that rate was 11-31 ms;
    with the statements on the loop and only the commit on a thread it was 5.6-7.3 ms
    (bench/README.md). SQLite's own waits stay off the loop: the connection never waits for
    a lock there (``busy_timeout`` 0), and when another process holds the write lock (a
    ``rapport`` command), the BEGIN is retried on the committer thread with the engine's
    usual timeout.

    While a job runs on the loop, the loop serves nobody: fine for a request's reads and
    writes (0.1-3 ms), not for work of tens of milliseconds (a practitioner's calibration
    over 200 dyads takes ~45 ms). Such work is marked ``slow`` and runs in a batch of its
    own on the commit thread, begun, run and committed there, so that requests which do not
    need the database (the stateless score, health checks) go on being served meanwhile.
    """

    def __init__(self, engine: Engine, max_batch: int = 64, max_queue: int = 20_000) -> None:
        super().__init__(engine)
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._lock = threading.Lock()  # guards _pending and _running (loops in other threads)
        self._pending: list[_Job] = []
        self._running = False  # a batch is running or committing
        self._connection: Connection | None = None
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._committer, name="rapport-sqlite-commit")
        self._thread.daemon = True
        self._thread.start()

    async def run(self, work: Work[T], *, slow: bool = False) -> T:
        loop = asyncio.get_running_loop()
        job = _Job(work, loop, loop.create_future(), slow=slow)
        with self._lock:
            if len(self._pending) >= self._max_queue:
                raise Unavailable("Too many requests are waiting for the database.")
            self._pending.append(job)
            start, self._running = not self._running, True
        if start:
            # Not at once: requests arriving in this loop iteration join the batch.
            loop.call_soon(self._next_batch, loop)
        result: T = await job.future
        return result

    def close(self) -> None:
        if self._thread.is_alive():
            self._tasks.put(None)
            self._thread.join(timeout=30)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()

    # On the event loop ------------------------------------------------------------------

    def _next_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._pending and self._pending[0].slow:
                taken = [self._pending.pop(0)]
            else:
                count = next(
                    (i for i, job in enumerate(self._pending[: self._max_batch]) if job.slow),
                    min(len(self._pending), self._max_batch),
                )
                taken = self._pending[:count]
                del self._pending[:count]
        # A job whose caller stopped waiting before it began is not run: nobody would hear of it.
        jobs = [job for job in taken if not job.future.cancelled()]
        if not jobs:
            self._continue(loop)
            return
        if jobs[0].slow:
            self._tasks.put(lambda: self._run_alone(loop, jobs))
            return
        try:
            connection = self._connect()
            transaction = connection.begin()
        except OperationalError as exc:
            if not _locked(exc):
                self._fail(loop, jobs, exc)
                return
            # Another process holds the write lock: wait for it off the loop.
            self._tasks.put(lambda: self._begin_waiting(loop, jobs))
            return
        except Exception as exc:
            self._fail(loop, jobs, exc)
            return
        self._run_jobs(loop, connection, transaction, jobs)

    def _run_jobs(
        self, loop: asyncio.AbstractEventLoop | None, connection: Connection,
        transaction: RootTransaction, jobs: list[_Job],
    ) -> None:  # fmt: skip
        try:
            _execute(connection, jobs)
        except Exception as exc:  # a savepoint itself failed: nothing of the batch stands
            _roll_back(transaction)
            self._fail(loop, jobs, exc)
            return
        self._tasks.put(lambda: self._commit(loop, transaction, jobs))

    def _finish(self, here: asyncio.AbstractEventLoop | None, jobs: list[_Job]) -> None:
        """Tell every job's caller its outcome, then start the next batch.

        ``here`` is the loop whose thread this runs on, or None on the committer thread
        (when the loop that ran the batch has closed meanwhile)."""
        elsewhere: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in jobs:
            if job.loop is here:
                _settle([job])
            else:  # a job of a loop in another thread joined this batch
                elsewhere.setdefault(job.loop, []).append(job)
        for other, settled in elsewhere.items():
            _to_loop(other, _settle, settled)  # a loop that has closed has nobody waiting
        self._continue(here)

    def _continue(self, here: asyncio.AbstractEventLoop | None) -> None:
        """Hand the next batch to the loop of the first job still awaited, or stop.

        Never to a loop merely because it ran the last batch: a loop in another thread
        whose own jobs are done may close at any moment (``asyncio.run`` returning), and a
        batch handed to it would never finish, leaving every later caller waiting forever.
        A caller awaiting its job keeps its loop running. Left open: a loop shutting down
        at the very moment its first-queued caller was cancelled may drop the batch handed
        to it; closing that window would take a watchdog thread, which costs more than it."""
        while True:
            with self._lock:
                while self._pending and self._pending[0].future.cancelled():
                    self._pending.pop(0)
                if not self._pending:
                    self._running = False
                    return
                target = self._pending[0].loop
            if target is here:
                # After the callers' own callbacks: their responses go out before the next batch.
                target.call_soon(self._next_batch, target)
                return
            if _to_loop(target, self._next_batch, target):
                return
            with self._lock:  # that loop has closed: nobody waits for its jobs
                self._pending = [job for job in self._pending if job.loop is not target]

    def _fail(
        self, here: asyncio.AbstractEventLoop | None, jobs: list[_Job], exc: Exception
    ) -> None:
        log.error("a batch of %d job(s) failed: %s", len(jobs), exc)
        for job in jobs:
            job.result, job.error = None, exc
        self._finish(here, jobs)

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.invalidated:
            if self._connection is not None:
                self._connection.close()
            connection = self.engine.connect()
            # Never wait for a lock on the loop (see the class docstring).
            _driver(connection).execute("PRAGMA busy_timeout=0")
            self._connection = connection
        return self._connection

    # On the committer thread ------------------------------------------------------------
    # Each step goes back to the loop that ran the batch; if that loop has closed
    # meanwhile, the step runs here instead (``_back_to``), so the batch and those queued
    # after it finish.

    def _committer(self) -> None:
        while (task := self._tasks.get()) is not None:
            task()

    def _commit(
        self, loop: asyncio.AbstractEventLoop | None, transaction: RootTransaction,
        jobs: list[_Job],
    ) -> None:  # fmt: skip
        try:
            transaction.commit()
        except Exception as exc:  # the COMMIT itself failed: nothing of the batch stands
            log.exception("group commit of %d job(s) failed", len(jobs))
            if transaction.is_active:
                _roll_back(transaction)
            for job in jobs:
                job.result, job.error = None, exc
        _back_to(loop, self._finish, jobs)

    def _begin_waiting(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        try:
            connection = self._connect()
            transaction = _begin_waiting_for_lock(connection)
        except Exception as exc:
            _back_to(loop, self._fail, jobs, exc)
            return
        _back_to(loop, self._run_jobs, connection, transaction, jobs)

    def _run_alone(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        """A slow job: begun, run and committed here, while the loop serves requests."""
        try:
            connection = self._connect()
            transaction = _begin_waiting_for_lock(connection)
        except Exception as exc:
            _back_to(loop, self._fail, jobs, exc)
            return
        try:
            _execute(connection, jobs)
        except Exception as exc:
            _roll_back(transaction)
            _back_to(loop, self._fail, jobs, exc)
            return
        self._commit(loop, transaction, jobs)


_LOCK_WAIT_MS = 10_000  # as the engine's busy_timeout (service/store/engine.py)


def _execute(connection: Connection, jobs: list[_Job]) -> None:
    """Each job in a SAVEPOINT of the open transaction: a failing job rolls back alone.

    Savepoints as raw statements (as in service/store/prepared.py): through
    ``begin_nested`` they cost two Core executions per job, more than storing the job's
    administration."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    for job in jobs:
        connection._cursor_execute(cursor, "SAVEPOINT rapport_job", ())
        try:
            job.result = job.work(connection)
        except BaseException as exc:
            connection._cursor_execute(cursor, "ROLLBACK TO SAVEPOINT rapport_job", ())
            job.result, job.error = None, exc
        connection._cursor_execute(cursor, "RELEASE SAVEPOINT rapport_job", ())
    cursor.close()


def _roll_back(transaction: RootTransaction) -> None:
    try:
        transaction.rollback()
    except Exception:
        log.exception("rolling back a failed batch failed")


def _begin_waiting_for_lock(connection: Connection) -> RootTransaction:
    """BEGIN, waiting as long as the engine would for another process's write lock (off
    the loop only: the serving connection otherwise never waits)."""
    driver = _driver(connection)
    driver.execute(f"PRAGMA busy_timeout={_LOCK_WAIT_MS}")
    try:
        return connection.begin()
    finally:
        driver.execute("PRAGMA busy_timeout=0")


def _driver(connection: Connection) -> Any:
    """The DBAPI connection: pragmas on it run outside SQLAlchemy's transaction."""
    return connection.connection.dbapi_connection


def _locked(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig) or "busy" in str(exc.orig)


def _to_loop(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> bool:
    """Schedule ``callback`` on ``loop`` from any thread; False if the loop has closed."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        log.warning("an event loop closed before its database jobs finished")
        return False
    return True


def _back_to(
    loop: asyncio.AbstractEventLoop | None,
    step: Callable[..., None],
    *args: Any,
) -> None:
    """From the committer thread: ``step(loop, *args)`` on the loop that ran the batch, or,
    when that loop has closed (or there is none), ``step(None, *args)`` here at once."""
    if loop is None or not _to_loop(loop, step, loop, *args):
        step(None, *args)


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
