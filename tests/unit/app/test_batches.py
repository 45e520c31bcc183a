"""Batched reads (GraphQL DataLoaders): one transaction, the tenant's objects, each audited."""

from __future__ import annotations

import uuid

from service.domain.alerts import AlertStatus
from tests.unit.app.conftest import Clinic, phq9


async def test_a_batch_returns_only_the_callers_objects_and_audits_each(clinic: Clinic) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    ours, theirs = await clinic.dyad(a), await clinic.dyad(b)
    commits = clinic.transact.commits

    found = await clinic.batches.dyads(a, [ours.id, theirs.id, uuid.uuid4()])

    assert found == {ours.id: ours}
    assert clinic.transact.commits == commits + 1
    assert [e.object_id for e in clinic.events("dyad.read")] == [str(ours.id)]


async def test_administrations_and_alerts_are_grouped_by_dyad(clinic: Clinic) -> None:
    who = await clinic.principal()
    first, second = await clinic.dyad(who), await clinic.dyad(who)
    await clinic.store(who, first, "phq-9", 1, phq9(1, 1, 1, 1, 1, 1, 1, 1, 2))
    await clinic.store(who, first, "phq-9", 2, phq9(0, 0, 0, 0, 0, 0, 0, 0, 0))

    administrations = await clinic.batches.administrations(who, [first.id, second.id])
    alerts = await clinic.batches.alerts(who, [first.id, second.id], frozenset({AlertStatus.OPEN}))

    assert sorted(a.session for a in administrations[first.id]) == [1, 2]  # ids: to the ms
    assert administrations[second.id] == []
    assert [a.kind for a in alerts[first.id]] == ["risk"]
    assert alerts[second.id] == []
