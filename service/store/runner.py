"""The one owner of the transaction: the ``Transact`` the use cases are given.

``await transact(work)`` runs ``work(store)`` in one write transaction (service/store/
database.py): every write happens when it is called, later reads of the same unit of work
see it, and the whole unit commits when ``work`` returns or rolls back when it raises.

``await transact(work, read_only=True)`` marks work that writes nothing but audit events. On
SQLite it runs on a reader connection, beside the one writer and never waiting for it; the
audit events it records are kept and written by one write transaction after the read, and the
result is released only once they are committed, so no access goes unrecorded. PostgreSQL
needs no such split (its readers never wait for writers): there the read and its audit events
are one transaction, as any other unit of work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from service.app import telemetry
from service.app.ports import Store
from service.domain.errors import Conflict, Unavailable
from service.domain.records import AuditEvent
from service.store.database import Database
from service.store.repository import SqlStore

T = TypeVar("T")


class StoreTransact:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._separate_reads = database.dialect == "sqlite"

    async def __call__(self, work: Callable[[Store], T], /, *, read_only: bool = False) -> T:
        started = time.perf_counter()
        outcome = "rollback"
        try:
            result = await self._run(work, read_only)
            outcome = "commit"
            return result
        except IntegrityError as exc:
            outcome = "conflict"
            raise Conflict("The request conflicts with data stored at the same time.") from exc
        except OperationalError as exc:  # connection lost, database locked: worth a retry
            outcome = "unavailable"
            raise Unavailable("The database did not answer; retry shortly.") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                outcome = "unavailable"
                raise Unavailable("The database did not answer; retry shortly.") from exc
            raise
        finally:  # the unit of work's latency, queueing for the database and commit included
            telemetry.transaction_finished(time.perf_counter() - started, outcome)

    async def _run(self, work: Callable[[Store], T], read_only: bool) -> T:
        if not (read_only and self._separate_reads):
            return await self._database.write(lambda c: _unit(SqlStore(c), work))
        events: list[AuditEvent] = []
        result = await self._database.read(lambda c: work(_ReadStore(c, events)))
        if events:
            await self._database.write(
                lambda c: _unit(SqlStore(c), lambda s: s.record_many(events))
            )
        return result


def _unit(store: SqlStore, work: Callable[[Store], T]) -> T:
    """``work``, then its audit events chained to their tenants' trails: last, just before
    the commit, so the chain head's lock is held as briefly as possible (audit_trail.py)."""
    result = work(store)
    store.chain_audit_events()
    return result


class _ReadStore(SqlStore):
    """The store of a read-only unit of work: audit events are kept for the writer."""

    def __init__(self, connection: Connection, events: list[AuditEvent]) -> None:
        super().__init__(connection)
        self._events = events

    def record(self, event: AuditEvent) -> None:
        self._events.append(event)

    def record_many(self, events: Sequence[AuditEvent]) -> None:
        self._events.extend(events)
