"""The use cases wired to the in-memory store (tests/unit/fakes.py), as bootstrap wires them
to the real one, with helpers that read as the steps of a clinic's day."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from service.app.administrations import Administrations, NewAdministration, Submitted
from service.app.alerting import Alerts
from service.app.auth import Authenticator, issue_api_key
from service.app.batches import BatchReads
from service.app.corrections import Corrections
from service.app.insights import Insights
from service.app.instruments import InstrumentService
from service.app.records import NewDyad, NewPatient, NewPractitioner, Records
from service.app.rules import ClinicalRules
from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import Population
from service.domain.records import Administration, AuditEvent, Dyad, Outcome, Principal, Scope
from tests.unit.fakes import Database, FakeTransact

START = datetime(2015, 1, 5, 9, tzinfo=UTC)  # weekly sessions stay in the past to 500


def at(session: int, minutes: int = 0) -> datetime:
    """When session ``session`` was completed: weekly, ``minutes`` later for a re-take."""
    return START + timedelta(days=7 * session, minutes=minutes)


def phq9(*items: int) -> dict[str, int]:
    """PHQ-9 answers to items 1-9 in order."""
    assert len(items) == 9
    return {str(i): v for i, v in enumerate(items, 1)}


def wai(total: int, items: int = 12) -> dict[str, int]:
    """WAI-SR (either form) answers summing to ``total`` (12-60), spread evenly."""
    base, extra = divmod(total, items)
    return {str(i): base + (1 if i <= extra else 0) for i in range(1, items + 1)}


@pytest.fixture(scope="session")
def instruments() -> InstrumentService:
    return InstrumentService(load_catalogue())


@dataclass
class Clinic:
    """Rapport's use cases over one in-memory database."""

    instruments: InstrumentService
    rules: ClinicalRules = field(default_factory=ClinicalRules)
    transact: FakeTransact = field(default_factory=FakeTransact)

    def __post_init__(self) -> None:
        t = self.transact
        self.records = Records(t)
        self.administrations = Administrations(t, self.instruments, self.rules)
        self.insights = Insights(t, self.instruments, self.rules)
        self.alerts = Alerts(t)
        self.batches = BatchReads(t)
        self.corrections = Corrections(t, self.instruments)
        self.authenticator = Authenticator(t)

    @property
    def database(self) -> Database:
        return self.transact.database

    async def principal(self, tenant: str = "clinic-a", *scopes: Scope) -> Principal:
        """A caller holding a fresh API key of ``tenant`` (both scopes when none named)."""
        token = await issue_api_key(self.transact, tenant, frozenset(scopes or Scope))
        return await self.authenticator.authenticate(f"Bearer {token}")

    async def dyad(
        self,
        who: Principal,
        population: Population | None = None,
        practitioner: uuid.UUID | None = None,
    ) -> Dyad:
        """A new patient in treatment with a new practitioner (or ``practitioner``)."""
        n = len(self.database.rows("patients")) + 1
        patient = await self.records.create_patient(who, NewPatient(f"p-{n}", population))
        if practitioner is None:
            practitioner = (
                await self.records.create_practitioner(who, NewPractitioner(f"t-{n}"))
            ).id
        return await self.records.create_dyad(who, NewDyad(patient.id, practitioner))

    async def store(
        self, who: Principal, dyad: Dyad, instrument: str, session: int,
        responses: Mapping[str, object], *, minutes: int = 0, key: str | None = None,
    ) -> Submitted:  # fmt: skip
        new = NewAdministration(
            dyad.id, instrument, session, responses, completed_at=at(session, minutes)
        )
        return await self.administrations.submit(who, new, key)

    def stored(self) -> list[Administration]:
        return self.database.rows("administrations")

    def events(self, action: str | None = None, outcome: Outcome | None = None) -> list[AuditEvent]:
        return [
            e for e in self.database.audit_events
            if action in (None, e.action) and outcome in (None, e.outcome)
        ]  # fmt: skip


@pytest.fixture
def clinic(instruments: InstrumentService) -> Clinic:
    return Clinic(instruments)
