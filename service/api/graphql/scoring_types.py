"""GraphQL types for the catalogue and for score results (the contract's ``score`` query)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry.scalars import JSON

from service.domain.instruments.model import InstrumentDefinition, Scale


@strawberry.type
class ResponseScale:
    type: str
    min: float
    max: float


@strawberry.type
class InstrumentItem:
    id: str
    label: str
    text: str | None
    loinc: str | None
    reverse: bool
    scored: bool
    response: ResponseScale


@strawberry.type
class Cutoff:
    population: str
    comparison: str
    value: float
    source: str


@strawberry.type
class Band:
    label: str
    min: float


@strawberry.type
class InstrumentScale:
    id: str
    name: str
    items: list[str]
    aggregation: str
    min: float
    max: float
    max_missing: int
    prorate: bool
    missing_rule_source: str
    bands: list[Band]
    cutoffs: list[Cutoff]
    reliable_change: float | None
    loinc: str | None


@strawberry.type
class Source:
    id: str
    kind: str
    citation: str
    url: str | None


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
    description: str
    notes: list[str]
    licence_summary: str
    items: list[InstrumentItem]
    scales: list[InstrumentScale]
    sources: list[Source]

    @classmethod
    def of(cls, d: InstrumentDefinition) -> Instrument:
        return cls(
            id=d.id, name=d.name, short_name=d.short_name, version=d.version,
            respondent=d.respondent.value, direction=d.direction.value,
            construct=d.construct.value, populations=[p.value for p in d.populations],
            item_count=sum(1 for i in d.items if i.scored), paired_form=d.paired_form,
            licence=d.licence.name, description=d.description, notes=list(d.notes),
            licence_summary=d.licence.summary,
            items=[
                InstrumentItem(
                    id=i.id, label=i.label, text=i.text, loinc=i.loinc, reverse=i.reverse,
                    scored=i.scored,
                    response=ResponseScale(type=i.response.type.value, min=i.response.min,
                                           max=i.response.max),
                )
                for i in d.items
            ],
            scales=[_scale(d, sc) for sc in d.scales],
            sources=[Source(id=x.id, kind=x.kind.value, citation=x.citation, url=x.url)
                     for x in d.sources],
        )  # fmt: skip


def _scale(d: InstrumentDefinition, scale: Scale) -> InstrumentScale:
    low, high = d.scale_range(scale)
    rc = scale.reliable_change
    return InstrumentScale(
        id=scale.id, name=scale.name, items=list(scale.items),
        aggregation=scale.aggregation.value, min=low, max=high,
        max_missing=scale.missing.max_missing, prorate=scale.missing.prorate,
        missing_rule_source=scale.missing.source,
        bands=[Band(label=b.label, min=b.min) for b in (scale.bands.bands if scale.bands else ())],
        cutoffs=[
            Cutoff(population=c.population.value, comparison=c.comparison.value, value=c.value,
                   source=c.source)
            for c in scale.cutoffs
        ],
        reliable_change=rc.minimum_change if rc else None, loinc=scale.loinc,
    )  # fmt: skip


@strawberry.input
class ResponseInput:
    item: str
    value: float


def answers_of(responses: Iterable[ResponseInput]) -> dict[str, object]:
    """REST's ``{"1": 2}`` from GraphQL's ``[{item: "1", value: 2}]``: whole numbers as ints."""
    return {r.item: int(r.value) if float(r.value).is_integer() else r.value for r in responses}


@strawberry.type
class MissingRule:
    max_missing: int
    prorate: bool
    source: str


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
    answered: int
    rule: MissingRule


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
                    answered=s["answered"],
                    rule=MissingRule(**s["rule"]),
                )
                for name, s in score["scales"].items()
            ],
            flags=[Flag(**f) for f in score["flags"]],
            prorated=score["prorated"],
            missing=score["missing"],
            criteria=score["criteria"],
            provenance=Provenance(**score["provenance"]),
        )
