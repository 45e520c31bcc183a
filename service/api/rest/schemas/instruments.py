"""REST bodies for the instrument catalogue, built from domain definitions."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.domain.instruments.model import InstrumentDefinition, ResponseScale, Scale


class ResponseOptionOut(BaseModel):
    value: int
    label: str
    code: str | None


class ResponseScaleOut(BaseModel):
    type: str = Field(description="integer (Likert) or decimal (visual analogue, cm)")
    min: float
    max: float
    options: list[ResponseOptionOut]
    source: str


class ItemOut(BaseModel):
    id: str
    label: str
    text: str | None = Field(description="Wording, only where the licence allows it")
    loinc: str | None
    reverse: bool
    scored: bool
    response: ResponseScaleOut


class BandOut(BaseModel):
    label: str
    min: float = Field(description="Inclusive lower bound; the band ends at the next band's min")


class BandsOut(BaseModel):
    bands: list[BandOut]
    source: str


class CutoffOut(BaseModel):
    population: str
    comparison: str = Field(description="Clinical when `score comparison value`")
    value: float
    source: str


class ReliableChangeOut(BaseModel):
    minimum_change: float
    threshold: float | None
    sd: float | None
    reliability: float | None
    z: float
    source: str


class MissingRuleOut(BaseModel):
    max_missing: int
    prorate: bool
    source: str


class ScaleOut(BaseModel):
    id: str
    name: str
    items: list[str]
    aggregation: str
    min: float
    max: float
    missing: MissingRuleOut
    bands: BandsOut | None
    cutoffs: list[CutoffOut]
    reliable_change: ReliableChangeOut | None
    loinc: str | None


class ItemFlagRuleOut(BaseModel):
    code: str
    items: list[str]
    comparison: str
    value: float
    description: str
    source: str


class CriterionGroupOut(BaseModel):
    name: str
    items: list[str]
    min: int


class CriterionRuleOut(BaseModel):
    id: str
    flag: str
    endorse_at: float
    groups: list[CriterionGroupOut]
    description: str
    source: str


class LicenceOut(BaseModel):
    name: str
    summary: str
    item_text_allowed: bool
    url: str | None
    source: str


class SourceOut(BaseModel):
    id: str
    kind: str = Field(description="published, secondary or rapport-default")
    citation: str
    url: str | None
    note: str | None


class InstrumentSummary(BaseModel):
    id: str
    name: str
    short_name: str
    version: str
    respondent: str
    direction: str
    populations: list[str]
    item_count: int
    paired_form: str | None
    licence: str

    @classmethod
    def of(cls, d: InstrumentDefinition) -> InstrumentSummary:
        return cls(
            id=d.id,
            name=d.name,
            short_name=d.short_name,
            version=d.version,
            respondent=d.respondent.value,
            direction=d.direction.value,
            populations=[p.value for p in d.populations],
            item_count=sum(1 for i in d.items if i.scored),
            paired_form=d.paired_form,
            licence=d.licence.name,
        )


class InstrumentList(BaseModel):
    items: list[InstrumentSummary]
    next_cursor: str | None = None


class InstrumentDetail(InstrumentSummary):
    description: str
    notes: list[str]
    total_scale: str
    loinc_panel: str | None
    licence_detail: LicenceOut
    items: list[ItemOut]
    scales: list[ScaleOut]
    item_flags: list[ItemFlagRuleOut]
    criteria: list[CriterionRuleOut]
    sources: list[SourceOut]

    @classmethod
    def of(cls, d: InstrumentDefinition) -> InstrumentDetail:
        summary = InstrumentSummary.of(d).model_dump()
        return cls(
            **summary,
            description=d.description,
            notes=list(d.notes),
            total_scale=d.total_scale,
            loinc_panel=d.loinc_panel,
            licence_detail=LicenceOut(
                name=d.licence.name,
                summary=d.licence.summary,
                item_text_allowed=d.licence.item_text_allowed,
                url=d.licence.url,
                source=d.licence.source,
            ),
            items=[
                ItemOut(
                    id=i.id,
                    label=i.label,
                    text=i.text,
                    loinc=i.loinc,
                    reverse=i.reverse,
                    scored=i.scored,
                    response=_response(i.response),
                )
                for i in d.items
            ],
            scales=[_scale(d, s) for s in d.scales],
            item_flags=[
                ItemFlagRuleOut(
                    code=r.code,
                    items=list(r.items),
                    comparison=r.comparison.value,
                    value=r.value,
                    description=r.description,
                    source=r.source,
                )
                for r in d.item_flags
            ],
            criteria=[
                CriterionRuleOut(
                    id=c.id,
                    flag=c.flag,
                    endorse_at=c.endorse_at,
                    groups=[
                        CriterionGroupOut(name=g.name, items=list(g.items), min=g.min_endorsed)
                        for g in c.groups
                    ],
                    description=c.description,
                    source=c.source,
                )
                for c in d.criteria
            ],
            sources=[
                SourceOut(id=s.id, kind=s.kind.value, citation=s.citation, url=s.url, note=s.note)
                for s in d.sources
            ],
        )


def _response(r: ResponseScale) -> ResponseScaleOut:
    return ResponseScaleOut(
        type=r.type.value,
        min=r.min,
        max=r.max,
        options=[ResponseOptionOut(value=o.value, label=o.label, code=o.code) for o in r.options],
        source=r.source,
    )


def _scale(d: InstrumentDefinition, s: Scale) -> ScaleOut:
    low, high = d.scale_range(s)
    rc = s.reliable_change
    return ScaleOut(
        id=s.id,
        name=s.name,
        items=list(s.items),
        aggregation=s.aggregation.value,
        min=low,
        max=high,
        missing=MissingRuleOut(
            max_missing=s.missing.max_missing, prorate=s.missing.prorate, source=s.missing.source
        ),
        bands=BandsOut(
            bands=[BandOut(label=b.label, min=b.min) for b in s.bands.bands],
            source=s.bands.source,
        )
        if s.bands
        else None,
        cutoffs=[
            CutoffOut(
                population=c.population.value,
                comparison=c.comparison.value,
                value=c.value,
                source=c.source,
            )
            for c in s.cutoffs
        ],
        reliable_change=ReliableChangeOut(
            minimum_change=rc.minimum_change,
            threshold=rc.threshold,
            sd=rc.sd,
            reliability=rc.reliability,
            z=rc.z,
            source=rc.source,
        )
        if rc
        else None,
        loinc=s.loinc,
    )
