"""Specification of alliance ruptures, session drops and not-on-track (instruments.md 6, 7).

Rupture rule (defaults k = 3, m = 2, w = 3): at session t the baseline is the mean of the
previous k scored sessions and the spread is max(their sample SD, min_spread); a rupture is a
score below baseline - m x spread (in the healthy-is-up orientation). Repaired when a later
score within w sessions returns to the baseline; unrepaired when w sessions pass without that;
open until then.
"""

from __future__ import annotations

import pytest

from service.domain.instruments.model import Direction, ReliableChange
from service.domain.ruptures import (
    RepairStatus,
    Rupture,
    RuptureRule,
    not_on_track,
    ruptures,
    session_drops,
)
from tests.unit.instruments.conftest import definition
from tests.unit.statistics.builders import obs, series

UP = Direction.HIGHER_IS_BETTER
DOWN = Direction.HIGHER_IS_WORSE

# Baseline used throughout: 36, 38, 37 -> mean 37; deviations -1, 1, 0 -> squares 2;
# sample SD = sqrt(2 / 2) = 1; threshold (m = 2) = 37 - 2 x 1 = 35.
BASELINE = [36, 38, 37]


def found(
    totals: list[float | None], rule: RuptureRule | None = None, direction: Direction = UP
) -> list[Rupture]:
    return ruptures(series(totals), direction, rule or RuptureRule())


# --- ruptures -------------------------------------------------------------------------------


def test_v_shaped_rupture_repaired() -> None:
    # session 4: 30 < 35 -> rupture; session 5: 37 >= baseline 37 -> repaired at 5
    # (session 5 itself: window 38, 37, 30, mean 35, deviations 3, 2, -5 -> squares 38,
    #  SD sqrt(19) = 4.359, threshold 35 - 8.718 = 26.28; 37 is no rupture)
    s = series([*BASELINE, 30, 37])
    (r,) = ruptures(s, UP)
    assert r.session == 4
    assert r.administration_id == s[3].administration_id
    assert r.score == 30
    assert r.baseline == pytest.approx(37)
    assert r.threshold == pytest.approx(35)
    assert r.status is RepairStatus.REPAIRED
    assert r.repaired_at_session == 5


def test_unrepaired_when_no_return_within_the_window() -> None:
    # rupture at 4 (30 < 35); sessions 5-7 (within w = 3): 33, 34, 35, all < 37;
    # last session 7 = 4 + 3 -> the window has elapsed -> unrepaired.
    # No later rupture: s5 window 38,37,30 threshold 26.28 (33 ok);
    # s6 window 37,30,33 mean 33.33, SD 3.51, threshold 26.31 (34 ok);
    # s7 window 30,33,34 mean 32.33, SD 2.08, threshold 28.17 (35 ok)
    (r,) = found([*BASELINE, 30, 33, 34, 35])
    assert r.status is RepairStatus.UNREPAIRED
    assert r.repaired_at_session is None


def test_repair_on_the_last_session_of_the_window_counts() -> None:
    # return to 37 at session 7 = 4 + w -> repaired at 7
    (r,) = found([*BASELINE, 30, 33, 34, 37])
    assert r.status is RepairStatus.REPAIRED
    assert r.repaired_at_session == 7


def test_a_return_after_the_window_is_not_a_repair() -> None:
    # return to 37 only at session 8 > 4 + 3 -> unrepaired
    # (s8 window 33, 34, 35: mean 34, SD 1, threshold 32; 37 is no rupture)
    (r,) = found([*BASELINE, 30, 33, 34, 35, 37])
    assert r.status is RepairStatus.UNREPAIRED
    assert r.repaired_at_session is None


def test_open_while_the_window_has_not_elapsed() -> None:
    # rupture at 4; only session 5 (33 < 37) so far; 5 < 4 + 3 -> open
    (r,) = found([*BASELINE, 30, 33])
    assert r.status is RepairStatus.OPEN
    assert r.repaired_at_session is None
    (just_now,) = found([*BASELINE, 30])
    assert just_now.status is RepairStatus.OPEN


def test_the_window_counts_session_numbers_not_administrations() -> None:
    # sessions 1, 2, 3, 4 then nothing until session 9: 9 > 4 + 3, no repair within the
    # window -> unrepaired (the return at 9 is too late)
    s = [*series([*BASELINE, 30]), obs(9, 38)]
    (r,) = ruptures(s, UP)
    assert r.status is RepairStatus.UNREPAIRED


@pytest.mark.parametrize(("score", "rupture"), [(35.5, False), (35, False), (34.9, True)])
def test_no_rupture_within_m_sds(score: float, rupture: bool) -> None:
    # threshold 35: a score must fall *below* it
    assert bool(found([*BASELINE, score])) is rupture


