"""Bind the repository to the database: the ``Transact`` the use cases are given."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from service.app import telemetry
from service.app.ports import Store
from service.domain.errors import Conflict, Unavailable
from service.store.database import Database
from service.store.repository import SqlStore

T = TypeVar("T")


class StoreTransact:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def __call__(self, work: Callable[[Store], T], /, *, slow: bool = False) -> T:
        def in_transaction(connection: Connection) -> T:
            store = SqlStore(connection)
            result = work(store)
            store.flush(last=True)  # the deferred writes, before the transaction commits
            return result

        started = time.perf_counter()
        outcome = "rollback"
        try:
            result = await self._database.run(in_transaction, slow=slow)
            outcome = "commit"
            return result
        except IntegrityError as exc:
            outcome = "conflict"
            raise Conflict("The request conflicts with data stored at the same time.") from exc
        except OperationalError as exc:  # connection lost, database locked: worth a retry
            outcome = "unavailable"
            raise Unavailable("The database did not answer; retry shortly.") from exc
        finally:  # the unit of work's latency, queueing for the database and commit included
            telemetry.transaction_finished(time.perf_counter() - started, outcome)
