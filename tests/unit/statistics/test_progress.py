"""Specification of change over sessions (Jacobson and Truax 1991; instruments.md section 3).

Every expected value below is worked by hand in the test; none is computed with the code
under test. Packaged constants used: PHQ-9 reliable change 6 (published threshold, met AT 6),
adult cut-off >= 10, adolescent >= 11; ORS (higher is better) reliable change 5, adult
cut-off <= 25, child <= 32; WAI-SR has no reliable-change constants and no cut-off.
"""

from __future__ import annotations

import uuid

import pytest

from service.domain.instruments.model import (
    Comparison,
    Direction,
    Population,
    ReliableChange,
)
from service.domain.progress import (
    Classification,
    ClinicalCutoff,
    Observation,
    ReliableChangeLabel,
    clinical_cutoff,
    latest_per_session,
    progress,
)
from tests.unit.instruments.conftest import definition
from tests.unit.statistics.builders import at, obs, series, with_norms, with_rc

IMPROVED = ReliableChangeLabel.IMPROVED
DETERIORATED = ReliableChangeLabel.DETERIORATED
NONE = ReliableChangeLabel.NONE


def labels(instrument: str, totals: list[float | None]) -> list[ReliableChangeLabel | None]:
    return [p.reliable_change for p in progress(definition(instrument), series(totals)).points]


# --- reliable-change labels per point -------------------------------------------------------


def test_phq9_points_are_labelled_against_the_first_session_falls_improve() -> None:
    # PHQ-9 is higher-is-worse, threshold 6 (a change of 6 or more is reliable).
    # totals 15, 10, 9, 21 -> changes from 15: 0, -5, -6, +6
    #   0  -> none; -5 -> |5| < 6 none; -6 -> |6| >= 6 and a fall: improved;
    #   +6 -> |6| >= 6 and a rise: deteriorated.
    p = progress(definition("phq-9"), series([15, 10, 9, 21]))
    assert [pt.change for pt in p.points] == [0, -5, -6, 6]
    assert [pt.reliable_change for pt in p.points] == [NONE, NONE, IMPROVED, DETERIORATED]
    # adult cut-off: clinical when total >= 10 -> 15 yes, 10 yes (at the cut-off), 9 no, 21 yes
    assert [pt.clinical for pt in p.points] == [True, True, False, True]
    assert p.direction is Direction.HIGHER_IS_WORSE


def test_phq9_a_rise_of_five_is_not_reliable_and_a_fall_of_five_is_not_either() -> None:
    # 12 -> 17 is +5 (< 6): none; 12 -> 7 is -5: none
    assert labels("phq-9", [12, 17, 7]) == [NONE, NONE, NONE]


def test_ors_points_are_labelled_in_its_own_direction_rises_improve() -> None:
    # ORS is higher-is-better, threshold 5 (met at 5).
    # totals 20, 25, 24.9, 15, 15.1, 25.1 -> changes from 20:
    #   0 none; +5 improved (rise, |5| >= 5); +4.9 none; -5 deteriorated (fall);
    #   -4.9 none; +5.1 improved
    p = progress(definition("ors"), series([20, 25, 24.9, 15, 15.1, 25.1]))
    assert [pt.reliable_change for pt in p.points] == [
        NONE, IMPROVED, NONE, DETERIORATED, NONE, IMPROVED,
    ]  # fmt: skip
    assert [pt.change for pt in p.points] == pytest.approx([0, 5, 4.9, -5, -4.9, 5.1])
    # adult cut-off: clinical when total <= 25 -> 25 is clinical, 25.1 is not
    assert [pt.clinical for pt in p.points] == [True, True, True, True, True, False]
    assert p.direction is Direction.HIGHER_IS_BETTER


def test_wai_sr_points_carry_no_label_without_reliable_change_constants() -> None:
    p = progress(definition("wai-sr"), series([40, 55]))
    assert [pt.change for pt in p.points] == [0, 15]
    assert [pt.reliable_change for pt in p.points] == [None, None]
    assert [pt.clinical for pt in p.points] == [None, None]  # no cut-off either


def test_unscored_sessions_are_kept_as_points_but_the_baseline_is_the_first_scored() -> None:
    # session 1 unscored (None); baseline 16 at session 2; session 3: 9 - 16 = -7 -> improved
    p = progress(definition("phq-9"), series([None, 16, 9]))
    assert [pt.session for pt in p.points] == [1, 2, 3]
    assert [pt.change for pt in p.points] == [None, 0, -7]
    assert [pt.reliable_change for pt in p.points] == [None, NONE, IMPROVED]
    assert [pt.clinical for pt in p.points] == [None, True, False]
    assert p.classification is Classification.RECOVERED


