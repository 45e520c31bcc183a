"""Dyad concordance: does the client's rating of the alliance agree with the therapist's?

Descriptive information, not an outcome predictor: clients usually rate the alliance higher
than therapists (Tryon et al. 2007: r = .36, d = .63), and whether agreement predicts outcome
is mixed in the literature (instruments.md section 5). No validated discordance threshold
exists, so Rapport's rule is a documented design (``DiscordanceRule``): a session is
discordant when the difference departs from the expected client-over-therapist offset by
more than the measurement error of a difference,

    SE_D = sqrt(SD_C^2 (1 - r_C) + SD_T^2 (1 - r_T)),  |D - offset| > z x SE_D,

the Jacobson-Truax logic applied to two raters. Across sessions: Bland-Altman bias and 95 %
limits of agreement (bias +/- 1.96 SD of the differences), the Pearson correlation of the
two series, and convergence (the least-squares slope of |D| over session number).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.domain.progress import Observation, latest_per_session

RULE_VERSION = "concordance-1"
DISCORDANCE_NOTE = (
    "Discordance is descriptive information, not an outcome predictor: clients usually rate "
    "the alliance higher than therapists, and the evidence that agreement predicts outcome "
    "is mixed. No validated threshold exists; Rapport's rule is documented in `rule`."
)


class Direction(StrEnum):
    CLIENT_HIGHER = "client-higher"
    THERAPIST_HIGHER = "therapist-higher"
    EQUAL = "equal"


@dataclass(frozen=True, slots=True)
class DiscordanceRule:
    """Constants of one client/therapist instrument pair, each from a cited source."""

    sd_client: float
    sd_therapist: float
    reliability_client: float
    reliability_therapist: float
    expected_offset: float  # client minus therapist, on the total
    source: str
    z: float = 1.96

    @property
    def se_difference(self) -> float:
        return math.sqrt(
            self.sd_client**2 * (1 - self.reliability_client)
            + self.sd_therapist**2 * (1 - self.reliability_therapist)
        )

    @property
    def bound(self) -> float:
        return self.z * self.se_difference

    def discordant(self, difference: float) -> bool:
        return abs(difference - self.expected_offset) > self.bound


@dataclass(frozen=True, slots=True)
class PairedRating:
    """Client and therapist scores of one session, with per-subscale differences."""

    session: int
    client_administration: uuid.UUID
    therapist_administration: uuid.UUID
    client: float
    therapist: float
    difference: float
    direction: Direction
    discordant: bool
    subscales: tuple[tuple[str, float, float, float], ...]  # (scale, client, therapist, diff)


@dataclass(frozen=True, slots=True)
class Agreement:
    n: int
    bias: float | None
    sd: float | None
    lower_limit: float | None
    upper_limit: float | None
    correlation: float | None
    convergence_slope: float | None  # change of |D| per session; negative: converging
    converging: bool | None


@dataclass(frozen=True, slots=True)
class Rated:
    """A scored administration with its subscale scores, as the store provides it."""

    observation: Observation
    scales: dict[str, float | None]


def pair_sessions(
    client: Sequence[Rated], therapist: Sequence[Rated], rule: DiscordanceRule, total: str
) -> list[PairedRating]:
    therapist_by_session = _latest(therapist)
    discordant = rule.discordant
    pairs = []
    for session, c in sorted(_latest(client).items()):
        t = therapist_by_session.get(session)
        if t is None or c.observation.total is None or t.observation.total is None:
            continue
        diff = round(c.observation.total - t.observation.total, 9)
        theirs = t.scales
        subscales = tuple(
            [
                (name, cs, ts, round(cs - ts, 9))
                for name, cs in c.scales.items()
                if name != total and cs is not None and (ts := theirs.get(name)) is not None
            ]
        )
        pairs.append(
            PairedRating(
                session=session,
                client_administration=c.observation.administration_id,
                therapist_administration=t.observation.administration_id,
                client=c.observation.total,
                therapist=t.observation.total,
                difference=diff,
                direction=_direction(diff),
                discordant=discordant(diff),
                subscales=subscales,
            )
        )
    return pairs


def agreement(pairs: Sequence[tuple[int, float, float]]) -> Agreement:
    """Agreement statistics over (session, client, therapist) triples."""
    n = len(pairs)
    diffs = [c - t for _, c, t in pairs]
    bias = _mean(diffs) if n else None
    sd = _sd(diffs) if n >= 2 else None
    lower = upper = None
    if bias is not None and sd is not None:
        lower, upper = bias - 1.96 * sd, bias + 1.96 * sd
    correlation = _pearson([c for _, c, _ in pairs], [t for _, _, t in pairs]) if n >= 3 else None
    slope = _slope([s for s, _, _ in pairs], [abs(d) for d in diffs]) if n >= 3 else None
    return Agreement(
        n=n,
        bias=_r(bias),
        sd=_r(sd),
        lower_limit=_r(lower),
        upper_limit=_r(upper),
        correlation=_r(correlation),
        convergence_slope=_r(slope),
        converging=None if slope is None else slope < 0,
    )


def _latest(rated: Sequence[Rated]) -> dict[int, Rated]:
    by_id = {r.observation.administration_id: r for r in rated}
    return {
        o.session: by_id[o.administration_id]
        for o in latest_per_session(r.observation for r in rated)
    }


def _direction(diff: float) -> Direction:
    if diff > 0:
        return Direction.CLIENT_HIGHER
    if diff < 0:
        return Direction.THERAPIST_HIGHER
    return Direction.EQUAL


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs)


def _sd(xs: Sequence[float]) -> float:
    return math.sqrt(_sum_of_squares(_deviations(xs)) / (len(xs) - 1))


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    dx, dy = _deviations(xs), _deviations(ys)
    sxx, syy = _sum_of_squares(dx), _sum_of_squares(dy)
    if sxx == 0 or syy == 0:
        return None  # a constant series has no correlation
    return _sum_of_products(dx, dy) / math.sqrt(sxx * syy)


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    dx = _deviations(xs)
    sxx = _sum_of_squares(dx)
    if sxx == 0:
        return None
    return _sum_of_products(dx, _deviations(ys)) / sxx


# Lists rather than generators: the same terms in the same order (so the same exact sums),
# at half the cost; a 100-session concordance sums 40 of them (bench/insights.py).
def _deviations(xs: Sequence[float]) -> list[float]:
    m = _mean(xs)
    return [x - m for x in xs]


def _sum_of_squares(ds: list[float]) -> float:
    return math.fsum([d * d for d in ds])


def _sum_of_products(dx: list[float], dy: list[float]) -> float:
    return math.fsum([a * b for a, b in zip(dx, dy, strict=True)])


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)
