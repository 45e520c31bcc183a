"""Calibration reads per-dyad summaries that the writes keep (service.app.alliance_summaries):
whatever is stored, re-taken or voided, it answers what a computation over every stored
administration answers, and a rebuild from the administrations finds the same summaries."""

from __future__ import annotations

import asyncio
import math
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from service.app.alliance_summaries import AllianceSummaries
from service.app.instruments import InstrumentService
from service.app.records import NewPractitioner
from service.domain.progress import Observation, latest_per_session
from service.domain.records import Administration, Dyad, Principal
from tests.unit.app.conftest import START as T0
from tests.unit.app.conftest import Clinic, wai

FORMS = ("wai-sr", "wai-sr-t")


async def _wai(clinic: Clinic, who: Principal, practitioner: uuid.UUID) -> list[float]:
    [calibration] = [
        c for c in await clinic.insights.calibration(who, practitioner) if c.client_form == "wai-sr"
    ]
    return [calibration.dyads, calibration.pairs, calibration.bias, calibration.spread]


async def _practitioners_dyad(clinic: Clinic) -> tuple[Principal, uuid.UUID, Dyad]:
    """A caller, a practitioner, and a dyad of that practitioner's."""
    who = await clinic.principal()
    practitioner = (await clinic.records.create_practitioner(who, NewPractitioner("t-1"))).id
    return who, practitioner, await clinic.dyad(who, practitioner=practitioner)


async def test_a_retaken_form_replaces_the_sessions_difference_and_a_void_restores_it(
    clinic: Clinic,
) -> None:
    who, practitioner, dyad = await _practitioners_dyad(clinic)
    await clinic.store(who, dyad, "wai-sr", 1, wai(50))
    assert await _wai(clinic, who, practitioner) == [0, 0, None, None]  # not paired yet
    therapist = await clinic.store(who, dyad, "wai-sr-t", 1, wai(40))
    assert await _wai(clinic, who, practitioner) == [1, 1, 10, None]

    retake = await clinic.store(who, dyad, "wai-sr", 1, wai(44), minutes=30)
    assert await _wai(clinic, who, practitioner) == [1, 1, 4, None]

    await clinic.corrections.void(who, retake.administration.id, "wrong patient")
    assert await _wai(clinic, who, practitioner) == [1, 1, 10, None]
    await clinic.corrections.void(who, therapist.administration.id, "wrong session")
    assert await _wai(clinic, who, practitioner) == [0, 0, None, None]


# One step: store a form (dyad, session, which form, total, minutes after the session) or
# void the n-th stored administration (modulo how many there are).
stores = st.tuples(
    st.integers(0, 2), st.integers(1, 4), st.sampled_from(FORMS), st.integers(12, 60),
    st.integers(0, 2),
)  # fmt: skip
steps = st.lists(st.one_of(stores, st.integers(0, 40)), min_size=1, max_size=25)


def _reference(
    stored: list[Administration], dyads: list[uuid.UUID]
) -> dict[uuid.UUID, list[float]]:
    """Each dyad's differences computed from every stored administration, as calibration
    did before summaries (latest per session of each form, voided ones left out)."""
    result = {}
    for dyad in dyads:
        forms: dict[str, list[Observation]] = {name: [] for name in FORMS}
        for a in sorted(stored, key=lambda a: a.id):
            if a.dyad_id == dyad and a.instrument in FORMS and a.voided is None:
                total = a.score.get("total")
                forms[a.instrument].append(Observation(a.id, a.session, a.completed_at, total))
        c = {o.session: o.total for o in latest_per_session(forms["wai-sr"])}
        t = {o.session: o.total for o in latest_per_session(forms["wai-sr-t"])}
        diffs = [cs - ts for s, cs in c.items() if cs is not None and (ts := t.get(s)) is not None]
        if diffs:
            result[dyad] = diffs
    return result


@settings(max_examples=60, deadline=None)
@given(steps)
def test_calibration_from_summaries_answers_what_every_administration_does(
    instruments: InstrumentService, plan: list[object]
) -> None:
    asyncio.run(_check_against_every_administration(Clinic(instruments), plan))


async def _check_against_every_administration(clinic: Clinic, plan: list[object]) -> None:
    who = await clinic.principal()
    practitioner = (await clinic.records.create_practitioner(who, NewPractitioner("t-1"))).id
    dyads = [await clinic.dyad(who, practitioner=practitioner) for _ in range(3)]
    for step in plan:
        if isinstance(step, tuple):
            d, session, form, total, minutes = step
            await clinic.store(who, dyads[d], form, session, wai(total), minutes=minutes)
        elif clinic.stored():
            chosen = clinic.stored()[int(str(step)) % len(clinic.stored())]
            await clinic.corrections.void(who, chosen.id, "entered in error")

    expected = _reference(clinic.stored(), [d.id for d in dyads])
    [calibration] = [
        c for c in await clinic.insights.calibration(who, practitioner) if c.client_form == "wai-sr"
    ]
    assert set(calibration.per_dyad) == set(expected)
    for dyad, diffs in expected.items():
        assert calibration.per_dyad[dyad] == round(math.fsum(diffs) / len(diffs), 6)
        assert calibration.per_dyad_spread[dyad][0] == len(diffs)
    every = [d for diffs in expected.values() for d in diffs]
    assert calibration.pairs == len(every)
    if every:
        assert calibration.bias is not None
        assert abs(calibration.bias - math.fsum(every) / len(every)) < 1e-6

    # A rebuild from the administrations finds what the writes kept, row for row.
    kept = {t: dict(clinic.database.tables[t]) for t in ("alliance_pairs", "alliance_summaries")}
    await clinic.transact(AllianceSummaries(clinic.instruments).rebuild)
    for table, rows in kept.items():
        live = {k: r.value for k, r in rows.items() if r.value is not None}
        rebuilt = {
            k: r.value for k, r in clinic.database.tables[table].items() if r.value is not None
        }
        assert rebuilt == live, table


async def test_summaries_are_rebuilt_only_when_built_for_other_pairs_or_when_asked(
    clinic: Clinic,
) -> None:
    who, practitioner, dyad = await _practitioners_dyad(clinic)
    await clinic.store(who, dyad, "wai-sr", 1, wai(50))
    await clinic.store(who, dyad, "wai-sr-t", 1, wai(45))
    summaries = AllianceSummaries(clinic.instruments)

    assert await summaries.ensure_current(clinic.transact) is True  # never built: built now
    assert clinic.database.tables["alliance_summary_state"][1].value == summaries.key
    assert await summaries.ensure_current(clinic.transact) is False  # nothing changed
    # Summaries damaged behind the service's back are left alone until a rebuild is asked.
    await clinic.transact(lambda store: store.save_alliance_summary(who.tenant_id, dyad.id,
                                                                    "wai-sr", None))  # fmt: skip
    assert await _wai(clinic, who, practitioner) == [0, 0, None, None]
    assert await summaries.ensure_current(clinic.transact, force=True) is True
    assert await _wai(clinic, who, practitioner) == [1, 1, 5, None]
    # Another catalogue's pairs (an instrument file added one): rebuilt at the next start.
    await clinic.transact(lambda store: store.set_alliance_forms_key("alliance-summary-0", T0))
    assert await summaries.ensure_current(clinic.transact) is True
    assert await _wai(clinic, who, practitioner) == [1, 1, 5, None]