# --- reliable-change constants ----------------------------------------------------------------


def test_a_published_threshold_is_met_at_the_threshold_itself() -> None:
    rc = ReliableChange(source="nhs-tt", threshold=6)
    assert rc.minimum_change == 6
    assert rc.is_reliable(6)
    assert rc.is_reliable(-6)
    assert not rc.is_reliable(5.99)
    assert not rc.is_reliable(-5.99)


def test_packaged_thresholds() -> None:
    assert definition("phq-9").total.reliable_change.minimum_change == 6  # type: ignore[union-attr]
    assert definition("gad-7").total.reliable_change.minimum_change == 4  # type: ignore[union-attr]
    assert definition("ors").total.reliable_change.minimum_change == 5  # type: ignore[union-attr]
    core10 = definition("core-10").total.reliable_change
    assert core10 is not None
    assert (core10.minimum_change, core10.z) == (6, 1.645)
    assert definition("wai-sr").total.reliable_change is None


def test_computed_minimum_change_is_z_times_sd_times_root_two_one_minus_r() -> None:
    # sd 5, r .875: 2 x (1 - .875) = 0.25, sqrt = 0.5, S_diff = 5 x 0.5 = 2.5,
    # minimum = 1.96 x 2.5 = 4.9
    assert ReliableChange(source="x", sd=5.0, reliability=0.875, z=1.96).minimum_change == (
        pytest.approx(4.9, abs=1e-12)
    )
    # sd 8.4, r .80: sqrt(2 x .2) = sqrt(.4) = 0.6324555, S_diff = 8.4 x 0.6324555 = 5.3126265,
    # minimum = 1.96 x 5.3126265 = 10.4127479
    assert ReliableChange(source="x", sd=8.4, reliability=0.80).minimum_change == (
        pytest.approx(10.4127479, abs=1e-6)
    )
    # z 1.645 (90 %, as CORE-10): sd 5, r .875 -> 1.645 x 2.5 = 4.1125
    assert ReliableChange(source="x", sd=5.0, reliability=0.875, z=1.645).minimum_change == (
        pytest.approx(4.1125, abs=1e-12)
    )


def test_a_computed_minimum_must_be_exceeded_not_just_met() -> None:
    # |RC| > z: with sd 5, r .875 the minimum is 4.9 (above); RC(4.9) = 4.9 / 2.5 = 1.96 = z,
    # not greater, so not reliable; 4.91 / 2.5 = 1.964 > 1.96, reliable. Both signs.
    rc = ReliableChange(source="x", sd=5.0, reliability=0.875, z=1.96)
    assert not rc.is_reliable(4.9)
    assert not rc.is_reliable(-4.9)
    assert rc.is_reliable(4.91)
    assert rc.is_reliable(-4.91)


@pytest.mark.parametrize(
    ("sd", "r", "minimum"),
    [
        # sd 5,   r .875: sqrt(2 x .125) = .5, S_diff 2.5, 1.96 x 2.5 = 4.9
        pytest.param(5.0, 0.875, 4.9, id="sd5-r0.875-min4.9"),
        # sd 10,  r .5:   sqrt(2 x .5)   = 1,  S_diff 10,  1.96 x 10  = 19.6
        pytest.param(10.0, 0.5, 19.6, id="sd10-r0.5-min19.6"),
        # sd 7.5, r .68:  sqrt(2 x .32)  = .8, S_diff 6,   1.96 x 6   = 11.76
        pytest.param(7.5, 0.68, 11.76, id="sd7.5-r0.68-min11.76"),
        # sd 10,  r .92:  sqrt(2 x .08)  = .4, S_diff 4,   1.96 x 4   = 7.84
        pytest.param(10.0, 0.92, 7.84, id="sd10-r0.92-min7.84"),
    ],
)
def test_a_change_exactly_at_the_computed_minimum_is_not_reliable(
    sd: float, r: float, minimum: float
) -> None:
    # A change equal to the hand-computed minimum has RC = minimum / S_diff = 1.96 = z exactly,
    # and J&T require |RC| > z. (The published-threshold branch of is_reliable allows 1e-9 for
    # float noise; the computed branch must not let float noise in minimum_change, e.g.
    # 11.759999999999998 for 11.76, turn an RC of exactly z into a reliable change.)
    rc = ReliableChange(source="x", sd=sd, reliability=r, z=1.96)
    assert rc.minimum_change == pytest.approx(minimum, abs=1e-9)
    assert not rc.is_reliable(minimum)
    assert not rc.is_reliable(-minimum)
    assert rc.is_reliable(minimum + 0.01)
    assert rc.is_reliable(-(minimum + 0.01))