def test_m_is_a_setting() -> None:
    # m = 1: threshold 37 - 1 x 1 = 36 -> 35.5 is a rupture (it is not with m = 2)
    assert found([*BASELINE, 35.5], RuptureRule(drop_sds=1.0))
    assert not found([*BASELINE, 35.5])


def test_k_is_a_setting() -> None:
    # k = 4 needs four earlier sessions: 36, 38, 37, 37 -> mean 37, deviations -1, 1, 0, 0,
    # SD sqrt(2 / 3) = 0.8165, threshold 37 - 1.633 = 35.367 -> 35 is a rupture at session 5;
    # with only four sessions nothing can be judged
    rule = RuptureRule(baseline_sessions=4)
    assert not found([*BASELINE, 30], rule)
    (r,) = found([*BASELINE, 37, 35], rule)
    assert r.session == 5
    assert r.threshold == pytest.approx(35.367007, abs=1e-6)


def test_fewer_than_k_plus_one_sessions_cannot_rupture() -> None:
    assert found([36, 38, 10]) == []


def test_flat_baseline_without_floor_makes_any_dip_a_rupture() -> None:
    # 36, 36, 36: SD 0 -> spread max(0, 0) = 0 -> threshold 36: 35.9 < 36 is a rupture
    (r,) = found([36, 36, 36, 35.9])
    assert r.threshold == pytest.approx(36)


def test_min_spread_floor_with_a_perfectly_flat_baseline() -> None:
    # spread = max(SD 0, floor 2) = 2 -> threshold 36 - 2 x 2 = 32
    rule = RuptureRule(min_spread=2.0)
    assert found([36, 36, 36, 35.9], rule) == []
    assert found([36, 36, 36, 32], rule) == []  # at the threshold: not below it
    (r,) = found([36, 36, 36, 31.9], rule)
    assert r.threshold == pytest.approx(32)


def test_the_floor_does_not_narrow_a_wider_within_client_spread() -> None:
    # baseline SD 1 > floor 0.5 -> spread stays 1, threshold 35
    (r,) = found([*BASELINE, 34.9], RuptureRule(min_spread=0.5))
    assert r.threshold == pytest.approx(35)


def test_higher_is_worse_direction_ruptures_upwards() -> None:
    # 10, 12, 11 -> mean 11, SD 1; a worse score is higher: threshold 11 + 2 x 1 = 13.
    # 18 > 13 -> rupture; 11 (back to the baseline) at session 5 -> repaired
    (r,) = found([10, 12, 11, 18, 11], direction=DOWN)
    assert r.session == 4
    assert r.baseline == pytest.approx(11)
    assert r.threshold == pytest.approx(13)
    assert r.status is RepairStatus.REPAIRED
    assert r.repaired_at_session == 5
    # a fall is an improvement on such a scale, never a rupture
    assert found([10, 12, 11, 2], direction=DOWN) == []
    # 13 is at the threshold, not beyond it
    assert found([10, 12, 11, 13], direction=DOWN) == []


def test_unscored_sessions_are_skipped_in_the_baseline() -> None:
    # session 2 unscored: baseline of session 5 is sessions 1, 3, 4 -> 36, 38, 37 -> 35
    s = series([36, None, 38, 37, 34])
    (r,) = ruptures(s, UP)
    assert r.session == 5
    assert r.baseline == pytest.approx(37)


def test_a_re_administration_supersedes_before_ruptures_are_read() -> None:
    # session 4: 30 first, then 37 half an hour later -> the session counts as 37
    s = [*series(BASELINE), obs(4, 30), obs(4, 37, minutes=30)]
    assert ruptures(s, UP) == []


# --- session drops --------------------------------------------------------------------------


def test_session_drops_higher_is_better() -> None:
    # 38 -> 35 (-3), 35 -> 36 (+1), 36 -> 33 (-3): two drops of at least 3
    s = series([38, 35, 36, 33])
    drops = session_drops(s, UP, 3)
    assert [(d.session, d.previous, d.score) for d in drops] == [(2, 38, 35), (4, 36, 33)]
    assert drops[0].administration_id == s[1].administration_id
    assert session_drops(s, UP, 3.5) == []


def test_session_drops_higher_is_worse() -> None:
    # 10 -> 14 (+4, worse), 14 -> 12 (better), 12 -> 15 (+3, worse but < 4)
    drops = session_drops(series([10, 14, 12, 15]), DOWN, 4)
    assert [(d.session, d.previous, d.score) for d in drops] == [(2, 10, 14)]


def test_session_drop_compares_with_the_previous_scored_session() -> None:
    # session 2 unscored: 38 (session 1) -> 34 (session 3) is a drop of 4
    drops = session_drops(series([38, None, 34]), UP, 4)
    assert [(d.session, d.previous) for d in drops] == [(3, 38)]


