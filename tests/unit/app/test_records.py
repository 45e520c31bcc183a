"""Patients, practitioners and dyads: created and read within one tenant, always audited."""

from __future__ import annotations

from datetime import date

import pytest

from service.app.records import NewDyad, NewPatient, NewPractitioner
from service.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.domain.instruments.model import Population
from service.domain.records import Outcome, Scope
from tests.unit.app.conftest import Clinic


async def test_a_created_patient_is_stored_in_the_callers_tenant_and_audited(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    patient = await clinic.records.create_patient(who, NewPatient("mrn-1", Population.ADOLESCENT))

    assert patient.tenant_id == who.tenant_id
    assert await clinic.records.patient(who, patient.id) == patient
    assert clinic.database.rows("patients") == [patient]
    [event] = clinic.events("patient.create")
    assert (event.outcome, event.object_id, event.actor) == (
        Outcome.SUCCESS, str(patient.id), str(who.key_id),
    )  # fmt: skip


async def test_a_second_patient_with_the_same_external_id_is_a_conflict_naming_the_first(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    first = await clinic.records.create_patient(who, NewPatient("mrn-1"))

    with pytest.raises(Conflict) as raised:
        await clinic.records.create_patient(who, NewPatient("mrn-1"))

    assert raised.value.existing_id == str(first.id)
    assert clinic.database.rows("patients") == [first]
    assert [e.detail for e in clinic.events("patient.create", Outcome.CONFLICT)] == ["conflict"]


async def test_external_ids_are_unique_per_tenant_not_across_tenants(clinic: Clinic) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    await clinic.records.create_patient(a, NewPatient("mrn-1"))
    await clinic.records.create_patient(b, NewPatient("mrn-1"))
    await clinic.records.create_practitioner(a, NewPractitioner("npi-1"))
    await clinic.records.create_practitioner(b, NewPractitioner("npi-1"))

    assert len(clinic.database.rows("patients")) == 2
    assert len(clinic.database.rows("practitioners")) == 2


@pytest.mark.parametrize("external_id", ["", " padded", "x" * 201, "tab\there"])
async def test_a_malformed_external_id_is_refused_before_anything_is_stored(
    clinic: Clinic, external_id: str
) -> None:
    who = await clinic.principal()
    with pytest.raises(ValidationFailed) as raised:
        await clinic.records.create_patient(who, NewPatient(external_id))
    assert [e.field for e in raised.value.errors] == ["external_id"]
    assert clinic.database.rows("patients") == []


async def test_a_dyad_pairs_a_patient_with_a_practitioner(clinic: Clinic) -> None:
    who = await clinic.principal()
    patient = await clinic.records.create_patient(who, NewPatient("mrn-1"))
    practitioner = await clinic.records.create_practitioner(who, NewPractitioner("npi-1", "Dr A"))

    dyad = await clinic.records.create_dyad(
        who, NewDyad(patient.id, practitioner.id, date(2026, 1, 1))
    )

    assert (dyad.patient_id, dyad.practitioner_id, dyad.started_on) == (
        patient.id, practitioner.id, date(2026, 1, 1),
    )  # fmt: skip
    assert await clinic.records.dyad(who, dyad.id) == dyad
    page = await clinic.records.dyads(who, None, 10, practitioner_id=practitioner.id)
    assert page.items == [dyad]
    assert [e.object_id for e in clinic.events("dyad.create")] == [str(dyad.id)]


async def test_a_dyad_naming_unknown_people_lists_each_and_stores_nothing(clinic: Clinic) -> None:
    who = await clinic.principal()
    patient = await clinic.records.create_patient(who, NewPatient("mrn-1"))
    practitioner = await clinic.records.create_practitioner(who, NewPractitioner("npi-1"))

    with pytest.raises(ValidationFailed) as raised:
        await clinic.records.create_dyad(who, NewDyad(practitioner.id, patient.id))

    assert {(e.field, e.code) for e in raised.value.errors} == {
        ("patient_id", "unknown-patient"), ("practitioner_id", "unknown-practitioner"),
    }  # fmt: skip
    assert clinic.database.rows("dyads") == []
    assert [e.outcome for e in clinic.events("dyad.create")] == [Outcome.INVALID]


async def test_an_episode_ending_before_it_starts_is_refused(clinic: Clinic) -> None:
    who = await clinic.principal()
    patient = await clinic.records.create_patient(who, NewPatient("mrn-1"))
    practitioner = await clinic.records.create_practitioner(who, NewPractitioner("npi-1"))

    with pytest.raises(ValidationFailed) as raised:
        await clinic.records.create_dyad(
            who, NewDyad(patient.id, practitioner.id, date(2026, 2, 1), date(2026, 1, 1))
        )
    assert [e.code for e in raised.value.errors] == ["before-start"]
    assert clinic.database.rows("dyads") == []


async def test_another_tenants_records_are_not_found_and_never_listed(clinic: Clinic) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    dyad = await clinic.dyad(a)

    with pytest.raises(NotFound):
        await clinic.records.patient(b, dyad.patient_id)
    with pytest.raises(NotFound):
        await clinic.records.practitioner(b, dyad.practitioner_id)
    with pytest.raises(NotFound):
        await clinic.records.dyad(b, dyad.id)
    assert (await clinic.records.patients(b, None, 50)).items == []
    assert (await clinic.records.practitioners(b, None, 50)).items == []
    assert (await clinic.records.dyads(b, None, 50)).items == []
    # ... nor can they be paired with the other tenant's people.
    own = await clinic.records.create_practitioner(b, NewPractitioner("npi-b"))
    with pytest.raises(ValidationFailed):
        await clinic.records.create_dyad(b, NewDyad(dyad.patient_id, own.id))
    # The refusals are audited in the refused caller's tenant.
    assert {e.tenant_id for e in clinic.events(outcome=Outcome.NOT_FOUND)} == {b.tenant_id}


async def test_lists_page_oldest_first_with_an_opaque_cursor(clinic: Clinic) -> None:
    who = await clinic.principal()
    made = [await clinic.records.create_patient(who, NewPatient(f"mrn-{i}")) for i in range(5)]

    first = await clinic.records.patients(who, None, 2)
    second = await clinic.records.patients(who, first.next_cursor, 2)
    last = await clinic.records.patients(who, second.next_cursor, 2)

    # Ids are time-ordered to the millisecond: the pages follow the ids, without a gap.
    assert [p.id for p in first.items + second.items + last.items] == sorted(p.id for p in made)
    assert last.next_cursor is None
    with pytest.raises(ValidationFailed):
        await clinic.records.patients(who, "not-a-cursor!", 2)


async def test_a_read_only_key_cannot_create_and_the_refusal_is_audited(clinic: Clinic) -> None:
    reader = await clinic.principal("clinic-a", Scope.READ)

    with pytest.raises(Forbidden):
        await clinic.records.create_patient(reader, NewPatient("mrn-1"))

    assert clinic.database.rows("patients") == []
    [event] = clinic.events("patient.create")
    assert (event.outcome, event.object_type, event.object_id) == (
        Outcome.DENIED, "scope", "write",
    )  # fmt: skip


async def test_the_dyad_of_a_pair_is_found_by_the_ehr_identifiers(clinic: Clinic) -> None:
    who = await clinic.principal()
    patient = await clinic.records.create_patient(who, NewPatient("mrn-1"))
    practitioner = await clinic.records.create_practitioner(who, NewPractitioner("npi-1"))

    with pytest.raises(ValidationFailed) as none:
        await clinic.records.dyad_of_pair(who, "mrn-1", "npi-1")
    dyad = await clinic.records.create_dyad(who, NewDyad(patient.id, practitioner.id))
    assert await clinic.records.dyad_of_pair(who, "mrn-1", "npi-1") == dyad
    await clinic.records.create_dyad(who, NewDyad(patient.id, practitioner.id))
    with pytest.raises(ValidationFailed) as two:
        await clinic.records.dyad_of_pair(who, "mrn-1", "npi-1")

    assert [e.code for e in none.value.errors] == ["no-dyad"]
    assert [e.code for e in two.value.errors] == ["dyad-ambiguous"]