def test_progress_uses_a_computed_threshold_when_the_definition_has_one() -> None:
    # PHQ-9 with RC from sd 5, r .875, z 2: S_diff 2.5, minimum 2 x 2.5 = 5.0 (exceed it)
    # 15 -> 10 is -5: RC = -2, |RC| = z, not reliable; 15 -> 9.9 is -5.1: |RC| 2.04 > 2, improved
    d = with_rc(definition("phq-9"), ReliableChange(source="nhs-tt", sd=5, reliability=0.875, z=2))
    p = progress(d, series([15, 10, 9.9]))
    assert [pt.reliable_change for pt in p.points] == [NONE, NONE, IMPROVED]
    assert p.reliable_change is not None
    assert p.reliable_change.minimum_change == pytest.approx(5.0)


# --- episode classification (first vs last scored session) --------------------------------


@pytest.mark.parametrize(
    ("instrument", "totals", "expected", "started_clinical"),
    [
        # 16 -> 9: -7 (>= 6, a fall); 16 >= 10 clinical, 9 < 10 not: crossed -> recovered
        ("phq-9", [16, 12, 9], Classification.RECOVERED, True),
        # 22 -> 15: -7 reliable, but 15 >= 10 still clinical -> improved
        ("phq-9", [22, 15], Classification.IMPROVED, True),
        # 9 -> 3: -6 reliable; started below the cut-off (9 < 10), cannot recover -> improved
        ("phq-9", [9, 3], Classification.IMPROVED, False),
        # 14 -> 9: crosses the cut-off but -5 is not reliable -> unchanged
        ("phq-9", [14, 9], Classification.UNCHANGED, True),
        # 16 -> 5 -> 11: first vs last only: -5 -> unchanged despite the reliable dip
        ("phq-9", [16, 5, 11], Classification.UNCHANGED, True),
        # 8 -> 14: +6, a rise on a higher-is-worse scale -> deteriorated
        ("phq-9", [8, 14], Classification.DETERIORATED, False),
        # ORS 20 -> 26: +6 (>= 5, a rise); 20 <= 25 clinical, 26 > 25 not -> recovered
        ("ors", [20, 26], Classification.RECOVERED, True),
        # ORS 20 -> 25: +5 reliable but 25 <= 25 is still clinical -> improved
        ("ors", [20, 25], Classification.IMPROVED, True),
        # ORS 30 -> 35: +5 reliable, started non-clinical (30 > 25) -> improved
        ("ors", [30, 35], Classification.IMPROVED, False),
        # ORS 30 -> 24: -6, a fall on a higher-is-better scale -> deteriorated
        ("ors", [30, 24], Classification.DETERIORATED, False),
        # ORS 20 -> 24: +4 < 5 -> unchanged
        ("ors", [20, 24], Classification.UNCHANGED, True),
    ],
)
def test_episode_classification(
    instrument: str, totals: list[float], expected: Classification, started_clinical: bool
) -> None:
    p = progress(definition(instrument), series(totals))
    assert p.classification is expected
    assert p.started_clinical is started_clinical


def test_improved_reasons_distinguish_a_start_below_the_cut_off() -> None:
    below = progress(definition("phq-9"), series([9, 3]))
    above = progress(definition("phq-9"), series([22, 15]))
    assert "below the clinical cut-off" in below.reason
    assert "below" not in above.reason


def test_one_scored_point_is_not_applicable() -> None:
    p = progress(definition("phq-9"), series([16]))
    assert p.classification is Classification.NOT_APPLICABLE
    assert p.points[0].change == 0
    assert p.points[0].reliable_change is NONE


def test_no_observations_is_not_applicable() -> None:
    p = progress(definition("phq-9"), [])
    assert p.classification is Classification.NOT_APPLICABLE
    assert p.points == ()
    assert p.started_clinical is None


def test_one_scored_among_unscored_is_not_applicable() -> None:
    p = progress(definition("phq-9"), series([None, 16, None]))
    assert p.classification is Classification.NOT_APPLICABLE


