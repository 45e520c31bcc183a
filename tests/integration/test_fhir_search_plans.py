"""FHIR searches are served by indexes, not scans: SQLite's query plans, checked.

SQLite plans without statistics, so these plans are what a fresh clinic database gets. Each
search's statements are captured as they run and explained: the administrations must be
read through ``ix_administrations_tenant_id_completed_at_id`` (a tenant's, by time) or
``ix_administrations_tenant_id_dyad_id_completed_at_id`` (a patient's, dyad by dyad), never
scanned, and never sorted in a temporary B-tree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, event

from service.app.ports import AdministrationSearch
from service.store.repository import SqlStore
from tests.conftest import migrated

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T, P = uuid.uuid4(), uuid.uuid4()


def _plans(url: str, search: AdministrationSearch) -> list[str]:
    engine = create_engine(url)
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def capture(_c: Any, _cur: Any, statement: str, params: Any, _x: Any, _m: Any) -> None:
        captured.append((statement, params))

    with engine.begin() as c:
        for statement in [
            "INSERT INTO tenants (id, name, created_at) VALUES (?, 'a', ?)",
            "INSERT INTO patients (id, tenant_id, external_id, created_at) VALUES (?, ?, 'm', ?)",
        ]:
            args = (T.hex, NOW.isoformat()) if "tenants" in statement else (P.hex, T.hex, "x")
            c.exec_driver_sql(statement, args)
        c.exec_driver_sql(
            "INSERT INTO practitioners (id, tenant_id, external_id, created_at) "
            "VALUES (?, ?, 'n', 'x')",
            (P.hex, T.hex),
        )
        c.exec_driver_sql(
            "INSERT INTO dyads (id, tenant_id, patient_id, practitioner_id, created_at) "
            "VALUES (?, ?, ?, ?, 'x')",
            (P.hex, T.hex, P.hex, P.hex),
        )
    with engine.connect() as c:
        captured.clear()
        SqlStore(c).search_administrations(T, search)
        statement, params = captured[-1]
        rows = c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
    engine.dispose()
    return [row[3] for row in rows]


@pytest.mark.parametrize(
    ("search", "index"),
    [
        (AdministrationSearch(limit=51), "ix_administrations_tenant_id_completed_at_id"),
        (
            AdministrationSearch(limit=51, descending=True, since=NOW, after=(NOW, uuid.uuid4())),
            "ix_administrations_tenant_id_completed_at_id",
        ),
        (
            AdministrationSearch(limit=51, patient_id=P, instruments=frozenset({"phq-9"})),
            "ix_administrations_tenant_id_dyad_id_completed_at_id",
        ),
        (
            AdministrationSearch(limit=51, patient_id=P, descending=True, before=NOW),
            "ix_administrations_tenant_id_dyad_id_completed_at_id",
        ),
    ],
)
def test_searches_use_an_index_and_no_sort(
    sqlite_url: str, search: AdministrationSearch, index: str
) -> None:
    migrated(sqlite_url)
    plan = _plans(sqlite_url, search)
    [administrations] = [step for step in plan if " administrations " in f"{step} "]
    assert administrations.startswith("SEARCH administrations USING INDEX " + index), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
