"""The shape of an instrument definition.

A definition is data: it is read from a TOML file (see ``loader``) into these frozen
dataclasses and interpreted by the one generic scorer. Every clinical constant in a
definition names the source it comes from (``source`` is the id of an entry in
``InstrumentDefinition.sources``); a source of kind ``rapport-default`` marks a value
Rapport chose where the literature is silent, with its rationale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

# Tolerance for binary floating-point noise when comparing a change with a threshold: a
# change of exactly 1.96 x S_diff must not pass because the product rounded down.
_EPSILON = 1e-9


class Respondent(StrEnum):
    CLIENT = "client"
    THERAPIST = "therapist"


class Direction(StrEnum):
    """Which way is clinically better for the instrument's scores."""

    HIGHER_IS_WORSE = "higher-is-worse"
    HIGHER_IS_BETTER = "higher-is-better"


class Construct(StrEnum):
    """What an instrument measures, which decides the alerts it can raise."""

    ALLIANCE = "alliance"
    OUTCOME = "outcome"


class Population(StrEnum):
    ADULT = "adult"
    ADOLESCENT = "adolescent"
    CHILD = "child"


class Aggregation(StrEnum):
    """How a scale turns its item values into a score (the scale's reporting metric)."""

    SUM = "sum"
    MEAN = "mean"
    MEAN_X10 = "mean-x10"
    SUM_X2 = "sum-x2"
    SUM_X4 = "sum-x4"


class ResponseType(StrEnum):
    INTEGER = "integer"  # a Likert answer: whole numbers only
    DECIMAL = "decimal"  # a visual-analogue line measured in cm, decimals allowed


class SourceKind(StrEnum):
    PUBLISHED = "published"  # the developers' paper, manual or an authoritative standard
    SECONDARY = "secondary"  # corroboration: vendor pages, scoring libraries
    RAPPORT_DEFAULT = "rapport-default"  # Rapport's documented choice where no source decides