def test_no_reliable_change_constants_is_not_applicable_whatever_the_change() -> None:
    # WAI-SR 20 -> 58 would be a huge rise, but there is nothing to judge it by
    p = progress(definition("wai-sr"), series([20, 58]))
    assert p.classification is Classification.NOT_APPLICABLE
    assert "WAI-SR" in p.reason
    assert p.reliable_change is None
    assert p.cutoff is None
    assert p.started_clinical is None


# --- clinical cut-off: published, J&T a, J&T c ---------------------------------------------


def test_published_cut_offs_per_population() -> None:
    phq = definition("phq-9")
    assert clinical_cutoff(phq, phq.total, Population.ADULT) == ClinicalCutoff(
        "published", 10, Comparison.GE, "kroenke2001"
    )
    adolescent = clinical_cutoff(phq, phq.total, Population.ADOLESCENT)
    assert adolescent is not None
    assert (adolescent.method, adolescent.value) == ("published", 11)
    ors = definition("ors")
    adult = clinical_cutoff(ors, ors.total, Population.ADULT)
    child = clinical_cutoff(ors, ors.total, Population.CHILD)
    assert adult is not None
    assert child is not None
    assert (adult.value, adult.comparison) == (25, Comparison.LE)
    assert (child.value, child.comparison) == (32, Comparison.LE)
    wai = definition("wai-sr")
    assert clinical_cutoff(wai, wai.total, Population.ADULT) is None


def test_adolescent_population_moves_the_published_cut_off() -> None:
    # 13 -> 7 is -6 reliable. Adult cut-off 10: 13 clinical, 7 not -> recovered.
    # Adolescent cut-off 11: same. 10 -> 4 (-6): adult 10 >= 10 clinical -> recovered;
    # adolescent 10 < 11 not clinical at the start -> improved (cannot recover).
    d = definition("phq-9")
    assert progress(d, series([10, 4])).classification is Classification.RECOVERED
    teen = progress(d, series([10, 4]), Population.ADOLESCENT)
    assert teen.classification is Classification.IMPROVED
    assert teen.started_clinical is False


def test_jt_cutoff_a_from_clinical_norms_only_higher_is_worse() -> None:
    # a = M1 - 2 x SD1 = 15 - 2 x 5 = 5; clinical above it
    d = with_norms("phq-9", clinical_mean=15, clinical_sd=5)
    cutoff = clinical_cutoff(d, d.total, Population.ADULT)
    assert cutoff is not None
    assert (cutoff.method, cutoff.value, cutoff.comparison) == ("a", 5, Comparison.GT)
    assert cutoff.source == "kroenke2001"
    # 12 -> 6: -6 reliable. Published (>= 10) would call it recovered; with a = 5,
    # 6 > 5 is still clinical -> improved.
    assert progress(d, series([12, 6])).classification is Classification.IMPROVED
    # 11 -> 4: -7 reliable, 11 > 5 clinical, 4 < 5 not -> recovered
    assert progress(d, series([11, 4])).classification is Classification.RECOVERED


def test_jt_cutoff_a_higher_is_better() -> None:
    # a = M1 + 2 x SD1 = 18 + 2 x 4 = 26; clinical below it
    d = with_norms("ors", clinical_mean=18, clinical_sd=4)
    cutoff = clinical_cutoff(d, d.total, Population.ADULT)
    assert cutoff is not None
    assert (cutoff.method, cutoff.value, cutoff.comparison) == ("a", 26, Comparison.LT)
    # 20 -> 25.5: +5.5 reliable; published (<= 25) would say recovered, a = 26: 25.5 < 26
    # is clinical -> improved. 20 -> 27: 27 >= 26 -> recovered.
    assert progress(d, series([20, 25.5])).classification is Classification.IMPROVED
    assert progress(d, series([20, 27])).classification is Classification.RECOVERED


def test_jt_cutoff_a_when_functional_sd_is_missing() -> None:
    # a functional mean without a functional SD is not enough for c: a = 15 - 2 x 5 = 5
    d = with_norms("phq-9", clinical_mean=15, clinical_sd=5, functional_mean=3)
    cutoff = clinical_cutoff(d, d.total, Population.ADULT)
    assert cutoff is not None
    assert (cutoff.method, cutoff.value) == ("a", 5)


