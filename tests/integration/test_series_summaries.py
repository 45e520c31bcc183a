"""Alert evaluation keeps each dyad's series summary in the store, on SQLite and PostgreSQL.

Storing sessions in order steps the saved summary without reading the series again. A late
session, an administration stored while alerts were off (the store marks the summary
stale), or two stores stepping the same summary at once (the second marks it stale instead
of replacing the first's) make the next store read and fold the whole series. Either way
the saved summary equals the fold of the stored series, and the alerts raised are those the
full-series rules give (tests/unit/statistics/test_series_summary.py proves that
equivalence for arbitrary arrival orders).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest

from service.app.administrations import Administrations, NewAdministration
from service.app.ports import DyadContext, Store
from service.domain.records import Principal
from service.domain.series_summary import STALE, SavedSummary, SeriesSummary, fold
from service.store.repository import SqlStore
from tests.conftest import Api
from tests.integration.test_insights_api import _alerts, _dyad, _submit, phq9

_READ_SERIES = SqlStore.series  # the store's own, not counted


@pytest.fixture
def series_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The instruments whose whole series the store reads, one entry per read."""
    reads: list[str] = []

    def counted(self: SqlStore, tenant_id: uuid.UUID, dyad_id: uuid.UUID, instrument: str) -> Any:
        reads.append(instrument)
        return _READ_SERIES(self, tenant_id, dyad_id, instrument)

    monkeypatch.setattr(SqlStore, "series", counted)
    return reads


