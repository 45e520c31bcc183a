"""REST bodies for progress, concordance and practitioner calibration: the models that
describe, in the OpenAPI document, the bodies service/app/insight_bodies.py builds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.domain.concordance import DISCORDANCE_NOTE


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


class AgreementOut(BaseModel):
    n: int
    bias: float | None = Field(description="Mean difference, client minus therapist")
    sd: float | None
    lower_limit: float | None = Field(description="Bland-Altman: bias - 1.96 SD")
    upper_limit: float | None = Field(description="Bland-Altman: bias + 1.96 SD")
    correlation: float | None = Field(description="Pearson r of the two series (n >= 3)")
    convergence_slope: float | None = Field(description="Change of |difference| per session")
    converging: bool | None


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


class CalibrationListOut(BaseModel):
    practitioner_id: uuid.UUID
    items: list[CalibrationOut]
    note: str = DISCORDANCE_NOTE
