"""GraphQL types for progress, concordance and calibration (same fields as REST)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from service.app.insights import Calibration as CalibrationView
from service.app.insights import ConcordanceView, ProgressView
from service.domain.concordance import DISCORDANCE_NOTE, RULE_VERSION
from service.domain.concordance import Agreement as AgreementView


@strawberry.type
class ProgressPoint:
    administration_id: strawberry.ID
    session: int
    completed_at: datetime
    total: float | None
    change: float | None
    reliable_change: str | None
    clinical: bool | None


@strawberry.type
class ReliableChangeRule:
    minimum_change: float
    threshold: float | None
    z: float
    source: str


@strawberry.type
class ClinicalCutoff:
    method: str
    value: float
    comparison: str
    source: str


@strawberry.type
class Progress:
    dyad_id: strawberry.ID
    instrument: str
    direction: str
    population: str
    points: list[ProgressPoint]
    classification: str
    reason: str
    started_clinical: bool | None
    reliable_change_rule: ReliableChangeRule | None
    clinical_cutoff: ClinicalCutoff | None
    nhs_talking_therapies: JSON | None

    @classmethod
    def of(cls, view: ProgressView) -> Progress:
        p = view.progress
        nhs = view.nhs_talking_therapies
        return cls(
            dyad_id=strawberry.ID(str(view.dyad_id)),
            instrument=p.instrument,
            direction=p.direction.value,
            population=view.population.value,
            points=[
                ProgressPoint(
                    administration_id=strawberry.ID(str(x.administration_id)),
                    session=x.session,
                    completed_at=x.completed_at,
                    total=x.total,
                    change=x.change,
                    reliable_change=x.reliable_change.value if x.reliable_change else None,
                    clinical=x.clinical,
                )
                for x in p.points
            ],
            classification=p.classification.value,
            reason=p.reason,
            started_clinical=p.started_clinical,
            reliable_change_rule=None
            if p.reliable_change is None
            else ReliableChangeRule(
                minimum_change=p.reliable_change.minimum_change,
                threshold=p.reliable_change.threshold,
                z=p.reliable_change.z,
                source=p.reliable_change.source,
            ),
            clinical_cutoff=None
            if p.cutoff is None
            else ClinicalCutoff(
                method=p.cutoff.method,
                value=p.cutoff.value,
                comparison=p.cutoff.comparison.value,
                source=p.cutoff.source,
            ),
            nhs_talking_therapies=None
            if nhs is None
            else JSON(
                {
                    "applicable": nhs.applicable,
                    "reason": nhs.reason,
                    "firstSession": nhs.first_session,
                    "lastSession": nhs.last_session,
                    "casenessFirst": nhs.caseness_first,
                    "casenessLast": nhs.caseness_last,
                    "recovery": nhs.recovery,
                    "reliableImprovement": nhs.reliable_improvement,
                    "reliableDeterioration": nhs.reliable_deterioration,
                    "reliableRecovery": nhs.reliable_recovery,
                    "deteriorationRule": nhs.deterioration_rule.value,
                    "rulesVersion": nhs.rules_version,
                }
            ),
        )


@strawberry.type
class Agreement:
    n: int
    bias: float | None
    sd: float | None
    lower_limit: float | None
    upper_limit: float | None
    correlation: float | None
    convergence_slope: float | None
    converging: bool | None

    @classmethod
    def of(cls, a: AgreementView) -> Agreement:
        return cls(
            n=a.n, bias=a.bias, sd=a.sd, lower_limit=a.lower_limit, upper_limit=a.upper_limit,
            correlation=a.correlation, convergence_slope=a.convergence_slope,
            converging=a.converging,
        )  # fmt: skip


@strawberry.type
class SubscaleDifference:
    name: str
    client: float
    therapist: float
    difference: float


@strawberry.type
class SubscaleAgreement:
    name: str
    agreement: Agreement


@strawberry.type
class ConcordanceSession:
    session: int
    client: float
    therapist: float
    difference: float
    direction: str
    discordant: bool
    client_administration_id: strawberry.ID
    therapist_administration_id: strawberry.ID
    subscales: list[SubscaleDifference]


@strawberry.type
class Concordance:
    dyad_id: strawberry.ID
    instrument: str
    therapist_instrument: str
    sessions: list[ConcordanceSession]
    summary: Agreement
    subscales: list[SubscaleAgreement]
    rule_version: str
    expected_offset: float
    bound: float
    z: float
    se_difference: float
    source: str
    note: str

    @classmethod
    def of(cls, view: ConcordanceView) -> Concordance:
        return cls(
            dyad_id=strawberry.ID(str(view.dyad_id)),
            instrument=view.client_form.id,
            therapist_instrument=view.therapist_form.id,
            sessions=[
                ConcordanceSession(
                    session=p.session,
                    client=p.client,
                    therapist=p.therapist,
                    difference=p.difference,
                    direction=p.direction.value,
                    discordant=p.discordant,
                    client_administration_id=strawberry.ID(str(p.client_administration)),
                    therapist_administration_id=strawberry.ID(str(p.therapist_administration)),
                    subscales=[
                        SubscaleDifference(name=n, client=c, therapist=t, difference=d)
                        for n, c, t, d in p.subscales
                    ],
                )
                for p in view.sessions
            ],
            summary=Agreement.of(view.summary),
            subscales=[
                SubscaleAgreement(name=n, agreement=Agreement.of(a))
                for n, a in view.subscales.items()
            ],
            rule_version=RULE_VERSION,
            expected_offset=view.rule.expected_offset,
            bound=round(view.rule.bound, 6),
            z=view.rule.z,
            se_difference=round(view.rule.se_difference, 6),
            source=view.rule.source,
            note=DISCORDANCE_NOTE,
        )


@strawberry.type
class DyadDifference:
    dyad_id: strawberry.ID
    mean_difference: float


@strawberry.type
class Calibration:
    instrument: str
    therapist_instrument: str
    dyads: int
    pairs: int
    bias: float | None
    spread: float | None
    expected_offset: float
    tendency: str | None
    per_dyad: list[DyadDifference]

    @classmethod
    def of(cls, c: CalibrationView) -> Calibration:
        return cls(
            instrument=c.client_form, therapist_instrument=c.therapist_form, dyads=c.dyads,
            pairs=c.pairs, bias=c.bias, spread=c.spread, expected_offset=c.expected_offset,
            tendency=c.tendency,
            per_dyad=[
                DyadDifference(dyad_id=strawberry.ID(str(k)), mean_difference=v)
                for k, v in c.per_dyad.items()
            ],
        )  # fmt: skip


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
