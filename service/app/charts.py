"""What the charts and the dyad page draw: the existing read use cases' results, gathered.

Every read goes through the use case that owns it (progress, concordance, calibration), so
a chart has the same scopes, tenancy and audit as the data it draws; alerts and the latest
scores are read here, scoped to the tenant and audited the same way. Rendering belongs to
the adapter (service.api.charts); this module returns typed values only.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from service.app.audit import audited, record
from service.app.auth import require
from service.app.insights import Calibration, ConcordanceView, Insights, ProgressView
from service.app.instruments import InstrumentService
from service.app.ports import Store, Transact
from service.app.rules import ClinicalRules
from service.domain.alerts import Alert, AlertStatus, Severity
from service.domain.errors import FieldError, NotFound, ValidationFailed
from service.domain.instruments.model import Construct, InstrumentDefinition, Respondent
from service.domain.progress import Observation, ProgressPoint
from service.domain.records import Administration, Principal, Scope
from service.domain.ruptures import Rupture, ruptures

_PAGE = 500
_UNRESOLVED = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED})
_SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


@dataclass(frozen=True, slots=True)
class ProgressChartData:
    definition: InstrumentDefinition
    view: ProgressView
    alerts: tuple[Alert, ...]  # the dyad's alerts raised on this instrument's sessions


@dataclass(frozen=True, slots=True)
class AllianceChartData:
    concordance: ConcordanceView
    client: tuple[ProgressPoint, ...]  # every session of each form, paired or not
    therapist: tuple[ProgressPoint, ...]
    ruptures: tuple[Rupture, ...]  # in the client's series, with their repair status


@dataclass(frozen=True, slots=True)
class CalibrationChartData:
    practitioner_id: uuid.UUID
    client_form: InstrumentDefinition
    calibration: Calibration


@dataclass(frozen=True, slots=True)
class LatestScore:
    definition: InstrumentDefinition
    session: int
    total: float | None
    band: str | None


@dataclass(frozen=True, slots=True)
class DyadOverview:
    """What the dyad page shows besides its charts."""

    latest: tuple[LatestScore, ...]
    alerts: tuple[Alert, ...]  # open and acknowledged, newest first
    outcome_instrument: str | None  # the client outcome form to chart: the latest used
    alliance_instrument: str | None  # the client form of a pair the dyad used


class ChartData:
    def __init__(
        self, transact: Transact, instruments: InstrumentService, insights: Insights,
        rules: ClinicalRules,
    ) -> None:  # fmt: skip
        self._transact = transact
        self._instruments = instruments
        self._insights = insights
        self._rules = rules

    async def progress(
        self, principal: Principal, dyad_id: uuid.UUID, instrument: str
    ) -> ProgressChartData:
        view = await self._insights.progress(principal, dyad_id, instrument)
        definition = self._instruments.get(instrument)
        ids = {str(p.administration_id) for p in view.progress.points}

        def work(store: Store) -> tuple[Alert, ...]:
            found = store.alerts_of_dyads(principal.tenant_id, [dyad_id])
            record(store, principal, "alert.list", "dyad", dyad_id)
            return tuple(a for a in found if _about(a, instrument, ids))

        alerts = await audited(self._transact, principal, "alert.list", "dyad", dyad_id, work)
        return ProgressChartData(definition, view, alerts)

    async def alliance(
        self, principal: Principal, dyad_id: uuid.UUID, instrument: str
    ) -> AllianceChartData:
        concordance = await self._insights.concordance(principal, dyad_id, instrument)
        client, therapist = concordance.client_form, concordance.therapist_form
        # The dyad and the pair are known good now: read both series at once (on SQLite, on
        # two reader connections, their audit events written together).
        mine, theirs = await asyncio.gather(
            self._insights.progress(principal, dyad_id, client.id),
            self._insights.progress(principal, dyad_id, therapist.id),
        )
        rule = self._rules.alerting(client)[0].rupture
        series = [
            Observation(p.administration_id, p.session, p.completed_at, p.total)
            for p in mine.progress.points
        ]
        found = ruptures(series, client.direction, rule)
        return AllianceChartData(
            concordance, mine.progress.points, theirs.progress.points, tuple(found)
        )

    async def calibration(
        self, principal: Principal, practitioner_id: uuid.UUID, instrument: str
    ) -> CalibrationChartData:
        await require(self._transact, principal, Scope.READ, "calibration.read")
        client = self._instruments.get(instrument)
        if client.respondent is not Respondent.CLIENT or client.paired_form is None:
            raise ValidationFailed(
                f"{client.short_name} is not the client form of a client/therapist pair.",
                (FieldError("instrument", "not-a-client-form", "Use wai-sr or haq-ii."),),
            )
        results = await self._insights.calibration(principal, practitioner_id)
        for calibration in results:
            if calibration.client_form == client.id:
                return CalibrationChartData(practitioner_id, client, calibration)
        raise ValidationFailed(
            f"{client.short_name} has no concordance constants to calibrate against.",
            (FieldError("instrument", "not-a-client-form", "Use wai-sr or haq-ii."),),
        )

    async def overview(self, principal: Principal, dyad_id: uuid.UUID) -> DyadOverview:
        await require(self._transact, principal, Scope.READ, "dyad.overview")

        def work(store: Store) -> tuple[list[Administration], list[Alert]]:
            if store.dyad(principal.tenant_id, dyad_id) is None:
                raise NotFound(f"No dyad {dyad_id}.")
            administrations: list[Administration] = []
            after = None
            while batch := store.administrations(principal.tenant_id, dyad_id, after, _PAGE):
                administrations.extend(batch)
                after = batch[-1].id
                if len(batch) < _PAGE:
                    break
            alerts = store.alerts_of_dyads(principal.tenant_id, [dyad_id], _UNRESOLVED)
            record(store, principal, "dyad.overview", "dyad", dyad_id)
            return administrations, alerts

        administrations, alerts = await audited(
            self._transact, principal, "dyad.overview", "dyad", dyad_id, work
        )
        return self._overview(administrations, alerts)

    def _overview(self, administrations: list[Administration], alerts: list[Alert]) -> DyadOverview:
        latest: dict[str, Administration] = {}
        for a in sorted(administrations, key=lambda a: (a.session, a.completed_at)):
            latest[a.instrument] = a
        scores = []
        for name, a in sorted(latest.items(), key=lambda item: item[0]):
            try:
                definition = self._instruments.get(name)
            except NotFound:
                continue  # an instrument no longer in the catalogue is not drawn
            total = a.score.get("total")
            scores.append(
                LatestScore(definition, a.session, None if total is None else float(total),
                            a.score.get("band"))
            )  # fmt: skip
        by_recency = sorted(latest.values(), key=lambda a: (a.session, a.completed_at))
        outcome = alliance = None
        for a in by_recency:
            d = next((s.definition for s in scores if s.definition.id == a.instrument), None)
            if d is None:
                continue
            if d.construct is Construct.OUTCOME and d.respondent is Respondent.CLIENT:
                outcome = d.id
            if d.respondent is Respondent.CLIENT and d.paired_form and d.concordance:
                alliance = d.id
        # Most severe first, then newest first.
        ordered = sorted(alerts, key=lambda a: a.created_at, reverse=True)
        ordered.sort(key=lambda a: _SEVERITY_ORDER[a.severity])
        return DyadOverview(tuple(scores), tuple(ordered), outcome, alliance)


def _about(alert: Alert, instrument: str, administration_ids: set[str]) -> bool:
    """Whether an alert was raised on this instrument's series."""
    evidence = alert.evidence
    return (
        evidence.get("instrument") == instrument
        or evidence.get("administration_id") in administration_ids
    )
