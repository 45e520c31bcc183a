"""Raising alerts when an administration is stored, and their lifecycle.

Evaluation runs inside the transaction that stores the administration, so an alert exists
exactly when its evidence does; the store's unique key on (dyad, kind, evidence) makes a
re-evaluation of the same evidence raise nothing new. Every transition is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from service.app.access import read_one, read_page
from service.app.audit import audited, record
from service.app.auth import require
from service.app.instruments import InstrumentService
from service.app.pagination import Page
from service.app.ports import DyadContext, Store, Transact
from service.app.rules import ClinicalRules
from service.app.webhooks import queue_alert_event
from service.domain import text
from service.domain.alerts import (
    Alert,
    AlertKind,
    AlertStatus,
    Evidence,
    evaluate,
)
from service.domain.concordance import Rated, pair_sessions
from service.domain.errors import Conflict, NotFound
from service.domain.ids import new_id
from service.domain.instruments.model import InstrumentDefinition, Respondent
from service.domain.progress import Observation
from service.domain.records import Administration, Patient, Principal, Scope
from service.domain.series_summary import SeriesRules, Signals, summarize_new
from service.domain.webhooks import EventType

T = TypeVar("T")


def raise_alerts(
    store: Store,
    principal: Principal,
    administration: Administration,
    definition: InstrumentDefinition,
    instruments: InstrumentService,
    rules: ClinicalRules,
    context: DyadContext,
) -> list[Alert]:
    """Evaluate the rules for a just-stored administration; store and return new alerts.

    ``context`` is the dyad as read before storing, with the series summary when
    ``ClinicalRules.reads_series`` asked for it."""
    tenant_id, dyad_id = principal.tenant_id, administration.dyad_id
    policy, series_rules = rules.alerting(definition)
    signals = _series_signals(store, tenant_id, administration, series_rules, context)
    pair = None
    if definition.paired_form is not None:
        paired = instruments.get(definition.paired_form)
        client, therapist = (
            (definition, paired)
            if definition.respondent is Respondent.CLIENT
            else (paired, definition)
        )
        rule = rules.discordance(client)
        if rule is not None:
            # A pair is made within one session: this session's ratings are all it needs.
            stored = store.session_ratings(
                tenant_id, dyad_id, administration.session, [client.id, therapist.id]
            )
            rated = Rated(_observation(administration), _scale_scores(administration))
            of = _by_instrument(
                _with_new(stored, (administration.instrument, rated), lambda r: r[1].observation)
            )
            pairs = pair_sessions(
                of.get(client.id, []), of.get(therapist.id, []), rule, client.total_scale
            )
            pair = next((p for p in pairs if p.session == administration.session), None)
            if pair is not None and administration.id not in (
                pair.client_administration,
                pair.therapist_administration,
            ):
                pair = None  # this session's pair predates the new administration
    evidence = Evidence(
        definition, administration.id, administration.session, administration.score, signals,
        pair,
    )  # fmt: skip
    raised = []
    now = datetime.now(UTC)
    for candidate in evaluate(evidence, policy):
        alert = Alert(
            id=new_id(),
            tenant_id=principal.tenant_id,
            dyad_id=administration.dyad_id,
            kind=candidate.kind,
            severity=candidate.severity,
            status=AlertStatus.OPEN,
            rule=candidate.rule,
            evidence=candidate.evidence,
            created_at=now,
        )
        if store.add_alert(alert, candidate.evidence_key):
            record(store, principal, "alert.raise", "alert", alert.id)
            queue_alert_event(store, EventType.ALERT_RAISED, alert)
            raised.append(alert)
    return raised


def _series_signals(
    store: Store, tenant_id: uuid.UUID, administration: Administration, rules: SeriesRules,
    context: DyadContext,
) -> Signals:  # fmt: skip
    """What the series rules find at the new administration, keeping the series' summary
    current: one step from the saved summary when it can, else a fold of the whole series."""
    if not rules.reads_history:
        return Signals()
    dyad_id, instrument = administration.dyad_id, administration.instrument
    new = _observation(administration)
    summary, signals = summarize_new(
        context.summary, new, rules,
        lambda: _with_new(store.series(tenant_id, dyad_id, instrument), new, lambda o: o),
    )  # fmt: skip
    store.save_series_summary(
        tenant_id, dyad_id, instrument, summary, administration.id, context.summary_version
    )
    return signals


def _observation(administration: Administration) -> Observation:
    """The new administration as the store reads it back: a float total, a UTC time."""
    total = administration.score.get("total")
    return Observation(
        administration.id, administration.session, administration.completed_at.astimezone(UTC),
        None if total is None else float(total),
    )  # fmt: skip


def _scale_scores(administration: Administration) -> dict[str, float | None]:
    scales: dict[str, dict[str, Any]] = administration.score.get("scales", {})
    return {name: scale["score"] for name, scale in scales.items()}


def _with_new(stored: list[T], new: T, observation: Callable[[T], Observation]) -> list[T]:
    """``stored`` with the new administration in its place (oldest first, by id, as the
    store orders them). The store writes a new administration with the transaction's other
    writes, after evaluation, so reads made for it do not see it yet."""
    new_id_ = observation(new).administration_id
    if any(observation(item).administration_id == new_id_ for item in stored):
        return stored
    older = [item for item in stored if observation(item).administration_id < new_id_]
    return [*older, new, *stored[len(older) :]]


def _by_instrument(history: list[tuple[str, Rated]]) -> dict[str, list[Rated]]:
    grouped: dict[str, list[Rated]] = {}
    for instrument, rated in history:
        grouped.setdefault(instrument, []).append(rated)
    return grouped


_ALLOWED = {
    AlertStatus.ACKNOWLEDGED: {AlertStatus.OPEN},
    AlertStatus.RESOLVED: {AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED},
}
_EVENTS = {
    AlertStatus.ACKNOWLEDGED: EventType.ALERT_ACKNOWLEDGED,
    AlertStatus.RESOLVED: EventType.ALERT_RESOLVED,
}


class Alerts:
    def __init__(self, transact: Transact) -> None:
        self._transact = transact

    async def find(
        self, principal: Principal, cursor: str | None, limit: int,
        statuses: frozenset[AlertStatus] | None = None, kind: AlertKind | None = None,
        dyad_id: uuid.UUID | None = None,
    ) -> Page[Alert]:  # fmt: skip
        return await read_page(
            self._transact, principal, "alert",
            lambda store, after, n: store.alerts(
                principal.tenant_id, after, n, statuses, kind, dyad_id
            ),
            lambda a: a.id, cursor, limit,
        )  # fmt: skip

    async def get(self, principal: Principal, alert_id: uuid.UUID) -> Alert:
        return await read_one(
            self._transact, principal, "alert", alert_id,
            lambda store: store.alert(principal.tenant_id, alert_id),
        )  # fmt: skip

    async def transition(
        self, principal: Principal, alert_id: uuid.UUID, to: AlertStatus, note: str | None,
        actor: str | None = None,
    ) -> Alert:  # fmt: skip
        action = f"alert.{'acknowledge' if to is AlertStatus.ACKNOWLEDGED else 'resolve'}"
        await require(self._transact, principal, Scope.WRITE, action)
        text.note("note", note)
        if actor is not None:
            text.identifier("actor", actor)
        who, now = principal.actor, datetime.now(UTC)

        def work(store: Store) -> Alert:
            alert = store.alert(principal.tenant_id, alert_id)
            if alert is None:
                raise NotFound(f"No alert {alert_id}.")
            if alert.status not in _ALLOWED[to]:
                raise Conflict(f"The alert is {alert.status}; it cannot become {to}.")
            if to is AlertStatus.ACKNOWLEDGED:
                changed = replace(
                    alert, status=to, acknowledged_at=now, acknowledged_by=who,
                    acknowledged_note=note, acknowledged_actor=actor,
                )  # fmt: skip
            else:
                changed = replace(
                    alert, status=to, resolved_at=now, resolved_by=who, resolved_note=note,
                    resolved_actor=actor,
                )  # fmt: skip
            store.update_alert(changed)
            record(store, principal, action, "alert", alert_id)
            queue_alert_event(store, _EVENTS[to], changed)
            return changed

        return await audited(self._transact, principal, action, "alert", alert_id, work)

    async def with_patients(
        self, principal: Principal, alerts: list[Alert]
    ) -> list[tuple[Alert, Patient | None]]:
        """Each alert with its dyad's patient (one query for all), for FHIR Flag subjects."""
        dyads = sorted({a.dyad_id for a in alerts})

        def work(store: Store) -> dict[uuid.UUID, Patient]:
            return store.patients_of_dyads(principal.tenant_id, dyads)

        patients = await self._transact(work, read_only=True) if dyads else {}
        return [(a, patients.get(a.dyad_id)) for a in alerts]