def test_jt_cutoff_c_from_both_norms_higher_is_worse() -> None:
    # c = (SD1 x M0 + SD0 x M1) / (SD1 + SD0) = (5 x 3 + 3 x 15) / (5 + 3) = 60 / 8 = 7.5
    d = with_norms("phq-9", clinical_mean=15, clinical_sd=5, functional_mean=3, functional_sd=3)
    cutoff = clinical_cutoff(d, d.total, Population.ADULT)
    assert cutoff is not None
    assert (cutoff.method, cutoff.comparison) == ("c", Comparison.GT)
    assert cutoff.value == pytest.approx(7.5)
    # 16 -> 9: -7 reliable; published would say recovered (9 < 10) but 9 > 7.5 -> improved
    p = progress(d, series([16, 9]))
    assert p.classification is Classification.IMPROVED
    assert [pt.clinical for pt in p.points] == [True, True]
    # 14 -> 7: -7 reliable, 7 < 7.5 -> recovered
    assert progress(d, series([14, 7])).classification is Classification.RECOVERED


def test_jt_cutoff_c_takes_precedence_over_a_and_the_published_value() -> None:
    # c = (5 x 4 + 3 x 17) / (5 + 3) = (20 + 51) / 8 = 71 / 8 = 8.875 (a would be 17 - 10 = 7)
    d = with_norms("phq-9", clinical_mean=17, clinical_sd=5, functional_mean=4, functional_sd=3)
    for population in (Population.ADULT, Population.ADOLESCENT):
        cutoff = clinical_cutoff(d, d.total, population)
        assert cutoff is not None
        assert cutoff.method == "c"
        assert cutoff.value == pytest.approx(8.875)


def test_jt_cutoff_c_higher_is_better() -> None:
    # c = (7 x 30 + 5 x 19) / (7 + 5) = (210 + 95) / 12 = 305 / 12 = 25.41666...
    d = with_norms("ors", clinical_mean=19, clinical_sd=7, functional_mean=30, functional_sd=5)
    cutoff = clinical_cutoff(d, d.total, Population.ADULT)
    assert cutoff is not None
    assert (cutoff.method, cutoff.comparison) == ("c", Comparison.LT)
    assert cutoff.value == pytest.approx(25.416667, abs=1e-6)
    # 20 -> 25.4: +5.4 reliable, 25.4 < 25.4167 still clinical -> improved;
    # 20 -> 25.5: 25.5 > 25.4167 -> recovered
    assert progress(d, series([20, 25.4])).classification is Classification.IMPROVED
    assert progress(d, series([20, 25.5])).classification is Classification.RECOVERED


# --- one observation per session ------------------------------------------------------------


def test_a_re_administration_in_the_same_session_supersedes() -> None:
    first = obs(2, 14)
    again = obs(2, 11, minutes=30)
    assert latest_per_session([again, first]) == [again]
    assert latest_per_session([first, again]) == [again]


def test_observations_are_ordered_by_session_not_by_completion_time() -> None:
    # session 2 was entered after session 3 (back-entry): the order is still 1, 2, 3
    s1 = Observation(uuid.uuid4(), 1, at(1), 16)
    s3 = Observation(uuid.uuid4(), 3, at(3), 9)
    s2 = Observation(uuid.uuid4(), 2, at(5), 12)
    assert [o.session for o in latest_per_session([s3, s2, s1])] == [1, 2, 3]


def test_progress_measures_from_the_first_session_even_if_entered_last() -> None:
    # session 1 (16) back-entered after session 2 (10): baseline is still session 1
    # -> changes 0, -6; 16 -> 10 is -6 reliable but 10 >= 10 still clinical -> improved
    s1 = Observation(uuid.uuid4(), 1, at(4), 16)
    s2 = Observation(uuid.uuid4(), 2, at(2), 10)
    p = progress(definition("phq-9"), [s2, s1])
    assert [pt.session for pt in p.points] == [1, 2]
    assert [pt.change for pt in p.points] == [0, -6]
    assert p.classification is Classification.IMPROVED


def test_progress_keeps_only_the_latest_administration_of_a_session() -> None:
    # session 2 taken twice: 15, then 9 half an hour later. Points: 16, 9.
    # 16 -> 9 is -7 reliable and crosses 10 -> recovered
    later = obs(2, 9, minutes=30)
    p = progress(definition("phq-9"), [obs(1, 16), obs(2, 15), later])
    assert [pt.total for pt in p.points] == [16, 9]
    assert p.points[1].administration_id == later.administration_id
    assert p.classification is Classification.RECOVERED


def test_changes_are_not_float_noise() -> None:
    # ORS 20.3 -> 25.4: +5.1 (stored to nine decimals, not 5.099999999999998)
    p = progress(definition("ors"), series([20.3, 25.4]))
    assert p.points[1].change == 5.1
