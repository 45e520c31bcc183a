"""Cost follows the data, not the history: the plans of the queries that grow with it.

A practitioner's calibration reads that practitioner's dyads and one summary row per dyad,
never the rest of the tenant's nor any administration; the ratings of one session are found
through the index on the dyad's sessions, and a dyad's paired sessions through their primary
key, never by reading the dyad's whole history. The statements checked are
the ones the store really sends (caught on the engine), explained by the database itself.
SQLite's plans are checked without statistics (a database not analyzed yet) and with them,
and with another index led by tenant_id on administrations, as a tenant-wide search might
add: a planner that took it would read every administration of the tenant.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event

from service.app.alliance_summaries import AllianceSummaries
from service.app.instruments import InstrumentService
from service.domain.ids import new_id
from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import Respondent
from service.domain.records import Administration, Dyad, Patient, Practitioner
from service.store.engine import create_engine
from service.store.repository import SqlStore
from tests.conftest import migrated

WAI = ["wai-sr", "wai-sr-t"]
# A step of a plan that reads the table: SQLite's SCAN/SEARCH, PostgreSQL's "... Scan ... on".
_READS_ADMINISTRATIONS = re.compile(r"(SCAN|SEARCH|Scan.* on) administrations\b")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    migrated(database_url)
    created = create_engine(database_url)
    yield created
    created.dispose()


def _seed(engine: Engine) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A tenant with 40 practitioners, three dyads each, three sessions per dyad: one
    practitioner's share of the tenant is small, as in a clinic (with statistics, a planner
    may rightly read a tenant of two practitioners whole)."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        store = SqlStore(connection)
        tenant = store.ensure_tenant("clinic", new_id(), now).id
        practitioners = []
        dyads = []
        for p in range(40):
            practitioner = Practitioner(new_id(), tenant, f"P-{p}", None, now)
            store.add_practitioner(practitioner)
            practitioners.append(practitioner.id)
            for d in range(3):
                patient = Patient(new_id(), tenant, f"MRN-{p}-{d}", None, now)
                store.add_patient(patient)
                dyad = Dyad(new_id(), tenant, patient.id, practitioner.id, None, None, now)
                store.add_dyad(dyad)
                dyads.append(dyad.id)
                for session in (1, 2, 3):
                    session_id = store.ensure_session(tenant, dyad.id, session, now)
                    for instrument in WAI:
                        store.add_administration(
                            Administration(
                                new_id(),
                                tenant,
                                dyad.id,
                                session,
                                instrument,
                                "1",
                                Respondent.CLIENT,
                                now,
                                {"1": 3},
                                {"total": 3.0, "scales": {}},
                                now,
                            ),
                            session_id,
                        )
        AllianceSummaries(InstrumentService(load_catalogue(()))).rebuild(store)
    return tenant, practitioners[0], dyads[0]


def _plan(engine: Engine, call: Callable[[SqlStore], object]) -> str:
    """The plan of the last statement ``call`` sends, as the database explains it."""
    sent: list[tuple[str, Any]] = []

    def before(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.begin() as connection:
            call(SqlStore(connection))
    finally:
        event.remove(engine, "before_cursor_execute", before)
    statement, parameters = sent[-1]
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[3]) for row in rows)
        # Tables this small are read whole whatever the indexes: ask which index it would use.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in rows)


def _reads_only_through_dyads(plan: str, *indexes: str) -> None:
    """Administrations are read only through one of ``indexes``, each of which binds the dyad
    in its leading columns (dyad_id first, or after tenant_id, which every row of the query
    shares): one dyad's rows at a time, never a scan of the tenant's."""
    lines = [line for line in plan.splitlines() if _READS_ADMINISTRATIONS.search(line)]
    assert lines, plan
    for line in lines:
        assert any(index in line for index in indexes), plan
        assert "SCAN" not in line, plan
        assert "Seq Scan" not in line, plan
        if "USING INDEX" in line:  # SQLite names the columns it binds: the dyad is one
            assert "dyad_id=?" in line, plan


@pytest.fixture(params=["as migrated", "analyzed", "with a tenant-led index"])
def seeded(request: pytest.FixtureRequest, engine: Engine) -> tuple[uuid.UUID, ...]:
    ids = _seed(engine)
    # PostgreSQL's autovacuum analyzes every table that changes; a plan without statistics
    # is SQLite's case alone (its ANALYZE runs only when Rapport asks, migrate.py).
    if request.param == "analyzed" or engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    if request.param == "with a tenant-led index":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE INDEX ix_test_tenant_completed ON administrations (tenant_id, completed_at)"
            )
    return ids


def test_a_calibration_reads_only_the_practitioners_dyads(
    engine: Engine, seeded: tuple[uuid.UUID, ...]
) -> None:
    tenant, practitioner, _ = seeded
    with engine.begin() as connection:
        summaries = SqlStore(connection).alliance_summaries(tenant, practitioner, ["wai-sr"])
    assert len(summaries) == 3  # one per dyad of the practitioner's, not the others'
    assert {s.pairs for _, _, s in summaries} == {3}
    plan = _plan(engine, lambda s: s.alliance_summaries(tenant, practitioner, ["wai-sr"]))
    assert "ix_dyads_tenant_id_practitioner_id" in plan, plan
    assert not _READS_ADMINISTRATIONS.search(plan), plan
    _reads_by_key(plan, "alliance_summaries")


def test_a_dyads_paired_sessions_are_read_through_their_key(
    engine: Engine, seeded: tuple[uuid.UUID, ...]
) -> None:
    tenant, _, dyad = seeded
    with engine.begin() as connection:
        differences = SqlStore(connection).alliance_differences(tenant, dyad, "wai-sr")
    assert differences == [0.0, 0.0, 0.0]
    plan = _plan(engine, lambda s: s.alliance_differences(tenant, dyad, "wai-sr"))
    _reads_by_key(plan, "alliance_pairs")


def _reads_by_key(plan: str, table: str) -> None:
    """``table`` is read through its primary key, led by the dyad, never scanned whole."""
    assert not re.search(rf"(\bSCAN|Seq Scan on) {table}\b", plan), plan
    if "QUERY PLAN" in plan or "SEARCH" in plan:  # SQLite
        assert re.search(rf"SEARCH {table} USING .*INDEX.*\(dyad_id=\?", plan), plan
    else:
        assert re.search(rf"pk_{table}\b.*\n\s+Index Cond: \(\(dyad_id = ", plan), plan


def test_one_sessions_ratings_are_found_through_the_session_index(
    engine: Engine, seeded: tuple[uuid.UUID, ...]
) -> None:
    tenant, _, dyad = seeded
    with engine.begin() as connection:
        ratings = SqlStore(connection).session_ratings(tenant, dyad, 2, WAI)
    assert sorted(name for name, _ in ratings) == WAI
    plan = _plan(engine, lambda s: s.session_ratings(tenant, dyad, 2, WAI))
    _reads_only_through_dyads(plan, "ix_administrations_dyad_id_session_number_id")
