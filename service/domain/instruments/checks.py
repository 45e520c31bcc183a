"""Consistency checks on a parsed definition.

The scorer trusts a definition completely, so everything it relies on is checked once here:
references resolve, every constant cites a listed source, missing-item rules cannot silently
under-count, and licensed wording is absent where the licence forbids it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from service.domain.errors import DefinitionError
from service.domain.instruments.model import (
    Aggregation,
    InstrumentDefinition,
    Respondent,
    Scale,
)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SUMS = {Aggregation.SUM, Aggregation.SUM_X2, Aggregation.SUM_X4}

_Fail = Callable[[str], DefinitionError]


def check_definition(d: InstrumentDefinition, origin: str) -> None:
    def fail(message: str) -> DefinitionError:
        return DefinitionError(f"{origin} ({d.id}): {message}")

    if not _SLUG.match(d.id):
        raise fail("id must be a lowercase slug such as 'phq-9'")
    _unique((i.id for i in d.items), "item id", fail)
    _unique((s.id for s in d.scales), "scale id", fail)
    _unique((s.id for s in d.sources), "source id", fail)
    source_ids = {s.id for s in d.sources}
    scored = {i.id for i in d.items if i.scored}
    all_items = {i.id for i in d.items}

    for cited in _cited_sources(d):
        if cited not in source_ids:
            raise fail(f"cites source '{cited}', which is not listed under [[sources]]")

    for item in d.items:
        r = item.response
        if r.min >= r.max:
            raise fail(f"item {item.id}: response min must be below max")
        for option in r.options:
            if not r.min <= option.value <= r.max:
                raise fail(f"item {item.id}: option {option.value} is outside the response range")
        if item.text is not None and not d.licence.item_text_allowed:
            raise fail(f"item {item.id}: the licence does not allow reproducing item wording")

    if d.total_scale not in {s.id for s in d.scales}:
        raise fail(f"total_scale '{d.total_scale}' is not a scale")
    for scale in d.scales:
        _check_scale(scale, scored, d, fail)

    for rule in d.item_flags:
        unknown = set(rule.items) - all_items
        if unknown:
            raise fail(f"item flag '{rule.code}' names unknown items {sorted(unknown)}")
    for criterion in d.criteria:
        for group in criterion.groups:
            if set(group.items) - scored:
                raise fail(f"criterion '{criterion.id}' group '{group.name}' names unknown items")
            if not 0 < group.min_endorsed <= len(group.items):
                raise fail(f"criterion '{criterion.id}' group '{group.name}': bad minimum")
    if d.paired_form == d.id:
        raise fail("paired_form must name another instrument")
    k = d.concordance
    if k is not None:
        if d.paired_form is None or d.respondent is not Respondent.CLIENT:
            raise fail("concordance constants belong on the client form of a pair")
        if min(k.sd_client, k.sd_therapist) <= 0:
            raise fail("concordance SDs must be positive")
        if not (0 < k.reliability_client < 1 and 0 < k.reliability_therapist < 1):
            raise fail("concordance reliabilities must lie strictly between 0 and 1")


def _check_scale(scale: Scale, scored: set[str], d: InstrumentDefinition, fail: _Fail) -> None:
    where = f"scale '{scale.id}'"
    if not scale.items:
        raise fail(f"{where} has no items")
    if len(set(scale.items)) != len(scale.items):
        raise fail(f"{where} lists an item twice")
    if set(scale.items) - scored:
        raise fail(f"{where} names items that are unknown or unscored")
    rule = scale.missing
    if not 0 <= rule.max_missing < len(scale.items):
        raise fail(f"{where}: max_missing must be between 0 and the item count minus one")
    if rule.max_missing > 0 and not rule.prorate:
        # A sum over fewer items would silently under-count; a mean already prorates.
        raise fail(f"{where}: allowing missing items requires prorate = true")
    if scale.aggregation not in _SUMS and rule.max_missing == 0 and rule.prorate:
        raise fail(f"{where}: prorate = true with max_missing = 0 is meaningless")
    if scale.bands is not None:
        mins = [b.min for b in scale.bands.bands]
        if not mins or mins != sorted(set(mins)):
            raise fail(f"{where}: band minimums must be strictly increasing")
    populations = [c.population for c in scale.cutoffs]
    if len(set(populations)) != len(populations):
        raise fail(f"{where}: more than one cut-off for a population")
    if set(populations) - set(d.populations):
        raise fail(f"{where}: cut-off for a population the instrument does not declare")
    rc = scale.reliable_change
    if rc is not None:
        has_threshold = rc.threshold is not None and rc.threshold > 0
        has_inputs = rc.sd is not None and rc.reliability is not None
        if not (has_threshold or has_inputs):
            raise fail(f"{where}: reliable_change needs a threshold or sd and reliability")
        if rc.reliability is not None and not 0 < rc.reliability < 1:
            raise fail(f"{where}: reliability must lie strictly between 0 and 1")
    if scale.rounding is not None and not 0 <= scale.rounding.digits <= 6:
        raise fail(f"{where}: rounding digits must be between 0 and 6")
    norms = scale.norms
    if norms is not None:
        sds = [norms.clinical_sd, norms.functional_sd]
        if any(sd is not None and sd <= 0 for sd in sds):
            raise fail(f"{where}: norm SDs must be positive")
        if (norms.functional_mean is None) != (norms.functional_sd is None):
            raise fail(f"{where}: give both functional_mean and functional_sd, or neither")


def _unique(values: Iterable[str], what: str, fail: _Fail) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise fail(f"duplicate {what} '{value}'")
        seen.add(value)


def _cited_sources(d: InstrumentDefinition) -> Iterable[str]:
    yield d.licence.source
    for item in d.items:
        yield item.response.source
    for scale in d.scales:
        yield scale.missing.source
        if scale.bands is not None:
            yield scale.bands.source
        for cutoff in scale.cutoffs:
            yield cutoff.source
        if scale.reliable_change is not None:
            yield scale.reliable_change.source
        if scale.norms is not None:
            yield scale.norms.source
        if scale.rounding is not None:
            yield scale.rounding.source
    for rule in d.item_flags:
        yield rule.source
    for criterion in d.criteria:
        yield criterion.source
    if d.concordance is not None:
        yield d.concordance.source
