"""The generic scorer: validate responses against a definition, then score every scale.

A ``Scorer`` is compiled once per definition (item positions, reverse-keying bases and
scale index tuples are precomputed), so scoring an administration is a few passes over
small lists. Validation collects every offending item before failing, so an integrator
fixes a payload in one round trip.
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import NamedTuple

from service.domain.errors import FieldError, UnknownPopulation
from service.domain.instruments.model import (
    Aggregation,
    Comparison,
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
from service.domain.scoring.validation import ItemSpec, validate

# 2: scales that declare `rounding` are rounded half up before banding (issue 16, item 9).
SCORER_VERSION = "2"
DEFAULT_POPULATION = Population.ADULT
_MULTIPLIER = {
    Aggregation.SUM: 1.0,
    Aggregation.SUM_X2: 2.0,
    Aggregation.SUM_X4: 4.0,
    Aggregation.MEAN: 1.0,
    Aggregation.MEAN_X10: 10.0,
}
_PER_ITEM = {Aggregation.SUM, Aggregation.SUM_X2, Aggregation.SUM_X4}
# Scores keep nine decimals: enough for any prorated or mean score, and it drops binary
# floating-point noise (0.30000000000000004) so equal administrations give equal numbers.
_DIGITS = 9
_COMPARE = {
    Comparison.GE: operator.ge,
    Comparison.GT: operator.gt,
    Comparison.LE: operator.le,
    Comparison.LT: operator.lt,
}


class _ScaleSpec(NamedTuple):
    """A scale compiled for speed: unpacked in one step on the hot path."""

    id: str
    name: str
    aggregation: Aggregation
    pick: Callable[[list[float | None]], tuple[float | None, ...]]
    item_ids: tuple[str, ...]
    n_items: int
    max_missing: int
    multiplier: float
    per_item: bool  # sums scale by item count; means do not
    band_mins: tuple[float, ...]
    band_labels: tuple[str, ...]
    cutoffs: dict[Population, tuple[Callable[[float, float], bool], float]]
    rule: AppliedRule
    quantum: Decimal | None  # the declared rounding step (Decimal(1) for whole numbers)

    @classmethod
    def of(cls, scale: Scale, position: Mapping[str, int]) -> _ScaleSpec:
        bands = scale.bands.bands if scale.bands is not None else ()
        return cls(
            id=scale.id,
            name=scale.name,
            aggregation=scale.aggregation,
            pick=_picker(tuple(position[i] for i in scale.items)),
            item_ids=scale.items,
            n_items=len(scale.items),
            max_missing=scale.missing.max_missing,
            multiplier=_MULTIPLIER[scale.aggregation],
            per_item=scale.aggregation in _PER_ITEM,
            band_mins=tuple(b.min for b in bands),
            band_labels=tuple(b.label for b in bands),
            cutoffs={c.population: (_COMPARE[c.comparison], c.value) for c in scale.cutoffs},
            rule=AppliedRule(
                scale.missing.max_missing, scale.missing.prorate, scale.missing.source
            ),
            quantum=(
                Decimal(1).scaleb(-scale.rounding.digits) if scale.rounding is not None else None
            ),
        )


class Scorer:
    """Scores administrations of one instrument definition."""

    def __init__(self, definition: InstrumentDefinition) -> None:
        self.definition = definition
        self._ids = tuple(item.id for item in definition.items)
        self._specs = {
            item.id: ItemSpec(
                position=i,
                low=item.response.min,
                high=item.response.max,
                integer=item.response.type is ResponseType.INTEGER,
                reverse_base=item.response.min + item.response.max if item.reverse else None,
            )
            for i, item in enumerate(definition.items)
        }
        self._scored_indices = tuple(i for i, item in enumerate(definition.items) if item.scored)
        position = {item_id: i for i, item_id in enumerate(self._ids)}
        self._position = position
        self._scales = tuple(_ScaleSpec.of(scale, position) for scale in definition.scales)
        self._total_index = [s.id for s in definition.scales].index(definition.total_scale)
        self._population_flag_cache = {
            (pop, scored): self._population_flags(pop, scored)
            for pop in Population
            for scored in (False, True)
        }
        self._provenance = {
            (pop, defaulted): Provenance(
                definition.id, definition.version, pop, defaulted, SCORER_VERSION
            )
            for pop in Population
            for defaulted in (False, True)
        }

    def check(self, responses: Mapping[str, object]) -> None:
        """Raise what ``score`` raises for these answers (InvalidResponses...), scoring
        nothing: for callers that score later, once the population is known."""
        validate(self._specs, self._ids, responses, self.definition.short_name)

    def score(self, responses: Mapping[str, object], population: str | None = None) -> ScoreResult:
        pop, defaulted = _population(population)
        raw, keyed = validate(self._specs, self._ids, responses, self.definition.short_name)
        d = self.definition
        flags: list[Flag] = []
        scales = tuple([self._score_scale(spec, keyed, pop, flags) for spec in self._scales])
        total = scales[self._total_index]
        if d.item_flags:
            flags.extend(evaluate_item_flags(d.item_flags, raw, self._position))
        criteria: tuple[CriterionOutcome, ...] = ()
        if d.criteria:
            criteria, criterion_flags = evaluate_criteria(d.criteria, raw, self._position)
            flags.extend(criterion_flags)
        flags.extend(self._population_flag_cache[pop, total.score is not None])
        missing = (
            tuple([self._ids[i] for i in self._scored_indices if raw[i] is None])
            if None in raw
            else ()
        )
        return ScoreResult(
            d.id,
            total.score,
            total.band,
            total.clinical,
            scales,
            tuple(flags),
            total.prorated,
            missing,
            criteria,
            self._provenance[pop, defaulted],
        )

    def _population_flags(self, pop: Population, scored: bool) -> tuple[Flag, ...]:
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
        return tuple(flags)

    def _score_scale(
        self, spec: _ScaleSpec, keyed: list[float | None], pop: Population, flags: list[Flag]
    ) -> ScaleScore:
        # One unpacking instead of a dozen attribute look-ups: this runs per scale per request.
        (sid, name, agg, pick, item_ids, n_items, max_missing, multiplier, per_item,
         band_mins, band_labels, cutoffs, rule, quantum) = spec  # fmt: skip
        values = pick(keyed)
        if None in values:
            missing = tuple([i for i, v in zip(item_ids, values, strict=True) if v is None])
            answered: Sequence[float] = [v for v in values if v is not None]
        else:
            missing = ()
            answered = values  # type: ignore[assignment]  # no None in it
        n_missing = len(missing)
        if n_missing > max_missing or not answered:
            flags.append(_not_scorable(spec, missing))
            return ScaleScore(
                sid, name, None, agg, None, None, None, len(answered), missing, False, rule
            )
        mean = sum(answered) / len(answered)
        score = round((mean * n_items if per_item else mean) * multiplier, _DIGITS)
        if quantum is not None and not score.is_integer():
            # A prorated total is fractional; the band and cut-off must follow the number
            # a clinician sees (see Rounding).
            score = _round_half_up(score, quantum)
        cutoff = cutoffs.get(pop)
        return ScaleScore(
            sid,
            name,
            score,
            agg,
            mean,
            band_labels[bisect_right(band_mins, score) - 1] if band_mins else None,
            cutoff[0](score, cutoff[1]) if cutoff is not None else None,
            len(answered),
            missing,
            n_missing > 0,
            rule,
        )


def _round_half_up(score: float, quantum: Decimal) -> float:
    """Round half away from zero on the decimal value (scores are never negative here).

    ``repr`` gives the shortest decimal that round-trips, so 14.5 is exactly 14.5 and
    rounds to 15, where Python's ``round`` would give the even 14.
    """
    return float(Decimal(repr(score)).quantize(quantum, rounding=ROUND_HALF_UP))


def _not_scorable(spec: _ScaleSpec, missing: tuple[str, ...]) -> Flag:
    return Flag(
        code="not-scorable",
        message=(
            f"Scale '{spec.id}' has {len(missing)} missing item(s); at most "
            f"{spec.max_missing} may be missing."
        ),
        items=missing,
        scale=spec.id,
        source=spec.rule.source,
    )


def _picker(indices: tuple[int, ...]) -> Callable[[list[float | None]], tuple[float | None, ...]]:
    """A C-speed gather of a scale's values; itemgetter returns a bare value for one index."""
    if len(indices) == 1:
        only = indices[0]
        return lambda values: (values[only],)
    return itemgetter(*indices)


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
