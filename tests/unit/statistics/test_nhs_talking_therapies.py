"""Specification of NHS Talking Therapies paired outcomes (instruments.md section 4).

Caseness: PHQ-9 >= 10 and/or GAD-7 >= 8. Reliable change: PHQ-9 6, GAD-7 4 (met at the
threshold). Recovery: a case at the first paired session and not a case at the last.
Reliable improvement: improvement on at least one measure and no reliable deterioration on
the other. Reliable deterioration: configurable (no improvement on the other / any).
"""

from __future__ import annotations

import pytest

from service.domain.nhs_talking_therapies import (
    RULES_VERSION,
    DeteriorationRule,
    PairedOutcome,
    PairRules,
    is_case,
    paired_outcome,
)
from service.domain.progress import Observation
from tests.unit.statistics.builders import obs, series

ANY = PairRules(deterioration=DeteriorationRule.ANY)
NO_IMPROVEMENT = PairRules(deterioration=DeteriorationRule.NO_IMPROVEMENT_ON_OTHER)


def pair(phq: list[float], gad: list[float], rules: PairRules | None = None) -> PairedOutcome:
    return paired_outcome(series(phq), series(gad), rules or PairRules())


# --- caseness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phq9", "gad7", "case"),
    [
        (9, 7, False),  # both one below their cut-offs
        (10, 7, True),  # PHQ-9 at 10
        (9, 8, True),  # GAD-7 at 8
        (10, 8, True),
        (0, 0, False),
        (27, 21, True),
    ],
)
def test_caseness_boundaries(phq9: float, gad7: float, case: bool) -> None:
    assert is_case(phq9, gad7) is case


def test_caseness_is_reported_at_first_and_last_paired_session() -> None:
    # first: PHQ 10 (>= 10) -> case; last: PHQ 9, GAD 7 -> neither at cut-off -> not a case
    o = pair([10, 9], [7, 7])
    assert (o.caseness_first, o.caseness_last) == (True, False)


# --- recovery -------------------------------------------------------------------------------


def test_recovery_and_reliable_recovery() -> None:
    # PHQ 14 -> 8 (drop 6, reliable), GAD 10 -> 6 (drop 4, reliable)
    # first: 14 >= 10 case; last: 8 < 10 and 6 < 8 -> not a case -> recovered
    o = pair([14, 11, 8], [10, 9, 6])
    assert o.applicable
    assert (o.first_session, o.last_session) == (1, 3)
    assert o.recovery is True
    assert o.reliable_improvement is True
    assert o.reliable_deterioration is False
    assert o.reliable_recovery is True
    assert o.rules_version == RULES_VERSION == "nhs-tt-1"


def test_no_recovery_while_either_measure_is_still_at_caseness() -> None:
    # PHQ 14 -> 8 (below 10), but GAD 10 -> 8 is still >= 8 -> still a case
    # reliable improvement still holds: PHQ drop 6, GAD drop 2 is not a deterioration
    o = pair([14, 8], [10, 8])
    assert o.caseness_last is True
    assert o.recovery is False
    assert o.reliable_improvement is True
    assert o.reliable_recovery is False


def test_recovery_without_reliable_improvement_is_not_reliable_recovery() -> None:
    # PHQ 11 -> 9 (drop 2), GAD 8 -> 7 (drop 1): case -> not a case, no reliable change
    o = pair([11, 9], [8, 7])
    assert o.recovery is True
    assert o.reliable_improvement is False
    assert o.reliable_recovery is False


def test_not_a_case_at_the_start_cannot_recover() -> None:
    # PHQ 9 -> 3, GAD 7 -> 2: never a case; recovery and reliable recovery are undefined
    # (excluded from the recovery-rate denominator), reliable improvement is still judged:
    # PHQ drop 6 -> yes
    o = pair([9, 3], [7, 2])
    assert o.caseness_first is False
    assert o.recovery is None
    assert o.reliable_recovery is None
    assert o.reliable_improvement is True


# --- reliable improvement -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phq", "gad", "improved"),
    [
        ([18, 12], [12, 12], True),  # PHQ drop 18 - 12 = 6 >= 6
        ([18, 13], [12, 12], False),  # PHQ drop 5 < 6
        ([12, 12], [15, 11], True),  # GAD drop 15 - 11 = 4 >= 4
        ([12, 12], [15, 12], False),  # GAD drop 3 < 4
        ([18, 13], [15, 12], False),  # 5 and 3: neither reaches its threshold
    ],
)
def test_reliable_improvement_thresholds(
    phq: list[float], gad: list[float], improved: bool
) -> None:
    assert pair(phq, gad).reliable_improvement is improved


def test_pair_rule_improvement_on_one_and_reliable_deterioration_on_the_other() -> None:
    # PHQ 18 -> 12 (drop 6: improved) but GAD 8 -> 12 (rise 4: reliably worse)
    # -> not a reliable improvement
    o = pair([18, 12], [8, 12])
    assert o.reliable_improvement is False


def test_pair_rule_improvement_with_an_unreliable_rise_on_the_other() -> None:
    # PHQ drop 6 (improved), GAD 8 -> 11 (rise 3 < 4: not reliable) -> improvement stands
    assert pair([18, 12], [8, 11]).reliable_improvement is True


