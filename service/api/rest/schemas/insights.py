"""REST bodies for progress, concordance and practitioner calibration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from service.app.insights import Calibration, ConcordanceView, ProgressView
from service.domain.concordance import DISCORDANCE_NOTE, Agreement


class ProgressPointOut(BaseModel):
    administration_id: uuid.UUID
    session: int
    completed_at: datetime
    total: float | None
    change: float | None = Field(description="Total minus the first scored total")
    reliable_change: Literal["improved", "deteriorated", "none"] | None = Field(
        description="In the instrument's own direction; null without reliable-change constants"
    )
    clinical: bool | None


class ReliableChangeRuleOut(BaseModel):
    minimum_change: float
    threshold: float | None
    z: float
    source: str


class ClinicalCutoffOut(BaseModel):
    method: Literal["c", "a", "published"] = Field(
        description="Jacobson-Truax c or a from norms, else the published cut-off"
    )
    value: float
    comparison: str
    source: str


class NhsTalkingTherapiesOut(BaseModel):
    applicable: bool
    reason: str
    first_session: int | None
    last_session: int | None
    caseness_first: bool | None
    caseness_last: bool | None
    recovery: bool | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    reliable_recovery: bool | None
    deterioration_rule: str
    rules_version: str


class ProgressOut(BaseModel):
    dyad_id: uuid.UUID
    instrument: str
    direction: str
    population: str
    points: list[ProgressPointOut]
    classification: Literal["recovered", "improved", "unchanged", "deteriorated", "not-applicable"]
    reason: str
    started_clinical: bool | None
    reliable_change_rule: ReliableChangeRuleOut | None
    clinical_cutoff: ClinicalCutoffOut | None
    nhs_talking_therapies: NhsTalkingTherapiesOut | None

    @staticmethod
    def body(view: ProgressView) -> dict[str, Any]:
        """The response body in this model's shape, as plain JSON-ready values (``of`` and
        FastAPI's check of the model cost more than the statistics of a 100-session series,
        bench/insights.py). Numbers the model types as float are floats here too, so the
        JSON is the model's; dump it with ``orjson.OPT_UTC_Z`` (timestamps end in ``Z`` as
        pydantic writes them). Tests hold real bodies to this model."""
        p = view.progress
        rc = p.reliable_change
        nhs = view.nhs_talking_therapies
        return {
            "dyad_id": str(view.dyad_id),
            "instrument": p.instrument,
            "direction": p.direction.value,
            "population": view.population.value,
            "points": [
                {
                    "administration_id": str(x.administration_id),
                    "session": x.session,
                    "completed_at": x.completed_at,
                    "total": _number(x.total),
                    "change": _number(x.change),
                    "reliable_change": x.reliable_change.value if x.reliable_change else None,
                    "clinical": x.clinical,
                }
                for x in p.points
            ],
            "classification": p.classification.value,
            "reason": p.reason,
            "started_clinical": p.started_clinical,
            "reliable_change_rule": {
                "minimum_change": float(rc.minimum_change), "threshold": _number(rc.threshold),
                "z": float(rc.z), "source": rc.source,
            }
            if rc
            else None,
            "clinical_cutoff": {
                "method": p.cutoff.method, "value": float(p.cutoff.value),
                "comparison": p.cutoff.comparison.value, "source": p.cutoff.source,
            }
            if p.cutoff
            else None,
            "nhs_talking_therapies": {
                "applicable": nhs.applicable, "reason": nhs.reason,
                "first_session": nhs.first_session, "last_session": nhs.last_session,
                "caseness_first": nhs.caseness_first, "caseness_last": nhs.caseness_last,
                "recovery": nhs.recovery, "reliable_improvement": nhs.reliable_improvement,
                "reliable_deterioration": nhs.reliable_deterioration,
                "reliable_recovery": nhs.reliable_recovery,
                "deterioration_rule": nhs.deterioration_rule.value,
                "rules_version": nhs.rules_version,
            }
            if nhs
            else None,
        }  # fmt: skip


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


class AgreementOut(BaseModel):
    n: int
    bias: float | None = Field(description="Mean difference, client minus therapist")
    sd: float | None
    lower_limit: float | None = Field(description="Bland-Altman: bias - 1.96 SD")
    upper_limit: float | None = Field(description="Bland-Altman: bias + 1.96 SD")
    correlation: float | None = Field(description="Pearson r of the two series (n >= 3)")
    convergence_slope: float | None = Field(description="Change of |difference| per session")
    converging: bool | None

    @classmethod
    def of(cls, a: Agreement) -> AgreementOut:
        return cls(
            n=a.n, bias=a.bias, sd=a.sd, lower_limit=a.lower_limit, upper_limit=a.upper_limit,
            correlation=a.correlation, convergence_slope=a.convergence_slope,
            converging=a.converging,
        )  # fmt: skip


class SubscaleDifferenceOut(BaseModel):
    client: float
    therapist: float
    difference: float


class ConcordanceSessionOut(BaseModel):
    session: int
    client: float
    therapist: float
    difference: float = Field(description="Client minus therapist, on the total")
    direction: Literal["client-higher", "therapist-higher", "equal"]
    discordant: bool
    client_administration_id: uuid.UUID
    therapist_administration_id: uuid.UUID
    subscales: dict[str, SubscaleDifferenceOut]


class DiscordanceRuleOut(BaseModel):
    version: str
    expected_offset: float
    bound: float = Field(description="z x SE of a difference; discordant beyond offset +/- bound")
    z: float
    se_difference: float
    source: str


class ConcordanceOut(BaseModel):
    dyad_id: uuid.UUID
    instrument: str
    therapist_instrument: str
    sessions: list[ConcordanceSessionOut]
    summary: AgreementOut
    subscales: dict[str, AgreementOut]
    rule: DiscordanceRuleOut
    note: str = DISCORDANCE_NOTE

    @staticmethod
    def body(view: ConcordanceView, version: str) -> dict[str, Any]:
        """The response body in this model's shape, as plain JSON-ready values.

        A long episode has hundreds of per-session objects; building them as validated
        models cost several times the statistics themselves (bench/README.md). The values
        come typed from the domain, and tests validate real bodies against this model.
        """
        r = view.rule
        return {
            "dyad_id": str(view.dyad_id),
            "instrument": view.client_form.id,
            "therapist_instrument": view.therapist_form.id,
            "sessions": [
                {
                    "session": p.session,
                    "client": p.client,
                    "therapist": p.therapist,
                    "difference": p.difference,
                    "direction": p.direction.value,
                    "discordant": p.discordant,
                    "client_administration_id": str(p.client_administration),
                    "therapist_administration_id": str(p.therapist_administration),
                    "subscales": {
                        name: {"client": c, "therapist": t, "difference": d}
                        for name, c, t, d in p.subscales
                    },
                }
                for p in view.sessions
            ],
            "summary": AgreementOut.of(view.summary).model_dump(),
            "subscales": {
                name: AgreementOut.of(a).model_dump() for name, a in view.subscales.items()
            },
            "rule": {
                "version": version,
                "expected_offset": r.expected_offset,
                "bound": round(r.bound, 6),
                "z": r.z,
                "se_difference": round(r.se_difference, 6),
                "source": r.source,
            },
            "note": DISCORDANCE_NOTE,
        }


class CalibrationOut(BaseModel):
    instrument: str
    therapist_instrument: str
    dyads: int
    pairs: int
    bias: float | None = Field(description="Mean client minus therapist over all paired sessions")
    spread: float | None = Field(description="SD of those differences")
    expected_offset: float
    tendency: (
        Literal["therapist-higher-than-expected", "therapist-lower-than-expected", "as-expected"]
        | None
    ) = Field(description="Bias against the expected offset (z test; needs 5 pairs)")
    per_dyad: dict[str, float] = Field(description="Mean difference per dyad id")

    @classmethod
    def of(cls, c: Calibration) -> CalibrationOut:
        return cls(
            instrument=c.client_form, therapist_instrument=c.therapist_form, dyads=c.dyads,
            pairs=c.pairs, bias=c.bias, spread=c.spread, expected_offset=c.expected_offset,
            tendency=c.tendency,
            per_dyad={str(k): v for k, v in c.per_dyad.items()},
        )  # fmt: skip


class CalibrationListOut(BaseModel):
    practitioner_id: uuid.UUID
    items: list[CalibrationOut]
    note: str = DISCORDANCE_NOTE
