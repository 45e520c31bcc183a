"""REST bodies for patients, practitioners, dyads and administrations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from service.api.rest.schemas.scoring import PopulationName, Responses, ScoreResultOut
from service.app.rendering import record_fields
from service.domain.records import Dyad, Patient, Practitioner

ExternalId = Field(
    min_length=1,
    max_length=200,
    description="The EHR's identifier: printable, no surrounding spaces",
    pattern=r"^[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$",
)
NoNul = r"^[^\x00]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientCreate(Strict):
    external_id: str = ExternalId
    population: PopulationName | None = Field(
        default=None,
        description="Age group, for population cut-offs. No other personal data is kept.",
    )


class PatientOut(BaseModel):
    id: uuid.UUID
    external_id: str
    population: PopulationName | None
    created_at: datetime

    @classmethod
    def of(cls, p: Patient) -> PatientOut:
        return cls.model_validate(record_fields(p))


class PractitionerCreate(Strict):
    external_id: str = ExternalId
    display_name: str | None = Field(default=None, max_length=200, pattern=NoNul)


class PractitionerOut(BaseModel):
    id: uuid.UUID
    external_id: str
    display_name: str | None
    created_at: datetime

    @classmethod
    def of(cls, p: Practitioner) -> PractitionerOut:
        return cls.model_validate(record_fields(p))


class DyadCreate(Strict):
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    started_on: date | None = Field(default=None, description="Start of the episode of care")
    ended_on: date | None = Field(default=None, description="End of the episode of care")


class DyadOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    started_on: date | None
    ended_on: date | None
    created_at: datetime

    @classmethod
    def of(cls, d: Dyad) -> DyadOut:
        return cls.model_validate(record_fields(d))


class Created(BaseModel):
    id: uuid.UUID


class AdministrationCreate(Strict):
    instrument: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", examples=["phq-9"]
    )
    session: StrictInt = Field(
        ge=1, le=2**31 - 1, description="Session number within the dyad, from 1"
    )
    responses: Responses
    respondent: Literal["client", "therapist"] | None = Field(
        default=None, description="Defaults to the instrument's respondent; must match it"
    )
    completed_at: AwareDatetime | None = Field(
        default=None, description="When the questionnaire was completed (defaults to now)"
    )
    population: PopulationName | None = Field(
        default=None, description="Overrides the patient's age group for cut-offs"
    )


class AdministrationOut(BaseModel):
    id: uuid.UUID
    dyad_id: uuid.UUID
    session: int
    instrument: str
    instrument_version: str
    respondent: str
    completed_at: datetime
    created_at: datetime
    responses: dict[str, Any]
    score: ScoreResultOut
    status: Literal["final", "superseded", "entered-in-error"] = Field(
        description="final: it counts for its session; superseded: a later submission of the "
        "same session and instrument counts instead; entered-in-error: voided, counted nowhere"
    )
    superseded_by: uuid.UUID | None = Field(description="The submission that replaced it")
    void: VoidOut | None = Field(description="When, by whom and why it was voided")


class VoidOut(BaseModel):
    at: datetime
    by: str = Field(description="The API key or client that voided it")
    reason: str


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=2000, description="Why it was entered in error",
        examples=["Answers were entered for the wrong patient"],
    )  # fmt: skip


class PatientPage(BaseModel):
    items: list[PatientOut]
    next_cursor: str | None


class PractitionerPage(BaseModel):
    items: list[PractitionerOut]
    next_cursor: str | None


class DyadPage(BaseModel):
    items: list[DyadOut]
    next_cursor: str | None


class AdministrationPage(BaseModel):
    items: list[AdministrationOut]
    next_cursor: str | None
