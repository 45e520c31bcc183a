"""Progress, concordance and calibration, read from what was stored."""

from __future__ import annotations

import uuid

import pytest

from service.app.records import NewPractitioner
from service.domain.errors import NotFound, ValidationFailed
from service.domain.progress import Classification, ReliableChangeLabel
from service.domain.records import Outcome
from tests.unit.app.conftest import Clinic, phq9, wai

SEVERE = phq9(3, 3, 3, 3, 2, 2, 2, 2, 0)  # total 20
MILD = phq9(1, 1, 1, 1, 0, 0, 0, 0, 0)  # total 4
MODERATE = phq9(2, 2, 1, 1, 1, 1, 1, 1, 0)  # total 10


async def test_progress_measures_change_from_the_first_session_and_classifies_the_episode(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    for session, answers in [(1, SEVERE), (2, MODERATE), (3, MILD)]:
        await clinic.store(who, dyad, "phq-9", session, answers)

    view = await clinic.insights.progress(who, dyad.id, "phq-9")

    points = view.progress.points
    assert [(p.session, p.total, p.change) for p in points] == [
        (1, 20, 0), (2, 10, -10), (3, 4, -16),
    ]  # fmt: skip
    assert points[-1].reliable_change is ReliableChangeLabel.IMPROVED
    assert view.progress.classification is Classification.RECOVERED
    assert view.nhs_talking_therapies is not None  # PHQ-9 pairs with GAD-7 (not yet given)
    assert [e.object_id for e in clinic.events("progress.read")] == [str(dyad.id)]


async def test_a_re_administration_in_the_same_session_supersedes_the_first(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, SEVERE)
    await clinic.store(who, dyad, "phq-9", 2, MODERATE, minutes=0)
    await clinic.store(who, dyad, "phq-9", 2, MILD, minutes=30)  # re-taken later that day

    view = await clinic.insights.progress(who, dyad.id, "phq-9")

    assert [(p.session, p.total) for p in view.progress.points] == [(1, 20), (2, 4)]
    assert len(clinic.stored()) == 3  # both are kept; progress reads the later one


async def test_progress_of_an_unknown_or_foreign_dyad_is_not_found_and_audited(
    clinic: Clinic,
) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    dyad = await clinic.dyad(a)
    await clinic.store(a, dyad, "phq-9", 1, SEVERE)

    with pytest.raises(NotFound):
        await clinic.insights.progress(b, dyad.id, "phq-9")
    with pytest.raises(NotFound):
        await clinic.insights.progress(a, uuid.uuid4(), "phq-9")
    assert [e.outcome for e in clinic.events("progress.read")] == [Outcome.NOT_FOUND] * 2


async def test_concordance_pairs_the_client_and_therapist_forms_of_each_session(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "wai-sr", 1, wai(48))
    await clinic.store(who, dyad, "wai-sr-t", 1, wai(44))
    await clinic.store(who, dyad, "wai-sr", 2, wai(60))
    await clinic.store(who, dyad, "wai-sr-t", 2, wai(24))
    await clinic.store(who, dyad, "wai-sr", 3, wai(50))  # no therapist form: no pair

    view = await clinic.insights.concordance(who, dyad.id, "wai-sr")

    found = [(p.session, p.client, p.therapist, p.difference, p.discordant) for p in view.sessions]
    assert found == [(1, 48, 44, 4, False), (2, 60, 24, 36, True)]
    assert view.summary.n == 2
    assert view.summary.bias == 20
    assert view.therapist_form.id == "wai-sr-t"


async def test_concordance_needs_the_client_form_of_a_pair(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)

    for form in ("phq-9", "wai-sr-t"):
        with pytest.raises(ValidationFailed) as raised:
            await clinic.insights.concordance(who, dyad.id, form)
        assert [e.code for e in raised.value.errors] == ["not-a-client-form"]
    with pytest.raises(NotFound):
        await clinic.insights.concordance(who, uuid.uuid4(), "wai-sr")


async def test_calibration_compares_a_practitioners_ratings_with_their_clients_across_dyads(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    practitioner = await clinic.records.create_practitioner(who, NewPractitioner("npi-1"))
    first = await clinic.dyad(who, practitioner=practitioner.id)
    second = await clinic.dyad(who, practitioner=practitioner.id)
    elsewhere = await clinic.dyad(who)  # another practitioner's: not counted
    gaps = {first: [19, 21, 20], second: [20, 20]}  # client minus therapist, per session
    for dyad, differences in gaps.items():
        for session, d in enumerate(differences, 1):
            await clinic.store(who, dyad, "wai-sr", session, wai(50))
            await clinic.store(who, dyad, "wai-sr-t", session, wai(50 - d))
    await clinic.store(who, elsewhere, "wai-sr", 1, wai(12))
    await clinic.store(who, elsewhere, "wai-sr-t", 1, wai(60))
    reads = clinic.transact.read_only_calls

    [haq, wai_sr] = sorted(
        await clinic.insights.calibration(who, practitioner.id), key=lambda c: c.client_form
    )

    assert (haq.client_form, haq.dyads, haq.bias) == ("haq-ii", 0, None)
    assert (wai_sr.client_form, wai_sr.therapist_form) == ("wai-sr", "wai-sr-t")
    assert (wai_sr.dyads, wai_sr.pairs, wai_sr.bias) == (2, 5, 20)
    assert wai_sr.per_dyad == {first.id: 20, second.id: 20}
    # Clients rate 20 points above this therapist, far beyond the expected 5.3.
    assert wai_sr.tendency == "therapist-lower-than-expected"
    assert clinic.transact.read_only_calls == reads + 1  # a read: beside the writer on SQLite
    assert [e.object_id for e in clinic.events("calibration.read")] == [str(practitioner.id)]


async def test_calibration_of_an_unknown_or_foreign_practitioner_is_not_found(
    clinic: Clinic,
) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    dyad = await clinic.dyad(a)

    with pytest.raises(NotFound):
        await clinic.insights.calibration(b, dyad.practitioner_id)
    with pytest.raises(NotFound):
        await clinic.insights.calibration(a, uuid.uuid4())
