"""Storing an administration: scored, stored once per request, in one audited transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.app.administrations import MAX_SESSION, NewAdministration
from service.app.instruments import InstrumentService
from service.app.rules import ClinicalRules
from service.domain.errors import (
    IdempotencyKeyReused,
    InstrumentNotFound,
    InvalidResponses,
    NotFound,
    ValidationFailed,
)
from service.domain.instruments.model import Population, Respondent
from service.domain.records import Outcome, Scope
from service.domain.series_summary import STALE
from tests.unit.app.conftest import Clinic, at, phq9
from tests.unit.fakes import FakeStore, StoredResponse

MODERATE = phq9(2, 2, 1, 1, 1, 1, 1, 1, 0)  # total 10


async def test_an_administration_is_scored_stored_and_audited_in_one_transaction(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    commits = clinic.transact.commits

    submitted = await clinic.store(who, dyad, "phq-9", 1, MODERATE)

    assert (submitted.status_code, submitted.replayed) == (201, False)
    body = submitted.body
    assert (body["instrument"], body["session"], body["respondent"]) == ("phq-9", 1, "client")
    assert (body["score"]["total"], body["score"]["band"]) == (10, "moderate")
    [stored] = clinic.stored()
    assert str(stored.id) == body["id"]
    assert stored.responses == MODERATE
    assert stored.completed_at == at(1)
    assert clinic.transact.commits == commits + 1
    assert [e.object_id for e in clinic.events("administration.create")] == [body["id"]]
    listed = await clinic.administrations.find(who, dyad.id, None, 50)
    assert [a.id for a in listed.items] == [stored.id]


async def test_the_patients_population_picks_the_cut_offs_unless_the_request_names_one(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who, Population.ADOLESCENT)

    own = await clinic.store(who, dyad, "phq-9", 1, MODERATE)
    named = await clinic.administrations.submit(
        who, NewAdministration(dyad.id, "phq-9", 2, MODERATE, population=Population.ADULT)
    )

    assert own.body["score"]["provenance"]["population"] == "adolescent"
    assert named.body["score"]["provenance"]["population"] == "adult"


async def test_a_retry_with_the_same_key_and_body_replays_the_answer_and_stores_nothing(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)

    first = await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")
    again = await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")

    assert again.replayed
    assert not first.replayed
    assert (again.status_code, again.body) == (first.status_code, first.body)
    assert len(clinic.stored()) == 1
    assert [e.outcome for e in clinic.events("administration.replay")] == [Outcome.SUCCESS]


async def test_the_same_key_with_another_body_is_refused_and_stores_nothing(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")

    with pytest.raises(IdempotencyKeyReused) as raised:
        await clinic.store(who, dyad, "phq-9", 2, MODERATE, key="k-1")

    assert [e.field for e in raised.value.errors] == ["Idempotency-Key"]
    assert len(clinic.stored()) == 1
    assert [e.outcome for e in clinic.events("administration.create")] == [
        Outcome.SUCCESS, Outcome.INVALID,
    ]  # fmt: skip


async def test_keys_belong_to_a_tenant(clinic: Clinic) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    ours, theirs = await clinic.dyad(a), await clinic.dyad(b)

    await clinic.store(a, ours, "phq-9", 1, MODERATE, key="k-1")
    other = await clinic.store(b, theirs, "phq-9", 1, MODERATE, key="k-1")

    assert not other.replayed
    assert len(clinic.stored()) == 2


async def test_a_retry_that_loses_the_race_for_its_key_replays_the_winners_answer(
    clinic: Clinic,
) -> None:
    """Two copies of one request at once: both read the key as unused, the first commits,
    and the second's claim of the key fails on its unique key; the second then answers what
    the first stored, and the administration is stored once."""
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    winner = await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-0")
    fingerprint = clinic.database.tables["idempotency_keys"][(who.tenant_id, "k-0")].request_hash

    def concurrent_copy(store: FakeStore) -> None:  # the same request, committed first
        store.store_response(who.tenant_id, "k-1", fingerprint, 201, winner.body, at(1))

    clinic.transact.meanwhile(concurrent_copy)  # type: ignore[arg-type]
    rollbacks = clinic.transact.rollbacks
    loser = await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")

    assert loser.replayed
    assert loser.body == winner.body
    assert clinic.transact.rollbacks == rollbacks + 1
    assert len(clinic.stored()) == 1  # the loser's administration was rolled back


async def test_a_different_request_that_loses_the_race_for_its_key_is_refused(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)

    def other_request(store: FakeStore) -> None:
        store.store_response(who.tenant_id, "k-1", "another-hash", 201, {"id": "x"}, at(1))

    clinic.transact.meanwhile(other_request)  # type: ignore[arg-type]
    with pytest.raises(IdempotencyKeyReused):
        await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")
    assert clinic.stored() == []
    assert clinic.database.tables["idempotency_keys"][(who.tenant_id, "k-1")] == StoredResponse(
        "another-hash", 201, {"id": "x"}
    )


async def test_a_key_used_before_replays_even_when_the_dyad_is_not_there(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    first = await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")
    clinic.database.tables["dyads"].clear()  # e.g. a request naming the dyad another way

    again = await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-1")
    assert again.replayed
    assert again.body == first.body
    with pytest.raises(NotFound):
        await clinic.store(who, dyad, "phq-9", 1, MODERATE, key="k-2")


async def test_a_dyad_of_another_tenant_is_not_found_and_nothing_is_written(
    clinic: Clinic,
) -> None:
    a, b = await clinic.principal("clinic-a"), await clinic.principal("clinic-b")
    dyad = await clinic.dyad(a)

    with pytest.raises(NotFound):
        await clinic.store(b, dyad, "phq-9", 1, MODERATE, key="k-1")

    assert clinic.stored() == []
    assert clinic.database.rows("sessions") == []
    assert clinic.database.rows("idempotency_keys") == []
    [event] = clinic.events("administration.create")
    assert (event.tenant_id, event.outcome) == (b.tenant_id, Outcome.NOT_FOUND)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"session": 0}, ["session"]),
        ({"session": MAX_SESSION + 1}, ["session"]),
        ({"respondent": Respondent.THERAPIST}, ["respondent"]),
        ({"respondent": Respondent.THERAPIST, "session": -1}, ["respondent", "session"]),
        ({"completed_at": datetime.now(UTC) + timedelta(hours=1)}, ["completed_at"]),
        ({"completed_at": datetime(1899, 12, 31, tzinfo=UTC)}, ["completed_at"]),
    ],
)
async def test_an_administration_that_does_not_fit_its_instrument_is_refused_unwritten(
    clinic: Clinic, change: dict[str, object], fields: list[str]
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    commits = clinic.transact.commits
    new = NewAdministration(dyad.id, "phq-9", 1, MODERATE)

    with pytest.raises(ValidationFailed) as raised:
        await clinic.administrations.submit(who, NewAdministration(**{**_fields(new), **change}))

    assert [e.field for e in raised.value.errors] == fields
    # Refused before the write: the one transaction is the refusal's audit event.
    assert clinic.transact.commits == commits + 1
    assert clinic.stored() == []
    [event] = clinic.events("administration.create")
    assert (event.outcome, event.detail) == (Outcome.INVALID, "validation-failed")
    assert raised.value.audited


async def test_answers_that_do_not_fit_are_refused_naming_the_item(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)

    with pytest.raises(InvalidResponses) as raised:
        await clinic.store(who, dyad, "phq-9", 1, {**MODERATE, "3": 4, "99": 1})
    with pytest.raises(InstrumentNotFound):
        await clinic.store(who, dyad, "phq-10", 1, MODERATE)

    assert {e.field for e in raised.value.errors} == {"3", "99"}
    assert clinic.stored() == []


async def test_sessions_are_created_once_per_number_and_shared_by_their_administrations(
    clinic: Clinic,
) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)

    await clinic.store(who, dyad, "phq-9", 1, MODERATE)
    await clinic.store(who, dyad, "gad-7", 1, {str(i): 1 for i in range(1, 8)})
    await clinic.administrations.submit(
        who, NewAdministration(dyad.id, "phq-9", MAX_SESSION, MODERATE)
    )

    assert sorted(s.number for s in clinic.database.rows("sessions")) == [1, MAX_SESSION]
    assert sorted(a.session for a in clinic.stored()) == [1, 1, MAX_SESSION]


async def test_listing_filters_by_instrument_and_refuses_an_unknown_one(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    await clinic.store(who, dyad, "phq-9", 1, MODERATE)
    await clinic.store(who, dyad, "gad-7", 1, {str(i): 1 for i in range(1, 8)})

    page = await clinic.administrations.find(who, dyad.id, None, 50, "gad-7")
    assert [a.instrument for a in page.items] == ["gad-7"]
    with pytest.raises(InstrumentNotFound):
        await clinic.administrations.find(who, dyad.id, None, 50, "nope")
    other = await clinic.principal("clinic-b")
    with pytest.raises(NotFound):
        await clinic.administrations.find(other, dyad.id, None, 50)


async def test_a_failure_after_the_writes_rolls_back_the_administration_and_its_audit(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit event is written in the transaction of the change, so it disappears with
    it: no event claims an administration that was never stored."""
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    before = list(clinic.database.audit_events)

    def broken(self: FakeStore, *args: object) -> bool:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(FakeStore, "add_alert", broken)
    with pytest.raises(RuntimeError):
        await clinic.store(who, dyad, "phq-9", 1, phq9(3, 3, 3, 3, 3, 3, 3, 3, 3), key="k-1")

    assert clinic.stored() == []
    assert clinic.database.rows("sessions") == []
    assert clinic.database.rows("idempotency_keys") == []
    assert clinic.database.audit_events == before


