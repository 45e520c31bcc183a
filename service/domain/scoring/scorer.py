"""The generic scorer: validate responses against a definition, then score every scale.

A ``Scorer`` is compiled once per definition (item positions, reverse-keying bases and
scale index tuples are precomputed), so scoring an administration is a few passes over
small lists. Validation collects every offending item before failing, so an integrator
fixes a payload in one round trip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from service.domain.errors import FieldError, InvalidResponses, UnknownPopulation
from service.domain.instruments.model import (
    Aggregation,
    InstrumentDefinition,
    Population,
    ResponseType,
    Scale,
)
from service.domain.scoring.result import (
    AppliedRule,
    CriterionOutcome,
    Flag,
    Provenance,
    ScaleScore,
    ScoreResult,
)
from service.domain.scoring.rules import evaluate_criteria, evaluate_item_flags

SCORER_VERSION = "1"
DEFAULT_POPULATION = Population.ADULT
_MULTIPLIER = {
    Aggregation.SUM: 1.0,
    Aggregation.SUM_X2: 2.0,
    Aggregation.SUM_X4: 4.0,
    Aggregation.MEAN: 1.0,
    Aggregation.MEAN_X10: 10.0,
}
_PER_ITEM = {Aggregation.SUM, Aggregation.SUM_X2, Aggregation.SUM_X4}


@dataclass(frozen=True, slots=True)
class _ItemSpec:
    index: int
    low: float
    high: float
    integer: bool
    reverse_base: float | None  # keyed value = reverse_base - answer for reverse-keyed items


@dataclass(frozen=True, slots=True)
class _ScaleSpec:
    scale: Scale
    indices: tuple[int, ...]
    item_ids: tuple[str, ...]
    multiplier: float
    per_item: bool  # sums scale by item count; means do not
    rule: AppliedRule


class Scorer:
    """Scores administrations of one instrument definition."""

    def __init__(self, definition: InstrumentDefinition) -> None:
        self.definition = definition
        self._ids = tuple(item.id for item in definition.items)
        self._specs = {
            item.id: _ItemSpec(
                index=i,
                low=item.response.min,
                high=item.response.max,
                integer=item.response.type is ResponseType.INTEGER,
                reverse_base=item.response.min + item.response.max if item.reverse else None,
            )
            for i, item in enumerate(definition.items)
        }
        self._scored = tuple(item.id for item in definition.items if item.scored)
        position = {item_id: i for i, item_id in enumerate(self._ids)}
        self._position = position
        self._scales = tuple(
            _ScaleSpec(
                scale=scale,
                indices=tuple(position[i] for i in scale.items),
                item_ids=scale.items,
                multiplier=_MULTIPLIER[scale.aggregation],
                per_item=scale.aggregation in _PER_ITEM,
                rule=AppliedRule(
                    scale.missing.max_missing, scale.missing.prorate, scale.missing.source
                ),
            )
            for scale in definition.scales
        )

    def score(self, responses: Mapping[str, object], population: str | None = None) -> ScoreResult:
        pop, defaulted = _population(population)
        raw, keyed = self._validate(responses)
        d = self.definition
        flags: list[Flag] = []
        scales = tuple(self._score_scale(spec, keyed, pop, flags) for spec in self._scales)
        total = next(s for s in scales if s.id == d.total_scale)
        flags.extend(evaluate_item_flags(d.item_flags, raw, self._position))
        criteria: tuple[CriterionOutcome, ...] = ()
        if d.criteria:
            criteria, criterion_flags = evaluate_criteria(d.criteria, raw, self._position)
            flags.extend(criterion_flags)
        flags.extend(self._population_flags(pop, total.score is not None))
        missing = tuple(i for i in self._scored if raw[self._specs[i].index] is None)
        return ScoreResult(
            instrument=d.id,
            total=total.score,
            band=total.band,
            clinical=total.clinical,
            scales=scales,
            flags=tuple(flags),
            prorated=total.prorated,
            missing=missing,
            criteria=criteria,
            provenance=Provenance(d.id, d.version, pop, defaulted, SCORER_VERSION),
        )

    def _population_flags(self, pop: Population, scored: bool) -> list[Flag]:
        d = self.definition
        flags = []
        if pop not in d.populations:
            flags.append(
                Flag(
                    code="population-not-validated",
                    message=f"{d.short_name} is not declared for use with the {pop} population.",
                )
            )
        if scored and d.total.cutoffs and d.total.cutoff_for(pop) is None:
            flags.append(
                Flag(
                    code="cutoff-unavailable",
                    message=f"{d.short_name} has no published cut-off for the {pop} population.",
                    scale=d.total_scale,
                )
            )
        return flags

    def _validate(
        self, responses: Mapping[str, object]
    ) -> tuple[list[float | None], list[float | None]]:
        raw: list[float | None] = [None] * len(self._ids)
        keyed: list[float | None] = [None] * len(self._ids)
        errors: list[FieldError] = []
        for item_id, value in responses.items():
            spec = self._specs.get(item_id)
            if spec is None:
                errors.append(FieldError(item_id, "unknown-item", _unknown(item_id, self._ids)))
                continue
            if value is None:
                continue
            number = _number(item_id, value, spec, errors)
            if number is None:
                continue
            raw[spec.index] = number
            keyed[spec.index] = number if spec.reverse_base is None else spec.reverse_base - number
        if errors:
            errors.sort(key=lambda e: _natural(e.field))
            names = ", ".join(e.field for e in errors)
            raise InvalidResponses(
                f"{len(errors)} response(s) do not fit {self.definition.short_name}: {names}",
                tuple(errors),
            )
        return raw, keyed

    def _score_scale(
        self, spec: _ScaleSpec, keyed: list[float | None], pop: Population, flags: list[Flag]
    ) -> ScaleScore:
        scale = spec.scale
        values = [v for v in (keyed[i] for i in spec.indices) if v is not None]
        n_missing = len(spec.indices) - len(values)
        missing = (
            tuple(i for i, ix in zip(spec.item_ids, spec.indices, strict=True) if keyed[ix] is None)
            if n_missing
            else ()
        )
        if n_missing > scale.missing.max_missing or not values:
            flags.append(
                Flag(
                    code="not-scorable",
                    message=(
                        f"Scale '{scale.id}' has {n_missing} missing item(s); at most "
                        f"{scale.missing.max_missing} may be missing."
                    ),
                    items=missing,
                    scale=scale.id,
                    source=scale.missing.source,
                )
            )
            return ScaleScore(
                scale.id, scale.name, None, scale.aggregation, None, None, None,
                len(values), missing, False, spec.rule,
            )  # fmt: skip
        mean = math.fsum(values) / len(values)
        base = mean * len(spec.indices) if spec.per_item else mean
        score = _clean(base * spec.multiplier)
        cutoff = scale.cutoff_for(pop)
        return ScaleScore(
            id=scale.id,
            name=scale.name,
            score=score,
            metric=scale.aggregation,
            mean=_clean(mean),
            band=scale.bands.label_for(score) if scale.bands is not None else None,
            clinical=cutoff.comparison.holds(score, cutoff.value) if cutoff else None,
            answered=len(values),
            missing=missing,
            prorated=n_missing > 0,
            rule=spec.rule,
        )


def _population(value: str | None) -> tuple[Population, bool]:
    if value is None:
        return DEFAULT_POPULATION, True
    try:
        return Population(value), False
    except ValueError:
        allowed = ", ".join(p.value for p in Population)
        raise UnknownPopulation(
            f"Unknown population '{value}'.",
            (FieldError("population", "unknown-population", f"Expected one of: {allowed}."),),
        ) from None


def _number(item_id: str, value: object, spec: _ItemSpec, errors: list[FieldError]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a whole number" if spec.integer else "a number"
        errors.append(FieldError(item_id, "wrong-type", f"Expected {kind}, got {_kind(value)}."))
        return None
    number = float(value)
    if not math.isfinite(number):
        errors.append(FieldError(item_id, "wrong-type", "Expected a finite number."))
        return None
    if spec.integer and not number.is_integer():
        errors.append(FieldError(item_id, "not-integer", f"Expected a whole number, got {value}."))
        return None
    if not spec.low <= number <= spec.high:
        errors.append(
            FieldError(
                item_id,
                "out-of-range",
                f"{value} is outside the response range {_fmt(spec.low)} to {_fmt(spec.high)}.",
            )
        )
        return None
    return number


def _clean(x: float) -> float:
    """Drop binary floating-point noise (0.30000000000000004) without rounding real digits."""
    return round(x, 9)


def _fmt(x: float) -> str:
    return str(int(x)) if x.is_integer() else str(x)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _unknown(item_id: str, ids: tuple[str, ...]) -> str:
    return f"'{item_id}' is not an item of this instrument (items: {', '.join(ids)})."


def _natural(field: str) -> tuple[int, str]:
    return (int(field), "") if field.isdigit() else (10**9, field)
