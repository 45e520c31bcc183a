"""Prepared statements write and read exactly what Core's ``Connection.execute`` does.

``service.store.prepared`` skips SQLAlchemy's per-call machinery on the write path but keeps
its compiler and its column types' processors; these tests hold it to that on both engines:
the stored bytes, the values read back (UUIDs, aware datetimes, JSON, floats, dates) and the
exceptions raised are the same as through ``Connection.execute``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError

from service.store.engine import create_engine
from service.store.prepared import Prepared, write_together
from service.store.queries.base import (
    administrations,
    dyads,
    owned,
    patients,
    practitioners,
    sessions,
    tenants,
)
from tests.conftest import migrated

NOW = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
LOCAL = timezone(timedelta(hours=-5))


@pytest.fixture
def c(database_url: str) -> Iterator[Connection]:
    """A connection in a transaction on a freshly migrated database, rolled back after."""
    migrated(database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            yield connection
            connection.rollback()
    finally:
        engine.dispose()


def _people(c: Connection) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A new tenant with one patient and one practitioner: their ids."""
    tenant = uuid.uuid4()
    c.execute(insert(tenants).values(id=tenant, name="t", created_at=NOW))
    patient, practitioner = uuid.uuid4(), uuid.uuid4()
    c.execute(insert(patients).values(id=patient, tenant_id=tenant, external_id="p",
                                      population="adult", created_at=NOW))  # fmt: skip
    c.execute(insert(practitioners).values(id=practitioner, tenant_id=tenant, external_id="t",
                                           display_name=None, created_at=NOW))  # fmt: skip
    return tenant, patient, practitioner


def _dyad(tenant: uuid.UUID, patient: uuid.UUID, practitioner: uuid.UUID) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "tenant_id": tenant, "patient_id": patient,
            "practitioner_id": practitioner, "started_on": date(2026, 1, 2), "ended_on": None,
            "created_at": NOW.astimezone(LOCAL)}  # fmt: skip


def _raw(c: Connection, table: str) -> list[tuple[Any, ...]]:
    """The stored values as the driver returns them, with no type processing."""
    return [tuple(r) for r in c.exec_driver_sql(f"SELECT * FROM {table} ORDER BY created_at")]


def test_rows_written_and_read_match_core(c: Connection) -> None:
    tenant, patient, practitioner = _people(c)
    through_core = _dyad(tenant, patient, practitioner)
    c.execute(insert(dyads), through_core)
    prepared = _dyad(tenant, patient, practitioner)
    prepared["created_at"] = through_core["created_at"] + timedelta(microseconds=1)
    assert Prepared(insert(dyads)).rowcount(c, prepared) == 1

    core_raw, prepared_raw = _raw(c, "dyads")
    # Same stored representation column by column, except the ids and the microsecond.
    for name, a, b in zip(dyads.c.keys(), core_raw, prepared_raw, strict=True):
        if name == "id":
            continue
        if name == "created_at":
            assert type(a) is type(b)
            continue
        assert a == b, name

    read = Prepared(owned(dyads, bindparam("t")).where(dyads.c.id == bindparam("i")))
    for row in (through_core, prepared):
        (got,) = read.rows(c, {"t": tenant, "i": row["id"]})
        core = c.execute(select(dyads).where(dyads.c.id == row["id"])).one()
        assert got == tuple(core)
        assert got[0] == row["id"]
        assert isinstance(got[0], uuid.UUID)
        assert got[4] == date(2026, 1, 2)
        assert got[6] == row["created_at"]
        assert got[6].tzinfo is not None
        assert got[6].utcoffset() == timedelta(0)  # returned in UTC
    assert read.rows(c, {"t": uuid.uuid4(), "i": prepared["id"]}) == []


