"""Read an instrument definition from TOML into the frozen model, then check it.

The file format is documented in docs/instruments.md; ``definitions/phq-9.toml`` is the
annotated example.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from service.domain.errors import DefinitionError
from service.domain.instruments.checks import check_definition
from service.domain.instruments.fields import Table
from service.domain.instruments.model import (
    Aggregation,
    Band,
    Bands,
    Comparison,
    ConcordanceConstants,
    Construct,
    CriterionGroup,
    CriterionRule,
    Cutoff,
    Direction,
    InstrumentDefinition,
    Item,
    ItemFlagRule,
    Licence,
    MissingRule,
    Norms,
    Population,
    ReliableChange,
    Respondent,
    ResponseOption,
    ResponseScale,
    ResponseType,
    Rounding,
    Scale,
    Source,
    SourceKind,
)


def load_definition_file(path: Path) -> InstrumentDefinition:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"{path.name}: cannot be read as TOML: {exc}") from exc
    return parse_definition(raw, path.name)


def parse_definition(raw: object, origin: str) -> InstrumentDefinition:
    root = Table(raw, origin)
    default_response = _response(root.table("response"))
    all_ids = [t.string("id") for t in root.tables("items")]
    definition = InstrumentDefinition(
        id=root.string("id"),
        name=root.string("name"),
        short_name=root.string("short_name"),
        version=root.string("version"),
        respondent=root.enum("respondent", Respondent),
        direction=root.enum("direction", Direction),
        description=root.string("description"),
        construct=root.enum("construct", Construct) if root.has("construct") else Construct.OUTCOME,
        populations=tuple(
            _population(p, root.path) for p in root.strings("populations", ("adult",))
        ),
        items=tuple(_item(t, default_response) for t in root.tables("items")),
        scales=tuple(_scale(t, all_ids) for t in root.tables("scales")),
        total_scale=root.string("total_scale"),
        licence=_licence(root.table("licence")),
        sources=tuple(_source(t) for t in root.tables("sources")),
        item_flags=tuple(_item_flag(t, all_ids) for t in root.tables("item_flags")),
        criteria=tuple(_criterion(t) for t in root.tables("criteria")),
        paired_form=root.opt_string("paired_form"),
        concordance=_concordance(c) if (c := root.opt_table("concordance")) else None,
        loinc_panel=root.opt_string("loinc_panel"),
        notes=root.strings("notes"),
    )
    root.done()
    check_definition(definition, origin)
    return definition


def _population(value: str, path: str) -> Population:
    try:
        return Population(value)
    except ValueError:
        raise DefinitionError(f"{path}: unknown population '{value}'") from None


def _response(t: Table) -> ResponseScale:
    scale = ResponseScale(
        type=t.enum("type", ResponseType),
        min=t.number("min"),
        max=t.number("max"),
        source=t.string("source"),
        options=tuple(_option(o) for o in t.tables("options")),
    )
    t.done()
    return scale


def _option(t: Table) -> ResponseOption:
    option = ResponseOption(
        value=t.integer("value"), label=t.string("label"), code=t.opt_string("code")
    )
    t.done()
    return option


def _item(t: Table, default_response: ResponseScale) -> Item:
    override = t.opt_table("response")
    item = Item(
        id=t.string("id"),
        label=t.string("label"),
        response=_response(override) if override is not None else default_response,
        reverse=t.flag("reverse", False),
        scored=t.flag("scored", True),
        text=t.opt_string("text"),
        loinc=t.opt_string("loinc"),
    )
    t.done()
    return item


def _items_of(t: Table, all_ids: list[str]) -> tuple[str, ...]:
    """A list of item ids, or the string "all" for every item of the instrument."""
    value = t.string_or_strings("items")
    if isinstance(value, tuple):
        return value
    if value != "all":
        raise DefinitionError(f'{t.path}.items: expected a list of item ids or "all"')
    return tuple(all_ids)


def _scale(t: Table, all_ids: list[str]) -> Scale:
    missing = t.table("missing")
    bands = t.opt_table("bands")
    rc = t.opt_table("reliable_change")
    norms = t.opt_table("norms")
    rounding = t.opt_table("rounding")
    scale = Scale(
        id=t.string("id"),
        name=t.string("name"),
        items=_items_of(t, all_ids),
        aggregation=t.enum("aggregation", Aggregation),
        missing=_missing(missing),
        bands=_bands(bands) if bands is not None else None,
        cutoffs=tuple(_cutoff(c) for c in t.tables("cutoffs")),
        reliable_change=_reliable_change(rc) if rc is not None else None,
        loinc=t.opt_string("loinc"),
        norms=_norms(norms) if norms is not None else None,
        rounding=_rounding(rounding) if rounding is not None else None,
    )
    t.done()
    return scale


def _rounding(t: Table) -> Rounding:
    rule = Rounding(digits=t.integer("digits"), source=t.string("source"))
    t.done()
    return rule


def _missing(t: Table) -> MissingRule:
    rule = MissingRule(
        max_missing=t.integer("max_missing"),
        prorate=t.flag("prorate", False),
        source=t.string("source"),
    )
    t.done()
    return rule


def _bands(t: Table) -> Bands:
    bands = []
    for b in t.tables("bands"):
        bands.append(Band(label=b.string("label"), min=b.number("min")))
        b.done()
    result = Bands(bands=tuple(bands), source=t.string("source"))
    t.done()
    return result


def _cutoff(t: Table) -> Cutoff:
    cutoff = Cutoff(
        population=_population(t.string("population"), t.path),
        comparison=t.enum("comparison", Comparison),
        value=t.number("value"),
        source=t.string("source"),
    )
    t.done()
    return cutoff


def _reliable_change(t: Table) -> ReliableChange:
    rc = ReliableChange(
        source=t.string("source"),
        z=t.number("z") if t.has("z") else 1.96,
        threshold=t.opt_number("threshold"),
        sd=t.opt_number("sd"),
        reliability=t.opt_number("reliability"),
    )
    t.done()
    return rc


def _concordance(t: Table) -> ConcordanceConstants:
    constants = ConcordanceConstants(
        sd_client=t.number("sd_client"),
        sd_therapist=t.number("sd_therapist"),
        reliability_client=t.number("reliability_client"),
        reliability_therapist=t.number("reliability_therapist"),
        expected_offset=t.number("expected_offset"),
        source=t.string("source"),
    )
    t.done()
    return constants


def _norms(t: Table) -> Norms:
    norms = Norms(
        clinical_mean=t.number("clinical_mean"),
        clinical_sd=t.number("clinical_sd"),
        source=t.string("source"),
        functional_mean=t.opt_number("functional_mean"),
        functional_sd=t.opt_number("functional_sd"),
    )
    t.done()
    return norms


def _item_flag(t: Table, all_ids: list[str]) -> ItemFlagRule:
    rule = ItemFlagRule(
        code=t.string("code"),
        items=_items_of(t, all_ids),
        comparison=t.enum("comparison", Comparison),
        value=t.number("value"),
        description=t.string("description"),
        source=t.string("source"),
    )
    t.done()
    return rule


def _criterion(t: Table) -> CriterionRule:
    groups = []
    for g in t.tables("groups"):
        groups.append(
            CriterionGroup(
                name=g.string("name"), items=g.strings("items"), min_endorsed=g.integer("min")
            )
        )
        g.done()
    rule = CriterionRule(
        id=t.string("id"),
        flag=t.string("flag"),
        endorse_at=t.number("endorse_at"),
        groups=tuple(groups),
        description=t.string("description"),
        source=t.string("source"),
    )
    t.done()
    return rule


def _licence(t: Table) -> Licence:
    licence = Licence(
        name=t.string("name"),
        summary=t.string("summary"),
        item_text_allowed=t.flag("item_text_allowed", False),
        source=t.string("source"),
        url=t.opt_string("url"),
    )
    t.done()
    return licence


def _source(t: Table) -> Source:
    source = Source(
        id=t.string("id"),
        kind=t.enum("kind", SourceKind),
        citation=t.string("citation"),
        url=t.opt_string("url"),
        note=t.opt_string("note"),
    )
    t.done()
    return source
