"""GraphQL types for the catalogue and for score results (the contract's ``score`` query)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from service.domain.instruments.model import InstrumentDefinition


@strawberry.type
class Instrument:
    id: str
    name: str
    short_name: str
    version: str
    respondent: str
    direction: str
    construct: str
    populations: list[str]
    item_count: int
    paired_form: str | None
    licence: str

    @classmethod
    def of(cls, d: InstrumentDefinition) -> Instrument:
        return cls(
            id=d.id, name=d.name, short_name=d.short_name, version=d.version,
            respondent=d.respondent.value, direction=d.direction.value,
            construct=d.construct.value, populations=[p.value for p in d.populations],
            item_count=sum(1 for i in d.items if i.scored), paired_form=d.paired_form,
            licence=d.licence.name,
        )  # fmt: skip


@strawberry.input
class ResponseInput:
    item: str
    value: float


@strawberry.type
class ScaleScore:
    name: str = strawberry.field(description="The scale's id, e.g. total, goal, depression")
    title: str
    score: float | None
    band: str | None
    clinical: bool | None
    metric: str
    mean: float | None
    prorated: bool
    missing: list[str]


@strawberry.type
class Flag:
    code: str
    message: str
    items: list[str]
    scale: str | None
    source: str | None


@strawberry.type
class Provenance:
    definition_id: str
    definition_version: str
    scorer_version: str
    population: str
    population_defaulted: bool


@strawberry.type
class ScoreResult:
    instrument: str
    total: float | None
    band: str | None
    clinical: bool | None
    scales: list[ScaleScore]
    flags: list[Flag]
    prorated: bool
    missing: list[str]
    criteria: JSON
    provenance: Provenance

    @classmethod
    def of(cls, score: dict[str, Any]) -> ScoreResult:
        """Built from the rendered score dict that REST returns and the store keeps."""
        return cls(
            instrument=score["instrument"],
            total=score["total"],
            band=score["band"],
            clinical=score["clinical"],
            scales=[
                ScaleScore(
                    name=name,
                    title=s["name"],
                    score=s["score"],
                    band=s["band"],
                    clinical=s["clinical"],
                    metric=s["metric"],
                    mean=s["mean"],
                    prorated=s["prorated"],
                    missing=s["missing"],
                )
                for name, s in score["scales"].items()
            ],
            flags=[Flag(**f) for f in score["flags"]],
            prorated=score["prorated"],
            missing=score["missing"],
            criteria=score["criteria"],
            provenance=Provenance(**score["provenance"]),
        )
