"""REST request and response bodies for scoring."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

PopulationName = Literal["adult", "adolescent", "child"]

# Answers are validated by the domain, not by pydantic, so that one response names every
# offending item at once (a wrong type and an out-of-range value in the same request).
Responses = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "description": (
                "Answers keyed by item number as a string. A null or absent item is missing."
            ),
            "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "example": {"1": 2, "2": 1, "3": 0},
        }
    ),
]


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responses: Responses
    population: PopulationName | None = Field(
        default=None, description="Population whose cut-offs apply; adult when omitted."
    )


class FlagOut(BaseModel):
    code: str = Field(description="risk, not-scorable, cutoff-unavailable, or an instrument rule")
    message: str
    items: list[str]
    scale: str | None
    source: str | None = Field(description="Id of the definition source behind the rule")


class RuleOut(BaseModel):
    max_missing: int
    prorate: bool
    source: str


class ScaleScoreOut(BaseModel):
    name: str
    score: float | None = Field(description="In the scale's reporting metric; null if not scorable")
    metric: str = Field(description="sum, mean, mean-x10, sum-x2 or sum-x4")
    mean: float | None = Field(description="Mean of the answered items after reverse keying")
    band: str | None
    clinical: bool | None
    answered: int
    missing: list[str]
    prorated: bool
    rule: RuleOut


class CriterionResultOut(BaseModel):
    id: str
    met: bool | None = Field(description="null when missing items could change the answer")
    description: str
    source: str


class ProvenanceOut(BaseModel):
    definition_id: str
    definition_version: str
    scorer_version: str
    population: PopulationName
    population_defaulted: bool


class ScoreResultOut(BaseModel):
    instrument: str
    total: float | None = Field(description="In the instrument's reporting metric")
    band: str | None
    clinical: bool | None = Field(
        description="On the clinical side of the population's cut-off; null without a cut-off"
    )
    scales: dict[str, ScaleScoreOut]
    flags: list[FlagOut]
    prorated: bool
    missing: list[str]
    criteria: list[CriterionResultOut]
    provenance: ProvenanceOut
