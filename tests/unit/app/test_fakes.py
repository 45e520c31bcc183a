"""The in-memory store keeps the promises the use cases rely on (tests/unit/fakes.py)."""

from __future__ import annotations

import ast
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.domain.errors import Conflict
from service.domain.records import AuditEvent, Outcome, Patient
from tests.unit.fakes import FakeStore, FakeTransact

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TENANT = uuid.uuid4()


def _patient(external_id: str) -> Patient:
    return Patient(uuid.uuid4(), TENANT, external_id, None, NOW)


def _event() -> AuditEvent:
    return AuditEvent(uuid.uuid4(), TENANT, "cli", "x", "y", None, Outcome.SUCCESS, NOW)


async def test_an_exception_rolls_back_every_write_of_the_transaction() -> None:
    transact = FakeTransact()

    def work(store: FakeStore) -> None:
        store.add_patient(_patient("mrn-1"))
        store.record(_event())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await transact(work)  # type: ignore[arg-type]
    assert transact.database.rows("patients") == []
    assert transact.database.audit_events == []
    assert (transact.commits, transact.rollbacks) == (0, 1)


async def test_a_duplicate_unique_key_is_a_conflict_and_rolls_back() -> None:
    transact = FakeTransact()
    await transact(lambda store: store.add_patient(_patient("mrn-1")))

    def work(store: FakeStore) -> None:
        store.record(_event())
        store.add_patient(_patient("mrn-1"))

    with pytest.raises(Conflict):
        await transact(work)  # type: ignore[arg-type]
    assert len(transact.database.rows("patients")) == 1
    assert transact.database.audit_events == []


async def test_a_write_committed_meanwhile_fails_a_commit_that_takes_the_same_key() -> None:
    transact = FakeTransact()
    transact.meanwhile(lambda store: store.add_patient(_patient("mrn-1")))

    with pytest.raises(Conflict):
        await transact(lambda store: store.add_patient(_patient("mrn-1")))
    assert [p.external_id for p in transact.database.rows("patients")] == ["mrn-1"]


async def test_writes_that_do_not_collide_with_a_concurrent_commit_keep_both() -> None:
    transact = FakeTransact()
    transact.meanwhile(lambda store: store.add_patient(_patient("mrn-1")))

    await transact(lambda store: store.add_patient(_patient("mrn-2")))
    assert sorted(p.external_id for p in transact.database.rows("patients")) == ["mrn-1", "mrn-2"]


UNIT_APP = Path(__file__).resolve().parent
NO_DATABASE = ("sqlalchemy", "psycopg", "service.store", "service.bootstrap", "service.api")


@pytest.mark.parametrize(
    "path", [*sorted(UNIT_APP.glob("*.py")), UNIT_APP.parent / "fakes.py"], ids=lambda p: p.name
)
def test_the_use_case_tests_need_no_database(path: Path) -> None:
    """These tests specify the use cases alone: nothing here may reach a database."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not name.startswith(NO_DATABASE), f"{path.name} imports {name}"
