"""The one owner of the transaction (service/store/runner.py): what the use cases rely on.

A unit of work commits whole or not at all (a conflict on its last write takes its audit
event back too); ``add_administration`` writes when it is called, so the same unit of work
reads it back; a read-only unit's audit events are committed before its answer is
released; a database that does not answer is ``Unavailable``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from service.app.audit import audit_event
from service.app.ports import Store
from service.domain.errors import Conflict, Unavailable
from service.domain.ids import new_id
from service.domain.instruments.model import Respondent
from service.domain.records import Administration, Dyad, Outcome, Patient, Practitioner
from service.store.database import Database, open_database
from service.store.runner import StoreTransact
from tests.conftest import migrated


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    migrated(database_url)
    opened = open_database(database_url)
    yield opened
    opened.close()


async def _audit_events(database: Database) -> int:
    def count(connection: Connection) -> int:
        return int(connection.exec_driver_sql("SELECT count(*) FROM audit_events").scalar_one())

    return await database.read(count)


def _dyad(store: Store) -> tuple[uuid.UUID, uuid.UUID]:
    now = datetime.now(UTC)
    tenant = store.ensure_tenant("clinic", new_id(), now).id
    patient = Patient(new_id(), tenant, "MRN-1", None, now)
    practitioner = Practitioner(new_id(), tenant, "P-1", None, now)
    store.add_patient(patient)
    store.add_practitioner(practitioner)
    dyad = Dyad(new_id(), tenant, patient.id, practitioner.id, None, None, now)
    store.add_dyad(dyad)
    return tenant, dyad.id


async def test_a_conflict_on_the_last_write_takes_the_whole_unit_back(
    database: Database,
) -> None:
    transact = StoreTransact(database)
    tenant, _ = await transact(_dyad)
    now = datetime.now(UTC)

    def claim(store: Store) -> None:
        event = audit_event(tenant, "k", "administration.create", "dyad", "d", Outcome.SUCCESS)
        store.record(event)
        store.store_response(tenant, "key-1", "hash", 201, {"id": "x"}, now)

    await transact(claim)
    with pytest.raises(Conflict):
        await transact(claim)  # the key is taken: its audit event must not stay either
    assert await _audit_events(database) == 1


async def test_an_administration_is_written_when_added_and_read_back_at_once(
    database: Database,
) -> None:
    transact = StoreTransact(database)
    tenant, dyad = await transact(_dyad)
    now = datetime.now(UTC)
    administration = Administration(
        new_id(), tenant, dyad, 1, "phq-9", "1", Respondent.CLIENT, now,
        {"1": 1}, {"total": 9.0, "scales": {}}, now,
    )  # fmt: skip

    def work(store: Store) -> list[uuid.UUID]:
        store.add_administration(administration, store.ensure_session(tenant, dyad, 1, now))
        return [o.administration_id for o in store.series(tenant, dyad, "phq-9")]

    assert await transact(work) == [administration.id]


async def test_a_read_only_unit_audits_what_it_read_before_it_answers(
    database: Database,
) -> None:
    transact = StoreTransact(database)
    tenant, dyad = await transact(_dyad)

    def read(store: Store) -> uuid.UUID | None:
        found = store.dyad(tenant, dyad)
        store.record(audit_event(tenant, "k", "dyad.read", "dyad", str(dyad), Outcome.SUCCESS))
        return None if found is None else found.id

    assert await transact(read, read_only=True) == dyad
    assert await _audit_events(database) == 1  # committed by the time the answer came


async def test_a_database_that_does_not_answer_is_unavailable() -> None:
    database = open_database("postgresql://postgres@127.0.0.1:9/nothing", pool_size=1)
    try:
        with pytest.raises(Unavailable):
            await StoreTransact(database)(lambda store: store.tenant_by_name("x"))
    finally:
        database.close()