async def _principal(api: Api) -> tuple[Principal, httpx.AsyncClient]:
    token = await api.token("clinic-a")
    principal = await api.services.authenticator.authenticate(f"Bearer {token}")
    client = httpx.AsyncClient(
        transport=api.http._transport, base_url=str(api.http.base_url),
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    return principal, client


async def _saved_and_fold(
    api: Api, principal: Principal, dyad: str, instrument: str
) -> tuple[SavedSummary, SavedSummary]:
    """The saved summary, and what folding the stored series under the same rules gives."""
    definition = api.services.instruments.get(instrument)
    _, rules = api.services.settings.clinical_rules.alerting(definition)
    dyad_id = uuid.UUID(dyad)

    def read(store: Store) -> tuple[SavedSummary, SavedSummary]:
        found = store.dyad_context(principal.tenant_id, dyad_id, series_of=instrument)
        assert found is not None
        saved = found.summary
        assert saved is not None
        assert isinstance(store, SqlStore)
        series = _READ_SERIES(store, principal.tenant_id, dyad_id, instrument)
        summary, _ = fold(series, rules, uuid.uuid4())
        last = max(o.session for o in series)
        return saved, SavedSummary(rules.key, len(series), last, summary)

    return await api.services.transact(read)


async def _context(api: Api, principal: Principal, dyad: str, instrument: str) -> DyadContext:
    def read(store: Store) -> DyadContext:
        found = store.dyad_context(principal.tenant_id, uuid.UUID(dyad), series_of=instrument)
        assert found is not None
        return found

    return await api.services.transact(read)


async def test_sessions_in_order_step_the_saved_summary(api: Api, series_reads: list[str]) -> None:
    principal, client = await _principal(api)
    dyad = await _dyad(client)
    for session in range(1, 9):  # PHQ-9 12 every session
        await _submit(client, dyad, "phq-9", session, phq9(12))
    assert series_reads == ["phq-9"]  # the first store only: nothing was saved before
    saved, folded = await _saved_and_fold(api, principal, dyad, "phq-9")
    assert saved == folded
    assert (saved.administrations, saved.last_session) == (8, 8)
    assert saved.summary.track.stalled
    assert not saved.summary.track.improved
    # No reliable improvement by session 6: raised once, at session 6.
    (alert,) = await _alerts(client, dyad_id=dyad, kind="not-on-track")
    assert (alert["evidence"]["session"], alert["evidence"]["first_session"]) == (6, 1)


async def test_late_sessions_and_alerts_off_rebuild_it(api: Api, series_reads: list[str]) -> None:
    principal, client = await _principal(api)
    dyad = await _dyad(client)
    await _submit(client, dyad, "phq-9", 1, phq9(5))
    await _submit(client, dyad, "phq-9", 3, phq9(6))
    assert series_reads == ["phq-9"]
    # Session 2 arrives late, 5 -> 12: a reliable deterioration (+7 >= 6) at session 2.
    await _submit(client, dyad, "phq-9", 2, phq9(12))
    assert series_reads == ["phq-9"] * 2
    (deterioration,) = await _alerts(client, dyad_id=dyad, kind="deterioration")
    assert deterioration["evidence"]["session"] == 2
    saved, folded = await _saved_and_fold(api, principal, dyad, "phq-9")
    assert saved == folded
    assert saved.summary.track.deteriorated

    # Session 4 stored while alerts are off: the saved summary no longer covers the series.
    services = api.services
    quiet = replace(services.settings.clinical_rules, alerts_enabled=False)
    off = Administrations(services.transact, services.instruments, quiet)
    await off.submit(principal, NewAdministration(uuid.UUID(dyad), "phq-9", 4, phq9(4)))
    assert series_reads == ["phq-9"] * 2
    marked = (await _context(api, principal, dyad, "phq-9")).summary
    assert marked is not None
    assert marked.rules_key == STALE
    await _submit(client, dyad, "phq-9", 5, phq9(4))
    assert series_reads == ["phq-9"] * 3  # marked stale: read and folded again
    saved, folded = await _saved_and_fold(api, principal, dyad, "phq-9")
    assert saved == folded
    assert (saved.administrations, saved.last_session) == (5, 5)
    await _submit(client, dyad, "phq-9", 6, phq9(4))
    assert series_reads == ["phq-9"] * 3  # in order again: one step
    # Still the one deterioration; session 6 is past the not-on-track session, but 5 -> 4
    # is no reliable improvement, so not-on-track is raised there.
    assert len(await _alerts(client, dyad_id=dyad, kind="deterioration")) == 1
    (stalled,) = await _alerts(client, dyad_id=dyad, kind="not-on-track")
    assert stalled["evidence"]["session"] == 6


async def test_forms_without_series_rules_keep_no_summary(
    api: Api, series_reads: list[str]
) -> None:
    principal, client = await _principal(api)
    dyad = await _dyad(client)
    body = {str(i): 3 for i in range(1, 13)}
    await _submit(client, dyad, "wai-sr-t", 1, body)  # the therapist's form: pairs only

    found = await _context(api, principal, dyad, "wai-sr-t")
    assert (found.summary, found.summary_version) == (None, None)
    assert series_reads == []


async def test_concurrent_stores_leave_a_summary_the_next_store_corrects(
    api: Api, series_reads: list[str]
) -> None:
    # Sessions 4 to 9 of one dyad stored at once: on PostgreSQL the transactions overlap and
    # each may step the summary without seeing the others. The first to write replaces it;
    # the others find a version they did not read and mark it stale, so the next store
    # folds the whole series again.
    principal, client = await _principal(api)
    dyad = await _dyad(client)
    for session in (1, 2, 3):
        await _submit(client, dyad, "phq-9", session, phq9(20))
    await asyncio.gather(
        *(_submit(client, dyad, "phq-9", session, phq9(20)) for session in range(4, 10))
    )
    await _submit(client, dyad, "phq-9", 10, phq9(20))
    saved, folded = await _saved_and_fold(api, principal, dyad, "phq-9")
    assert saved == folded
    assert (saved.administrations, saved.last_session) == (10, 10)
    # Not-on-track was raised once. Its session depends on the interleaving, as it did when
    # every store read the whole series: a transaction sees only what has committed, so
    # session 7 may be evaluated before session 6 is visible to it.
    (stalled,) = await _alerts(client, dyad_id=dyad, kind="not-on-track")
    assert 6 <= stalled["evidence"]["session"] <= 9


async def test_a_summary_changed_since_it_was_read_is_marked_stale_not_replaced(
    api: Api,
) -> None:
    # Two stores read the same saved summary and each saves its own step of it: the first
    # replaces it; the second finds a version it did not read and marks the summary stale.
    principal, client = await _principal(api)
    dyad = await _dyad(client)
    await _submit(client, dyad, "phq-9", 1, phq9(12))
    read = await _context(api, principal, dyad, "phq-9")
    assert read.summary is not None
    assert read.summary_version is not None
    tenant, dyad_id = principal.tenant_id, uuid.UUID(dyad)
    stepped = replace(read.summary, administrations=2, last_session=2, summary=SeriesSummary())

    def save(version: uuid.UUID) -> Any:
        return lambda store: store.save_series_summary(
            tenant, dyad_id, "phq-9", stepped, version, read.summary_version
        )

    first, second = uuid.uuid4(), uuid.uuid4()
    await api.services.transact(save(first))
    after_first = await _context(api, principal, dyad, "phq-9")
    assert (after_first.summary, after_first.summary_version) == (stepped, first)
    await api.services.transact(save(second))
    after_second = await _context(api, principal, dyad, "phq-9")
    assert after_second.summary is not None
    assert after_second.summary.rules_key == STALE
    assert after_second.summary_version == second  # so a reader of the first is refused too