def test_decimal_drops_meet_the_minimum_despite_float_noise() -> None:
    # 36.3 -> 33.3 is a drop of 3 (36.3 - 33.3 = 2.9999999999999964 in floats)
    assert len(session_drops(series([36.3, 33.3]), UP, 3)) == 1


# --- not on track ---------------------------------------------------------------------------

PHQ_RC = ReliableChange(source="nhs-tt", threshold=6)


def test_reliable_deterioration_at_any_session_is_listed_once() -> None:
    # PHQ-9 12 -> 19 (+7 >= 6, worse) at session 2; session 3 (20, +8) is not listed again
    s = series([12, 19, 20, 13])
    signals = not_on_track(s, DOWN, PHQ_RC)
    assert [(n.reason, n.session, n.change) for n in signals] == [("reliable-deterioration", 2, 7)]
    assert signals[0].administration_id == s[1].administration_id


def test_deterioration_is_met_at_the_threshold() -> None:
    # +6 exactly at session 3
    (n,) = not_on_track(series([12, 15, 18]), DOWN, PHQ_RC)
    assert (n.reason, n.session, n.change) == ("reliable-deterioration", 3, 6)


def test_no_reliable_improvement_by_session_n() -> None:
    # 15, 14, 13, 12, 12, 11, 10: at session 6 the change is 11 - 15 = -4 (< 6): stalled;
    # listed once, at the first session at or past N = 6
    s = series([15, 14, 13, 12, 12, 11, 10])
    signals = not_on_track(s, DOWN, PHQ_RC)
    assert [(n.reason, n.session, n.change) for n in signals] == [
        ("no-reliable-improvement", 6, -4)
    ]
    assert signals[0].administration_id == s[5].administration_id


def test_improvement_before_n_means_no_stall_signal() -> None:
    # 15 -> 9 at session 2 (-6, reliable improvement), then back to 14: still no stall signal
    assert not_on_track(series([15, 9, 14, 14, 14, 14, 14]), DOWN, PHQ_RC) == []


def test_improvement_at_session_n_itself_means_no_stall_signal() -> None:
    # 15 ... 9 at session 6: -6 is reliable -> improved in time
    assert not_on_track(series([15, 14, 13, 12, 12, 9]), DOWN, PHQ_RC) == []


def test_n_is_a_setting_and_counts_session_numbers() -> None:
    # by session 3: sessions 1, 2, 3 -> 15, 13, 12: -3 at session 3 -> stalled at 3
    (n,) = not_on_track(series([15, 13, 12]), DOWN, PHQ_RC, by_session=3)
    assert (n.reason, n.session) == ("no-reliable-improvement", 3)
    # sessions 1, 2, then 8: the first session at or past 6 is session 8
    s = [obs(1, 15), obs(2, 14), obs(8, 13)]
    (late,) = not_on_track(s, DOWN, PHQ_RC)
    assert (late.reason, late.session, late.change) == ("no-reliable-improvement", 8, -2)


def test_deterioration_and_stall_can_both_be_listed() -> None:
    # 12 -> 18 (+6) at session 2: deterioration; never improved -> stall at session 6
    signals = not_on_track(series([12, 18, 16, 15, 14, 13]), DOWN, PHQ_RC)
    assert [(n.reason, n.session) for n in signals] == [
        ("reliable-deterioration", 2),
        ("no-reliable-improvement", 6),
    ]


def test_not_on_track_higher_is_better() -> None:
    # ORS (rc 5): 20 -> 15 (-5, a fall) at session 2 -> reliable deterioration
    ors_rc = definition("ors").total.reliable_change
    signals = not_on_track(series([20, 15]), UP, ors_rc)
    assert [(n.reason, n.session, n.change) for n in signals] == [("reliable-deterioration", 2, -5)]
    # 20 -> 25 (+5) at session 2: improved -> nothing, however long it stays there
    assert not_on_track(series([20, 25, 22, 22, 22, 22]), UP, ors_rc) == []


def test_no_reliable_change_constants_gives_no_signal() -> None:
    # WAI-SR has none: even a collapse is not judged here
    assert definition("wai-sr").total.reliable_change is None
    assert not_on_track(series([60, 12, 12, 12, 12, 12]), UP, None) == []


def test_fewer_than_two_scored_sessions_gives_no_signal() -> None:
    assert not_on_track(series([15]), DOWN, PHQ_RC) == []
    assert not_on_track(series([None, None, None, None, None, 15]), DOWN, PHQ_RC) == []


def test_change_is_measured_from_the_first_scored_session() -> None:
    # session 1 unscored; baseline 12 at session 2; 18 at session 3 -> +6
    (n,) = not_on_track(series([None, 12, 18]), DOWN, PHQ_RC)
    assert (n.session, n.change) == (3, 6)
