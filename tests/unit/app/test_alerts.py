"""Alerts: raised with the administration that is their evidence, once per evidence, then
acknowledged and resolved by a clinician."""

from __future__ import annotations

import uuid

import pytest

from service.app.alerting import raise_alerts
from service.domain.alerts import AlertKind, AlertStatus, Severity
from service.domain.errors import Conflict, Forbidden, NotFound
from service.domain.records import Outcome, Scope
from tests.unit.app.conftest import Clinic, phq9, wai
from tests.unit.fakes import FakeStore

RISK = phq9(1, 1, 1, 1, 1, 1, 1, 1, 2)  # item 9 endorsed
MILD = phq9(1, 1, 1, 1, 0, 0, 0, 0, 0)  # total 4
WORSE = phq9(2, 2, 2, 2, 1, 1, 1, 1, 0)  # total 12: reliably worse than 4


async def test_an_endorsed_risk_item_raises_one_high_risk_alert_with_its_evidence(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)

    stored = await clinic.store(who, dyad, "phq-9", 1, RISK, key="k-1")
    await clinic.store(who, dyad, "phq-9", 1, RISK, key="k-1")  # a retry raises nothing

    [alert] = (await clinic.alerts.find(who, None, 50)).items
    assert (alert.kind, alert.severity, alert.status) == (
        AlertKind.RISK, Severity.HIGH, AlertStatus.OPEN,
    )  # fmt: skip
    assert alert.dyad_id == dyad.id
    assert alert.evidence["administration_id"] == stored.body["id"]
    assert alert.evidence["items"] == ["9"]
    assert [e.object_id for e in clinic.events("alert.raise")] == [str(alert.id)]


async def test_the_same_evidence_evaluated_again_raises_nothing_new(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, RISK)
    [administration] = clinic.stored()
    definition = clinic.instruments.get("phq-9")

    def again(store: FakeStore) -> list[object]:
        context = store.dyad_context(who.tenant_id, dyad.id)
        assert context is not None
        return list(
            raise_alerts(store, who, administration, definition, clinic.instruments,
                         clinic.rules, context)
        )  # fmt: skip

    assert await clinic.transact(again) == []  # type: ignore[arg-type]
    assert len(clinic.database.rows("alerts")) == 1


async def test_a_deterioration_is_raised_once_for_the_episode_not_at_every_session(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, MILD)
    await clinic.store(who, dyad, "phq-9", 2, WORSE)
    await clinic.store(who, dyad, "phq-9", 3, WORSE)

    [alert] = (await clinic.alerts.find(who, None, 50, kind=AlertKind.DETERIORATION)).items
    assert (alert.severity, alert.evidence["session"], alert.evidence["first_session"]) == (
        Severity.HIGH, 2, 1,
    )  # fmt: skip


async def test_a_discordant_pair_raises_a_discordance_alert_when_its_second_form_arrives(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    client = await clinic.store(who, dyad, "wai-sr", 1, wai(60))
    assert (await clinic.alerts.find(who, None, 50, kind=AlertKind.DISCORDANCE)).items == []
    therapist = await clinic.store(who, dyad, "wai-sr-t", 1, wai(24))

    [alert] = (await clinic.alerts.find(who, None, 50, kind=AlertKind.DISCORDANCE)).items
    assert alert.evidence["client_administration_id"] == client.body["id"]
    assert alert.evidence["therapist_administration_id"] == therapist.body["id"]
    assert alert.evidence["difference"] == 36


async def test_acknowledge_then_resolve_each_once_recording_who_and_why(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, RISK)
    [alert] = (await clinic.alerts.find(who, None, 50)).items

    seen = await clinic.alerts.transition(who, alert.id, AlertStatus.ACKNOWLEDGED, "called")
    with pytest.raises(Conflict):
        await clinic.alerts.transition(who, alert.id, AlertStatus.ACKNOWLEDGED, None)
    done = await clinic.alerts.transition(who, alert.id, AlertStatus.RESOLVED, "safety plan")
    with pytest.raises(Conflict):
        await clinic.alerts.transition(who, alert.id, AlertStatus.RESOLVED, None)

    assert (seen.status, seen.acknowledged_by, seen.acknowledged_note) == (
        AlertStatus.ACKNOWLEDGED, str(who.key_id), "called",
    )  # fmt: skip
    assert seen.acknowledged_at is not None
    assert (done.status, done.resolved_note, done.acknowledged_note) == (
        AlertStatus.RESOLVED, "safety plan", "called",
    )  # fmt: skip
    assert await clinic.alerts.get(who, alert.id) == done
    assert [e.outcome for e in clinic.events("alert.acknowledge")] == [
        Outcome.SUCCESS, Outcome.CONFLICT,
    ]  # fmt: skip
    assert [e.outcome for e in clinic.events("alert.resolve")] == [
        Outcome.SUCCESS, Outcome.CONFLICT,
    ]  # fmt: skip


async def test_an_open_alert_may_be_resolved_without_acknowledgement(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, RISK)
    [alert] = (await clinic.alerts.find(who, None, 50)).items

    await clinic.alerts.transition(who, alert.id, AlertStatus.RESOLVED, None)

    assert (await clinic.alerts.find(who, None, 50, frozenset({AlertStatus.OPEN}))).items == []
    resolved = await clinic.alerts.find(who, None, 50, frozenset({AlertStatus.RESOLVED}))
    assert [a.id for a in resolved.items] == [alert.id]


async def test_another_tenant_can_neither_see_nor_change_an_alert(clinic: Clinic) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    dyad = await clinic.dyad(a)
    await clinic.store(a, dyad, "phq-9", 1, RISK)
    [alert] = (await clinic.alerts.find(a, None, 50)).items

    assert (await clinic.alerts.find(b, None, 50)).items == []
    with pytest.raises(NotFound):
        await clinic.alerts.get(b, alert.id)
    with pytest.raises(NotFound):
        await clinic.alerts.transition(b, alert.id, AlertStatus.RESOLVED, None)
    with pytest.raises(NotFound):
        await clinic.alerts.transition(a, uuid.uuid4(), AlertStatus.RESOLVED, None)
    assert (await clinic.alerts.get(a, alert.id)).status is AlertStatus.OPEN


async def test_a_read_only_key_cannot_change_an_alert(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, RISK)
    [alert] = (await clinic.alerts.find(who, None, 50)).items
    reader = await clinic.principal("clinic-a", Scope.READ)

    with pytest.raises(Forbidden):
        await clinic.alerts.transition(reader, alert.id, AlertStatus.ACKNOWLEDGED, None)
    assert (await clinic.alerts.get(reader, alert.id)).status is AlertStatus.OPEN


async def test_alerts_come_with_their_patients(clinic: Clinic) -> None:
    who = await clinic.principal()
    first, second = await clinic.dyad(who), await clinic.dyad(who)
    await clinic.store(who, first, "phq-9", 1, RISK)
    await clinic.store(who, second, "phq-9", 1, RISK)
    alerts = (await clinic.alerts.find(who, None, 50)).items

    paired = await clinic.alerts.with_patients(who, alerts)

    assert {(a.dyad_id, p.id if p else None) for a, p in paired} == {
        (first.id, first.patient_id), (second.id, second.patient_id),
    }  # fmt: skip
