"""The per-dyad alliance summaries calibration reads, on SQLite and PostgreSQL: built from
the history when a database is upgraded to them, kept by concurrent writes, rebuilt on
demand (service.app.alliance_summaries)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from service.app.administrations import NewAdministration
from service.app.alliance_summaries import AllianceSummaries
from service.app.insights import Calibration
from service.app.records import NewDyad, NewPatient, NewPractitioner
from service.bootstrap import Services
from service.cli.main import main
from service.domain.corrections import Voided
from service.domain.ids import new_id
from service.domain.instruments.model import Respondent
from service.domain.records import Administration, Dyad, Patient, Practitioner, Principal
from service.store import migrate
from service.store.engine import create_engine
from service.store.repository import SqlStore
from tests.conftest import running_api

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _wai(total: float) -> Administration:
    return Administration(
        new_id(), uuid.UUID(int=0), uuid.UUID(int=0), 0, "", "1", Respondent.CLIENT, T0, {},
        {"total": total, "scales": {}}, T0,
    )  # fmt: skip


def _seed_history(url: str) -> tuple[str, uuid.UUID, list[uuid.UUID]]:
    """At revision 0016 (before summaries): two dyads of one practitioner with paired WAI-SR
    sessions, a re-taken client form, a voided therapist form and an unpaired session."""
    engine = create_engine(url)
    migrate.upgrade(engine, "0016")
    now = T0
    with engine.begin() as connection:
        store = SqlStore(connection)
        tenant = store.ensure_tenant("clinic-history", new_id(), now).id
        practitioner = Practitioner(new_id(), tenant, "T-1", None, now)
        store.add_practitioner(practitioner)
        dyads = []
        for n in range(2):
            patient = Patient(new_id(), tenant, f"P-{n}", None, now)
            store.add_patient(patient)
            dyad = Dyad(new_id(), tenant, patient.id, practitioner.id, None, None, now)
            store.add_dyad(dyad)
            dyads.append(dyad.id)
        # dyad 0: session 1: 50 - 44 = 6; session 2: 48 re-taken as 46, minus 44 = 2;
        #         session 3: client only. dyad 1: session 1: 40 - 40 = 0; its second
        #         therapist form (30) was voided.
        rows = [
            (0, 1, "wai-sr", 50, 0), (0, 1, "wai-sr-t", 44, 0), (0, 2, "wai-sr", 48, 0),
            (0, 2, "wai-sr-t", 44, 0), (0, 2, "wai-sr", 46, 30), (0, 3, "wai-sr", 41, 0),
            (1, 1, "wai-sr", 40, 0), (1, 1, "wai-sr-t", 40, 0), (1, 1, "wai-sr-t", 30, 30),
        ]  # fmt: skip
        for d, session, form, total, minutes in rows:
            when = T0 + timedelta(days=7 * session, minutes=minutes)
            a = _wai(total)
            a = Administration(
                a.id, tenant, dyads[d], session, form, "1", Respondent.CLIENT, when, {},
                a.score, when,
            )  # fmt: skip
            store.add_administration(a, store.ensure_session(tenant, dyads[d], session, now))
            last = a
        store.void_administration(tenant, last.id, Voided(now, "tester", "wrong form"))
    engine.dispose()
    return "clinic-history", practitioner.id, dyads


async def _wai_calibration(
    services: Services, who: Principal, practitioner: uuid.UUID
) -> Calibration:
    [c] = [
        c
        for c in await services.insights.calibration(who, practitioner)
        if c.client_form == "wai-sr"
    ]
    return c


def test_an_upgrade_builds_the_summaries_of_the_history(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, practitioner, dyads = _seed_history(database_url)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", database_url)
    assert main(["migrate"]) == 0  # to head, then the summaries of what was stored before

    async def check() -> None:
        async with running_api(database_url) as api:
            services = api.services
            who = await services.authenticator.authenticate(f"Bearer {await api.token(tenant)}")
            c = await _wai_calibration(services, who, practitioner)
            assert (c.dyads, c.pairs) == (2, 3)
            assert c.per_dyad == {dyads[0]: 4.0, dyads[1]: 0.0}
            assert c.bias == pytest.approx(8 / 3, abs=1e-6)
            # Built for this catalogue's pairs: the next start has nothing to do.
            summaries = AllianceSummaries(services.instruments)
            assert await summaries.ensure_current(services.transact) is False

    asyncio.run(check())


def test_a_rebuild_on_demand_restores_summaries_changed_behind_the_services_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, practitioner, dyads = _seed_history(database_url)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", database_url)
    assert main(["migrate"]) == 0
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alliance_summaries"))
        connection.execute(text("UPDATE alliance_pairs SET difference = 99"))
    engine.dispose()
    assert main(["rebuild-summaries"]) == 0

    async def check() -> None:
        async with running_api(database_url) as api:
            who = await api.services.authenticator.authenticate(f"Bearer {await api.token(tenant)}")
            c = await _wai_calibration(api.services, who, practitioner)
            assert c.per_dyad == {dyads[0]: 4.0, dyads[1]: 0.0}

    asyncio.run(check())


async def test_both_forms_of_a_session_stored_at_once_pair_each_other(database_url: str) -> None:
    async with running_api(database_url) as api:
        s = api.services
        who = await s.authenticator.authenticate(f"Bearer {await api.token('clinic-race')}")
        practitioner = await s.records.create_practitioner(who, NewPractitioner("T-race"))
        patient = await s.records.create_patient(who, NewPatient("P-race"))
        dyad = await s.records.create_dyad(who, NewDyad(patient.id, practitioner.id))
        answers = {str(i): 4 for i in range(1, 13)}  # 48 on either form: difference 0
        sessions = range(1, 21)
        phq9 = {str(i): 1 for i in range(1, 10)}
        for session in sessions:
            # The session exists already, so neither store waits on creating its row.
            await s.administrations.submit(who, NewAdministration(dyad.id, "phq-9", session, phq9))
            await asyncio.gather(*(
                s.administrations.submit(who, NewAdministration(dyad.id, form, session, answers))
                for form in ("wai-sr", "wai-sr-t")
            ))  # fmt: skip
        c = await _wai_calibration(s, who, practitioner.id)
        assert c.pairs == len(sessions)