def test_json_and_floats_round_trip_as_core_reads_them(c: Connection) -> None:
    tenant, patient, practitioner = _people(c)
    dyad = _dyad(tenant, patient, practitioner)
    c.execute(insert(dyads), dyad)
    session = uuid.uuid4()
    c.execute(insert(sessions).values(id=session, tenant_id=tenant, dyad_id=dyad["id"],
                                      number=1, created_at=NOW))  # fmt: skip
    score = {"total": 12.5, "scales": {"total": {"score": 12.5}}, "flags": [],
             "text": "naïve ✓", "nested": [1, None, True]}  # fmt: skip
    row = {"id": uuid.uuid4(), "tenant_id": tenant, "dyad_id": dyad["id"],
           "session_id": session, "session_number": 1, "instrument": "phq-9",
           "instrument_version": "1", "respondent": "client", "completed_at": NOW,
           "responses": {"1": 2, "2": 0}, "score": score, "total": 12.5,
           "scale_scores": {"total": 12.5}, "created_at": NOW}  # fmt: skip
    Prepared(insert(administrations)).rowcount(c, row)
    read = Prepared(
        owned(administrations, bindparam("t")).where(administrations.c.id == bindparam("i"))
    )
    (got,) = read.rows(c, {"t": tenant, "i": row["id"]})
    core = c.execute(select(administrations)).one()
    assert got == tuple(core)
    assert dict(zip(administrations.c.keys(), got, strict=True)) == row


def test_writes_together_land_as_core_writes_and_fail_whole(c: Connection) -> None:
    # On PostgreSQL they are one statement (each write a WITH of it): the rows must be
    # Core's, a row may refer to one written beside it, and a failure anywhere must raise
    # SQLAlchemy's IntegrityError and leave none of the statement's rows.
    tenant, patient, practitioner = _people(c)
    first, second = _dyad(tenant, patient, practitioner), _dyad(tenant, patient, practitioner)
    session = {"id": uuid.uuid4(), "tenant_id": tenant, "dyad_id": second["id"], "number": 1,
               "created_at": NOW}  # fmt: skip
    add, add_session = Prepared(insert(dyads)), Prepared(insert(sessions))
    write_together(c, [(add, first), (add, second), (add_session, session)])
    stored = c.execute(select(dyads).order_by(dyads.c.id)).all()
    assert [tuple(r) for r in stored] == sorted(
        (tuple(d[column.key] for column in dyads.columns) for d in (first, second)),
        key=lambda r: r[0],
    )
    assert c.execute(select(sessions.c.dyad_id)).scalars().all() == [second["id"]]
    third = _dyad(tenant, patient, practitioner)
    with pytest.raises(IntegrityError), c.begin_nested():  # the second repeats an id
        write_together(c, [(add, third), (add, first)])
    assert len(c.execute(select(dyads.c.id)).all()) == 2  # the third is not there


def test_driver_errors_surface_as_sqlalchemy_errors(c: Connection) -> None:
    tenant, patient, practitioner = _people(c)
    dyad = _dyad(tenant, patient, practitioner)
    add = Prepared(insert(dyads))
    add.rowcount(c, dyad)
    with pytest.raises(IntegrityError), c.begin_nested():  # the same id twice
        add.rowcount(c, dyad)
    assert c.execute(select(dyads.c.id)).scalars().all() == [dyad["id"]]


def test_a_missing_parameter_is_an_error_not_a_null() -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as c, pytest.raises(KeyError, match="tenant_id"):
            Prepared(insert(dyads)).rowcount(c, {"id": uuid.uuid4()})
    finally:
        engine.dispose()


def test_cursor_events_see_prepared_statements(database_url: str) -> None:
    """Instrumentation hooked on SQLAlchemy's cursor events (and the statement-counting
    tests) must see prepared statements like any other."""
    migrated(database_url)
    engine = create_engine(database_url)
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.begin() as c:
            read = Prepared(owned(dyads, bindparam("t")).where(dyads.c.id == bindparam("i")))
            assert read.rows(c, {"t": uuid.uuid4(), "i": uuid.uuid4()}) == []
            c.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        engine.dispose()
    assert [s for s in seen if s.startswith("SELECT dyads.id")] != []