async def test_a_read_only_key_cannot_store(clinic: Clinic) -> None:
    who = await clinic.principal()
    dyad = await clinic.dyad(who)
    reader = await clinic.principal("clinic-a", Scope.READ)

    with pytest.raises(Exception, match="write"):
        await clinic.store(reader, dyad, "phq-9", 1, MODERATE)
    assert clinic.stored() == []


async def test_with_alerts_off_a_stored_administration_marks_the_series_summary_stale(
    instruments: InstrumentService,
) -> None:
    on = Clinic(instruments)
    who = await on.principal()
    dyad = await on.dyad(who)
    await on.store(who, dyad, "phq-9", 1, MODERATE)
    [summary] = on.database.rows("series_summaries")
    assert summary.saved.rules_key != STALE

    off = Clinic(instruments, ClinicalRules(alerts_enabled=False), on.transact)
    await off.store(who, dyad, "phq-9", 2, phq9(3, 3, 3, 3, 3, 3, 3, 3, 3))

    [summary] = off.database.rows("series_summaries")
    assert summary.saved.rules_key == STALE
    assert off.database.rows("alerts") == []


def _fields(new: NewAdministration) -> dict[str, object]:
    return {name: getattr(new, name) for name in NewAdministration.__slots__}  # type: ignore[attr-defined]
