"""Practitioner calibration from per-dyad summaries of client-minus-therapist differences.

A practitioner's calibration (how their ratings of the alliance sit against their clients')
spans every dyad of their caseload. Rescanning every administration of 2,000 dyads on each
request costs seconds (issue 15), so each dyad keeps a summary of the differences of its
paired sessions, rewritten whenever one of its sessions changes, and the caseload's figures
are combined from those summaries.

A session's difference is the total of the latest client form of that session minus the
total of the latest therapist form (a re-administration supersedes; a voided administration
counts nowhere); a session without both, or with an unscorable latest form, has none.

A dyad's summary holds ``pairs`` (n), ``difference_sum`` (the exactly rounded sum,
``math.fsum``) and ``squared_deviations`` (the sum of squared deviations from the dyad's own
mean, M2). From them the dyad's mean and SD are the ones computed from its differences
directly, to the last bit. The caseload's mean and SD combine the dyads' summaries with the
pairwise formula of Chan, Golub and LeVeque (1979), M2 = sum(M2_i) + sum(n_i (mean_i -
mean)^2), which agrees with a computation over every difference to rounding error (about
1e-12 here; the figures are published to six decimals), without reading them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from service.domain.progress import Observation, latest_per_session

# Bump when what a summary holds, or how a session's difference is found, changes: summaries
# written by an earlier rule are then rebuilt from the administrations (forms_key).
SUMMARY_RULE = "alliance-summary-1"


@dataclass(frozen=True, slots=True)
class DyadDifferences:
    """A dyad's paired sessions of one client/therapist pair, summarised."""

    pairs: int
    difference_sum: float
    squared_deviations: float

    @classmethod
    def of(cls, differences: Sequence[float]) -> DyadDifferences | None:
        """The summary of some differences; None for none."""
        if not differences:
            return None
        total = math.fsum(differences)
        mean = total / len(differences)
        deviations = [d - mean for d in differences]
        return cls(len(differences), total, math.fsum([d * d for d in deviations]))

    @property
    def mean(self) -> float:
        return self.difference_sum / self.pairs

    @property
    def sd(self) -> float | None:
        """Sample SD of the differences (None below two)."""
        return math.sqrt(self.squared_deviations / (self.pairs - 1)) if self.pairs > 1 else None


@dataclass(frozen=True, slots=True)
class Caseload:
    """Mean and SD of every difference of a set of dyads."""

    pairs: int
    mean: float | None
    sd: float | None


def combine(summaries: Iterable[DyadDifferences]) -> Caseload:
    """The caseload's figures from its dyads' summaries (Chan et al. 1979)."""
    dyads = list(summaries)
    n = sum(s.pairs for s in dyads)
    if n == 0:
        return Caseload(0, None, None)
    mean = math.fsum(s.difference_sum for s in dyads) / n
    if n < 2:
        return Caseload(n, mean, None)
    m2 = math.fsum(
        [s.squared_deviations for s in dyads]
        + [s.pairs * (s.mean - mean) * (s.mean - mean) for s in dyads]
    )
    return Caseload(n, mean, math.sqrt(m2 / (n - 1)))


def session_differences(
    client: Iterable[Observation], therapist: Iterable[Observation]
) -> dict[int, float]:
    """Each paired session's difference from forms given oldest first: the whole history
    of a dyad (a rebuild), or one session's forms (a store or a void). A session has none
    when either side has no form, or its latest form is not scorable."""
    t = {o.session: o.total for o in latest_per_session(therapist)}
    return {
        o.session: o.total - theirs
        for o in latest_per_session(client)
        if o.total is not None and (theirs := t.get(o.session)) is not None
    }


def forms_key(pairs: Mapping[str, str]) -> str:
    """What the stored summaries were built for: the rule and the client/therapist pairs.
    Summaries kept under another key are rebuilt (a pair added by an instrument file)."""
    return ";".join([SUMMARY_RULE, *(f"{c}/{t}" for c, t in sorted(pairs.items()))])


__all__ = [
    "SUMMARY_RULE",
    "Caseload",
    "DyadDifferences",
    "combine",
    "forms_key",
    "session_differences",
]