def test_pair_rule_gad_improvement_with_reliable_phq_deterioration() -> None:
    # GAD 15 -> 11 (drop 4), PHQ 10 -> 16 (rise 6) -> not a reliable improvement
    assert pair([10, 16], [15, 11]).reliable_improvement is False


# --- reliable deterioration -----------------------------------------------------------------


@pytest.mark.parametrize("rules", [ANY, NO_IMPROVEMENT], ids=["any", "no-improvement"])
@pytest.mark.parametrize(
    ("phq", "gad", "deteriorated"),
    [
        ([8, 14], [5, 5], True),  # PHQ rise 6 >= 6
        ([8, 13], [5, 5], False),  # PHQ rise 5 < 6
        ([8, 8], [5, 9], True),  # GAD rise 4 >= 4
        ([8, 8], [5, 8], False),  # GAD rise 3 < 4
        ([8, 14], [5, 9], True),  # both
    ],
)
def test_reliable_deterioration_thresholds_under_either_rule(
    rules: PairRules, phq: list[float], gad: list[float], deteriorated: bool
) -> None:
    o = pair(phq, gad, rules)
    assert o.reliable_deterioration is deteriorated
    assert o.deterioration_rule is rules.deterioration


def test_deterioration_with_improvement_on_the_other_depends_on_the_rule() -> None:
    # PHQ 18 -> 12 (drop 6: reliably better), GAD 8 -> 12 (rise 4: reliably worse)
    # NO_IMPROVEMENT_ON_OTHER: GAD worse but PHQ better -> not a deterioration
    # ANY (CORC): a reliable deterioration on one or more measures -> deterioration
    assert pair([18, 12], [8, 12], NO_IMPROVEMENT).reliable_deterioration is False
    assert pair([18, 12], [8, 12], ANY).reliable_deterioration is True
    # and the same with the roles swapped: PHQ 10 -> 16 (rise 6), GAD 15 -> 11 (drop 4)
    assert pair([10, 16], [15, 11], NO_IMPROVEMENT).reliable_deterioration is False
    assert pair([10, 16], [15, 11], ANY).reliable_deterioration is True


def test_default_deterioration_rule_is_no_improvement_on_the_other() -> None:
    o = pair([18, 12], [8, 12])
    assert o.deterioration_rule is DeteriorationRule.NO_IMPROVEMENT_ON_OTHER
    assert o.reliable_deterioration is False


# --- pairing --------------------------------------------------------------------------------


def test_only_sessions_with_both_measures_are_paired() -> None:
    # PHQ at sessions 1-4: 20, 16, 12, 3; GAD at sessions 2, 3, 5: 12, 9, 0
    # paired sessions: 2 and 3 -> PHQ 16 -> 12 (drop 4 < 6), GAD 12 -> 9 (drop 3 < 4)
    # (had sessions 1 and 4 or 5 been used, both drops would have been reliable)
    phq = [obs(1, 20), obs(2, 16), obs(3, 12), obs(4, 3)]
    gad = [obs(2, 12), obs(3, 9), obs(5, 0)]
    o = paired_outcome(phq, gad)
    assert (o.first_session, o.last_session) == (2, 3)
    assert o.reliable_improvement is False
    # first: 16 >= 10 case; last: 12 >= 10 still a case
    assert (o.caseness_first, o.caseness_last, o.recovery) == (True, True, False)


def test_unscored_administrations_do_not_pair() -> None:
    # GAD at session 3 could not be scored: pairs are sessions 1 and 2
    # PHQ 15 -> 9 (drop 6), GAD 9 -> 7 (drop 2): improved; 9/7 is not a case -> recovered
    o = paired_outcome(series([15, 9, 20]), series([9, 7, None]))
    assert (o.first_session, o.last_session) == (1, 2)
    assert o.reliable_improvement is True
    assert o.recovery is True


def test_a_re_administration_in_a_session_supersedes_in_the_pair() -> None:
    # PHQ session 2 taken twice: 14, then 10 later; GAD 9 -> 7
    # PHQ 16 -> 10 (drop 6): reliable improvement; last 10 >= 10 still a case
    phq = [obs(1, 16), obs(2, 14), obs(2, 10, minutes=20)]
    gad = [obs(1, 9), obs(2, 7)]
    o = paired_outcome(phq, gad)
    assert o.reliable_improvement is True
    assert o.caseness_last is True
    assert o.recovery is False


@pytest.mark.parametrize(
    ("phq", "gad"),
    [
        ([obs(1, 15), obs(2, 9)], [obs(2, 7), obs(3, 5)]),  # only session 2 has both
        ([obs(1, 15)], [obs(1, 9)]),  # one session
        ([], []),
        ([obs(1, 15), obs(2, 9)], []),  # no GAD-7 at all
    ],
)
def test_fewer_than_two_paired_sessions_is_not_applicable(
    phq: list[Observation], gad: list[Observation]
) -> None:
    o = paired_outcome(phq, gad)
    assert o.applicable is False
    assert "fewer than two" in o.reason
    assert o.recovery is None
    assert o.reliable_improvement is None
    assert o.reliable_deterioration is None
    assert o.reliable_recovery is None
    assert o.first_session is None
