"""PostgreSQL units of work begin a transaction only when they first write (engine.py).

Reads before the first write run on their own; deferred writes go out as one statement at
the end, atomic by itself; any other write opens a transaction that the unit of work's end
commits, or its failure rolls back. Storing an administration is then two statements and
no BEGIN or COMMIT.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, event, text

from service.app.audit import audit_event
from service.domain.errors import Conflict
from service.domain.ids import new_id
from service.domain.records import Outcome, Patient
from service.store.database import Database, open_database
from service.store.repository import SqlStore
from service.store.runner import StoreTransact
from tests.conftest import Api, migrated, running_api

PHQ9 = {str(i): 1 for i in range(1, 9)} | {"9": 0}  # no risk item: no alert


class Boom(Exception):
    pass


@pytest.fixture
def database(postgres_database: str) -> Iterator[Database]:
    migrated(postgres_database)
    opened = open_database(postgres_database)
    yield opened
    opened.close()


def _statements(database: Database) -> list[tuple[str, str]]:
    """(first word, transaction status as it runs) of every statement sent from now on."""
    seen: list[tuple[str, str]] = []

    def before(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
        status = TransactionStatus(cursor.connection.info.transaction_status)
        seen.append((statement.split(None, 1)[0].upper(), status.name))

    event.listen(database.engine, "before_cursor_execute", before)
    return seen


async def _count(database: Database, table: str) -> int:
    def count(connection: Connection) -> int:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    return await database.run(count)


def _tenant_and_patient(store: SqlStore, name: str) -> uuid.UUID:
    tenant = store.ensure_tenant(name, new_id(), datetime.now(UTC))
    store.add_patient(Patient(new_id(), tenant.id, f"MRN-{name}", None, datetime.now(UTC)))
    return tenant.id


@pytest.mark.postgres
async def test_storing_an_administration_is_two_statements_outside_any_transaction(
    postgres_database: str,
) -> None:
    async with running_api(postgres_database) as api:
        client = await api.client_for("clinic")
        dyad = await _dyad(api, client)
        path = f"/v1/dyads/{dyad}/administrations"
        first = await client.post(
            path, json={"instrument": "phq-9", "session": 1, "responses": PHQ9}
        )
        assert first.status_code == 201
        seen = _statements(api.services.database)
        stored = await client.post(
            path, json={"instrument": "phq-9", "session": 2, "responses": PHQ9},
            headers={"Idempotency-Key": "visit-2"},
        )  # fmt: skip
        assert stored.status_code == 201, stored.text
        # The dyad with its series summary and whatever is stored under the key; then the
        # key, session, administration and summary in one statement, which opens the
        # transaction; then the audit event, appended to the tenant's hash chain under the
        # chain head's row lock, taken last (lock the head, insert the event, move the
        # head: issue 16, item 6).
        assert seen == [("SELECT", "IDLE"), ("WITH", "INTRANS"), ("INSERT", "INTRANS"),
                        ("INSERT", "INTRANS"), ("UPDATE", "INTRANS")]  # fmt: skip
        rows = await api.services.transact(
            lambda store: store.administrations(
                store.tenant_by_name("clinic").id,
                uuid.UUID(dyad),
                None,
                10,  # type: ignore[union-attr]
            )
        )
        assert [a.session for a in rows] == [1, 2]


async def _dyad(api: Api, client: Any) -> str:
    patient = (await client.post("/v1/patients", json={"external_id": "MRN-1"})).json()
    practitioner = (await client.post("/v1/practitioners", json={"external_id": "NPI-1"})).json()
    dyad = await client.post(
        "/v1/dyads", json={"patient_id": patient["id"], "practitioner_id": practitioner["id"]}
    )
    dyad_id: str = dyad.json()["id"]
    return dyad_id


@pytest.mark.postgres
async def test_a_write_opens_the_transaction_and_the_end_commits_it(database: Database) -> None:
    seen = _statements(database)

    def work(connection: Connection) -> None:
        store = SqlStore(connection)
        store.tenant_by_name("nobody")  # a read: on its own
        tenant = _tenant_and_patient(store, "a")  # writes: in the transaction they open
        store.record(audit_event(tenant, "k", "patient.create", "patient", "1", Outcome.SUCCESS))
        store.flush(last=True)  # inside the open transaction

    await database.run(work)
    # The first write finds the transaction it opened; the read before it ran on its own.
    # The audit event is three statements: lock the chain head, insert, move the head.
    assert seen == [("SELECT", "IDLE"), ("INSERT", "INTRANS"), ("SELECT", "INTRANS"),
                    ("INSERT", "INTRANS"), ("INSERT", "INTRANS"), ("INSERT", "INTRANS"),
                    ("UPDATE", "INTRANS")]  # fmt: skip
    assert await _count(database, "audit_events") == 1


@pytest.mark.postgres
async def test_a_failure_after_a_write_takes_the_whole_unit_back(database: Database) -> None:
    def work(connection: Connection) -> None:
        _tenant_and_patient(SqlStore(connection), "b")
        raise Boom

    with pytest.raises(Boom):
        await database.run(work)
    assert (await _count(database, "tenants"), await _count(database, "patients")) == (0, 0)


@pytest.mark.postgres
async def test_the_last_statement_fails_whole(database: Database) -> None:
    transact = StoreTransact(database)
    tenant = await transact(lambda store: _tenant_and_patient(store, "c"))  # type: ignore[arg-type]
    now = datetime.now(UTC)

    def claim(store: Any) -> None:
        store.record(
            audit_event(tenant, "k", "administration.create", "dyad", "d", Outcome.SUCCESS)
        )
        store.store_response(tenant, "key-1", "hash", 201, {"id": "x"}, now)

    await transact(claim)
    with pytest.raises(Conflict):
        await transact(claim)  # the key is taken: its audit event must not stay either
    assert await _count(database, "audit_events") == 1


@pytest.mark.postgres
async def test_a_locking_read_opens_the_transaction(database: Database) -> None:
    def work(connection: Connection) -> str:
        connection.execute(text("SELECT id FROM tenants FOR UPDATE"))
        dbapi: Any = connection.connection.dbapi_connection
        return TransactionStatus(dbapi.info.transaction_status).name

    assert await database.run(work) == "INTRANS"