class Comparison(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"

    def holds(self, value: float, threshold: float) -> bool:
        if self is Comparison.GE:
            return value >= threshold
        if self is Comparison.GT:
            return value > threshold
        if self is Comparison.LE:
            return value <= threshold
        return value < threshold


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    kind: SourceKind
    citation: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseOption:
    value: int
    label: str
    code: str | None = None  # e.g. a LOINC answer code (LA6568-5)


@dataclass(frozen=True, slots=True)
class ResponseScale:
    type: ResponseType
    min: float
    max: float
    source: str
    options: tuple[ResponseOption, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    label: str  # a neutral domain label, never the licensed wording
    response: ResponseScale
    reverse: bool = False
    scored: bool = True  # unscored items (PHQ-9 item 10) are accepted but never counted
    text: str | None = None  # wording, only where the licence allows reproducing it
    loinc: str | None = None


@dataclass(frozen=True, slots=True)
class MissingRule:
    """How many of a scale's items may be missing, and whether the score is then prorated.

    Prorating scales the mean of the answered items up to the full item count, which is the
    same as replacing each missing item by the mean of the answered ones.
    """

    max_missing: int
    prorate: bool
    source: str


@dataclass(frozen=True, slots=True)
class Rounding:
    """How a scale's score is rounded before it is banded, compared and stored.

    Where the published score is a whole number (a PHQ-9 total), a prorated total such
    as 13 x 9/8 = 14.625 must be reported as the number a clinician would see (15), and
    the band and cut-off must follow that number, not the unrounded one. Rounding is half
    up (14.5 -> 15, 4.5 -> 5), as hand scoring and the CMS MDS rule do, never Python's
    round-half-to-even.
    """

    digits: int  # decimal places kept; 0 rounds to a whole number
    source: str


@dataclass(frozen=True, slots=True)
class Band:
    """A severity band: scores from ``min`` (inclusive) up to the next band's ``min``."""

    label: str
    min: float


@dataclass(frozen=True, slots=True)
class Bands:
    bands: tuple[Band, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Cutoff:
    """The clinical cut-off of a scale for one population: clinical when ``score op value``."""

    population: Population
    comparison: Comparison
    value: float
    source: str


@dataclass(frozen=True, slots=True)
class ReliableChange:
    """Reliable-change constants: a published threshold, or SD and reliability (J&T 1991)."""

    source: str
    z: float = 1.96
    threshold: float | None = None
    sd: float | None = None
    reliability: float | None = None

    def is_reliable(self, change: float) -> bool:
        """Whether an absolute change is reliable.

        A published threshold is met at the threshold itself ("a change of 6 or more",
        NHS Talking Therapies); a computed one must be exceeded (|RC| > z, Jacobson and
        Truax 1991).
        """
        size = abs(change)
        if self.threshold is not None:
            return size >= self.threshold - _EPSILON
        return size > self.minimum_change + _EPSILON

    @property
    def minimum_change(self) -> float:
        """Smallest change that is reliable: the published threshold, else 1.96 x S_diff.

        S_diff = SD x sqrt(2 x (1 - r)) (Jacobson and Truax 1991); z replaces 1.96 when a
        definition states another confidence level (CORE-10 uses 90 %, z = 1.645).
        """
        if self.threshold is not None:
            return self.threshold
        assert self.sd is not None  # both checked at load time
        assert self.reliability is not None
        return self.z * self.sd * math.sqrt(2.0 * (1.0 - self.reliability))


@dataclass(frozen=True, slots=True)
class Norms:
    """Clinical (dysfunctional) and functional population means and SDs (J&T cut-offs a-c)."""

    clinical_mean: float
    clinical_sd: float
    source: str
    functional_mean: float | None = None
    functional_sd: float | None = None


@dataclass(frozen=True, slots=True)
class Scale:
    id: str
    name: str
    items: tuple[str, ...]
    aggregation: Aggregation
    missing: MissingRule
    bands: Bands | None = None
    cutoffs: tuple[Cutoff, ...] = ()
    reliable_change: ReliableChange | None = None
    loinc: str | None = None
    norms: Norms | None = None
    rounding: Rounding | None = None  # None: stored unrounded (only float noise removed)

    def cutoff_for(self, population: Population) -> Cutoff | None:
        for cutoff in self.cutoffs:
            if cutoff.population is population:
                return cutoff
        return None


@dataclass(frozen=True, slots=True)
class ItemFlagRule:
    """Raise flag ``code`` when any listed item's value satisfies ``comparison value``.

    Risk items (PHQ-9 item 9, CORE-10 item 6) are rules with code ``risk``; they fire
    independently of whether any total could be computed.
    """

    code: str
    items: tuple[str, ...]
    comparison: Comparison
    value: float
    description: str
    source: str


@dataclass(frozen=True, slots=True)
class CriterionGroup:
    name: str
    items: tuple[str, ...]
    min_endorsed: int


@dataclass(frozen=True, slots=True)
class CriterionRule:
    """A symptom-count rule such as the PCL-5 provisional DSM-5 diagnosis.

    An item is endorsed when its value is at least ``endorse_at``; the criterion is met when
    every group has at least ``min_endorsed`` endorsed items. The result is indeterminate
    (None) when missing items could change the answer.
    """

    id: str
    flag: str
    endorse_at: float
    groups: tuple[CriterionGroup, ...]
    description: str
    source: str


@dataclass(frozen=True, slots=True)
class ConcordanceConstants:
    """For a client form paired with a therapist form: the inputs of the discordance rule."""

    sd_client: float
    sd_therapist: float
    reliability_client: float
    reliability_therapist: float
    expected_offset: float  # client minus therapist on the total
    source: str


@dataclass(frozen=True, slots=True)
class Licence:
    name: str
    summary: str
    item_text_allowed: bool
    source: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class InstrumentDefinition:
    id: str
    name: str
    short_name: str
    version: str
    respondent: Respondent
    direction: Direction
    description: str
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    total_scale: str
    licence: Licence
    sources: tuple[Source, ...]
    populations: tuple[Population, ...] = (Population.ADULT,)
    construct: Construct = Construct.OUTCOME
    item_flags: tuple[ItemFlagRule, ...] = ()
    criteria: tuple[CriterionRule, ...] = ()
    paired_form: str | None = None
    concordance: ConcordanceConstants | None = None
    loinc_panel: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Scale:
        return self.scale(self.total_scale)

    def scale(self, scale_id: str) -> Scale:
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        raise KeyError(scale_id)

    def scale_range(self, scale: Scale) -> tuple[float, float]:
        """Lowest and highest possible score of a scale in its reporting metric."""
        responses = [self.item(i).response for i in scale.items]
        low, high = sum(r.min for r in responses), sum(r.max for r in responses)
        factor = {
            Aggregation.SUM: 1.0,
            Aggregation.SUM_X2: 2.0,
            Aggregation.SUM_X4: 4.0,
            Aggregation.MEAN: 1.0 / len(responses),
            Aggregation.MEAN_X10: 10.0 / len(responses),
        }[scale.aggregation]
        return low * factor, high * factor

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)
