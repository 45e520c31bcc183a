"""NHS Talking Therapies (formerly IAPT) paired outcomes for PHQ-9 with GAD-7.

Constants (sources in docs/clinical-rules.md):
- caseness: PHQ-9 >= 10 and/or GAD-7 >= 8 (Clark 2018, Table 2; NHS Data Dictionary);
- reliable change: PHQ-9 6 points, GAD-7 4 points (Clark 2018);
- recovery: a case at the first paired measurement and not a case at the last;
- reliable recovery: recovery and reliable improvement.

Pairing: a session counts when both PHQ-9 and GAD-7 were scored in it; the first and the last
such sessions are compared. The combination rules for the pair are not in the retrieved text
of the NHS TT manual, so both are configurable (``PairRules``):
- reliable improvement (default, the UK convention also used by CORC): improvement on at
  least one measure and no reliable deterioration on the other;
- reliable deterioration (default ``no-improvement-on-other``): deterioration on at least one
  and no reliable improvement on the other; ``any`` follows CORC (deterioration on one or
  more measures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.domain.progress import Observation, latest_per_session

PHQ9_CASENESS = 10.0
GAD7_CASENESS = 8.0
PHQ9_RELIABLE = 6.0
GAD7_RELIABLE = 4.0
RULES_VERSION = "nhs-tt-1"


class DeteriorationRule(StrEnum):
    NO_IMPROVEMENT_ON_OTHER = "no-improvement-on-other"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class PairRules:
    deterioration: DeteriorationRule = DeteriorationRule.NO_IMPROVEMENT_ON_OTHER


@dataclass(frozen=True, slots=True)
class PairedOutcome:
    applicable: bool
    reason: str
    first_session: int | None = None
    last_session: int | None = None
    caseness_first: bool | None = None
    caseness_last: bool | None = None
    recovery: bool | None = None
    reliable_improvement: bool | None = None
    reliable_deterioration: bool | None = None
    reliable_recovery: bool | None = None
    rules_version: str = RULES_VERSION
    deterioration_rule: DeteriorationRule = DeteriorationRule.NO_IMPROVEMENT_ON_OTHER


def is_case(phq9: float, gad7: float) -> bool:
    return phq9 >= PHQ9_CASENESS or gad7 >= GAD7_CASENESS


def paired_outcome(
    phq9: Sequence[Observation], gad7: Sequence[Observation], rules: PairRules = PairRules()
) -> PairedOutcome:
    phq = {o.session: o.total for o in latest_per_session(phq9) if o.total is not None}
    gad = {o.session: o.total for o in latest_per_session(gad7) if o.total is not None}
    sessions = sorted(set(phq) & set(gad))
    if len(sessions) < 2:
        return PairedOutcome(False, "fewer than two sessions with both PHQ-9 and GAD-7 scored")
    first, last = sessions[0], sessions[-1]
    phq_drop = phq[first] - phq[last]  # positive: fewer symptoms
    gad_drop = gad[first] - gad[last]
    phq_better, phq_worse = phq_drop >= PHQ9_RELIABLE, -phq_drop >= PHQ9_RELIABLE
    gad_better, gad_worse = gad_drop >= GAD7_RELIABLE, -gad_drop >= GAD7_RELIABLE
    improvement = (phq_better and not gad_worse) or (gad_better and not phq_worse)
    if rules.deterioration is DeteriorationRule.ANY:
        deterioration = phq_worse or gad_worse
    else:
        deterioration = (phq_worse and not gad_better) or (gad_worse and not phq_better)
    case_first = is_case(phq[first], gad[first])
    case_last = is_case(phq[last], gad[last])
    recovery = case_first and not case_last
    return PairedOutcome(
        applicable=True,
        reason="compared the first and last sessions with both measures",
        first_session=first,
        last_session=last,
        caseness_first=case_first,
        caseness_last=case_last,
        recovery=recovery if case_first else None,  # not a case at the start: cannot recover
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        reliable_recovery=(recovery and improvement) if case_first else None,
        deterioration_rule=rules.deterioration,
    )
