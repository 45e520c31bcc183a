"""Specification of client/therapist alliance concordance (instruments.md section 5).

Discordance (Rapport's documented design, J&T logic for two raters):
    SE_D = sqrt(SD_C^2 (1 - r_C) + SD_T^2 (1 - r_T)),  discordant when |D - offset| > z x SE_D.
Across sessions: Bland-Altman bias and limits (bias +/- 1.96 SD of D, SD with n - 1), the
Pearson r of the two series, and the least-squares slope of |D| over session number.
"""

from __future__ import annotations

import uuid

import pytest

from service.domain.concordance import (
    Agreement,
    Direction,
    DiscordanceRule,
    Rated,
    agreement,
    pair_sessions,
)
from service.domain.progress import Observation
from tests.unit.instruments.conftest import definition
from tests.unit.statistics.builders import at


def wai_rule() -> DiscordanceRule:
    k = definition("wai-sr").concordance
    assert k is not None
    return DiscordanceRule(
        sd_client=k.sd_client,
        sd_therapist=k.sd_therapist,
        reliability_client=k.reliability_client,
        reliability_therapist=k.reliability_therapist,
        expected_offset=k.expected_offset,
        source=k.source,
    )


def rated(session: int, total: float | None, minutes: int = 0, **scales: float | None) -> Rated:
    return Rated(
        Observation(uuid.uuid4(), session, at(session, minutes), total),
        {"total": total, **scales},
    )


# --- the discordance rule -------------------------------------------------------------------


def test_wai_sr_concordance_constants() -> None:
    rule = wai_rule()
    assert (rule.sd_client, rule.sd_therapist) == (8.4, 8.4)
    assert (rule.reliability_client, rule.reliability_therapist) == (0.80, 0.80)
    assert rule.expected_offset == 5.3
    assert rule.z == 1.96


def test_se_difference_and_bound_with_wai_sr_constants() -> None:
    # SE_D = sqrt(8.4^2 x .2 + 8.4^2 x .2) = sqrt(70.56 x .4) = sqrt(28.224)
    #      = 8.4 x sqrt(.4) = 8.4 x 0.6324555 = 5.3126265
    # bound = 1.96 x 5.3126265 = 10.4127479
    rule = wai_rule()
    assert rule.se_difference == pytest.approx(5.3126265, abs=1e-7)
    assert rule.bound == pytest.approx(10.4127479, abs=1e-7)


@pytest.mark.parametrize(
    ("difference", "discordant"),
    [
        # offset 5.3, bound 10.4127479: concordant for -5.1127479 <= D <= 15.7127479
        (5.3, False),  # exactly the expected offset
        (15.7, False),  # |15.7 - 5.3| = 10.4 <= 10.4127
        (15.8, True),  # |15.8 - 5.3| = 10.5 >  10.4127
        (-5.1, False),  # |-5.1 - 5.3| = 10.4 <= 10.4127
        (-5.2, True),  # |-5.2 - 5.3| = 10.5 >  10.4127
        (0.0, False),
    ],
)
def test_discordant_just_inside_and_outside_offset_plus_minus_bound(
    difference: float, discordant: bool
) -> None:
    assert wai_rule().discordant(difference) is discordant


def test_unequal_forms_and_the_bound_itself_is_not_discordant() -> None:
    # SE_D = sqrt(6^2 x (1 - .75) + 8^2 x (1 - .75)) = sqrt(9 + 16) = 5; bound 1.96 x 5 = 9.8
    rule = DiscordanceRule(6, 8, 0.75, 0.75, expected_offset=0.0, source="x")
    assert rule.se_difference == pytest.approx(5.0)
    assert rule.bound == pytest.approx(9.8)
    assert not rule.discordant(9.8)  # |D - offset| must exceed the bound
    assert rule.discordant(9.81)
    assert not rule.discordant(-9.8)
    assert rule.discordant(-9.81)


def test_another_z_scales_the_bound() -> None:
    # z 1.645 with SE_D 5 -> bound 8.225
    rule = DiscordanceRule(6, 8, 0.75, 0.75, expected_offset=0.0, source="x", z=1.645)
    assert rule.bound == pytest.approx(8.225)
    assert rule.discordant(8.3)
    assert not rule.discordant(8.2)


# --- pairing sessions -----------------------------------------------------------------------


def test_pair_sessions_only_pairs_sessions_with_both_forms() -> None:
    client = [rated(1, 48), rated(2, 50), rated(3, 52)]
    therapist = [rated(1, 40), rated(3, 45), rated(4, 40)]
    pairs = pair_sessions(client, therapist, wai_rule(), "total")
    assert [p.session for p in pairs] == [1, 3]


def test_pair_sessions_difference_is_client_minus_therapist_with_direction() -> None:
    # s1: 48 - 40 = 8 client higher; s2: 44 - 46 = -2 therapist higher; s3: 50 - 50 = 0
    # s4: 58 - 40 = 18: |18 - 5.3| = 12.7 > 10.41 -> discordant; the others are within
    # (|8 - 5.3| = 2.7, |-2 - 5.3| = 7.3, |0 - 5.3| = 5.3)
    client = [rated(1, 48), rated(2, 44), rated(3, 50), rated(4, 58)]
    therapist = [rated(1, 40), rated(2, 46), rated(3, 50), rated(4, 40)]
    pairs = pair_sessions(client, therapist, wai_rule(), "total")
    assert [(p.client, p.therapist, p.difference) for p in pairs] == [
        (48, 40, 8), (44, 46, -2), (50, 50, 0), (58, 40, 18),
    ]  # fmt: skip
    assert [p.direction for p in pairs] == [
        Direction.CLIENT_HIGHER, Direction.THERAPIST_HIGHER, Direction.EQUAL,
        Direction.CLIENT_HIGHER,
    ]  # fmt: skip
    assert [p.discordant for p in pairs] == [False, False, False, True]
    assert pairs[0].client_administration == client[0].observation.administration_id
    assert pairs[0].therapist_administration == therapist[0].observation.administration_id


def test_pair_sessions_uses_the_latest_administration_of_each_side() -> None:
    # client session 2 re-administered: 50, then 44 later; therapist session 2: 40, then 46
    # -> pair 44 vs 46, difference -2
    late_client = rated(2, 44, minutes=30)
    late_therapist = rated(2, 46, minutes=45)
    client = [late_client, rated(2, 50)]
    therapist = [rated(2, 40), late_therapist]
    (p,) = pair_sessions(client, therapist, wai_rule(), "total")
    assert (p.client, p.therapist, p.difference) == (44, 46, -2)
    assert p.client_administration == late_client.observation.administration_id
    assert p.therapist_administration == late_therapist.observation.administration_id


def test_pair_sessions_skips_unscored_totals() -> None:
    client = [rated(1, None), rated(2, 50)]
    therapist = [rated(1, 40), rated(2, None)]
    assert pair_sessions(client, therapist, wai_rule(), "total") == []


def test_pair_sessions_subscale_differences() -> None:
    # goal 16 - 13 = 3, task 14 - 15 = -1, bond: therapist's not scored -> left out;
    # the total is not repeated among the subscales
    client = [rated(1, 46, goal=16, task=14, bond=16)]
    therapist = [rated(1, 40, goal=13, task=15, bond=None)]
    (p,) = pair_sessions(client, therapist, wai_rule(), "total")
    assert p.subscales == (("goal", 16, 13, 3), ("task", 14, 15, -1))


def test_pair_sessions_differences_carry_no_float_noise() -> None:
    # mean-metric totals: 3.7 - 3.4 = 0.3 (not 0.30000000000000027)
    (p,) = pair_sessions([rated(1, 3.7)], [rated(1, 3.4)], wai_rule(), "total")
    assert p.difference == 0.3


# --- agreement across sessions --------------------------------------------------------------


def triples(
    client: list[float], therapist: list[float], sessions: list[int] | None = None
) -> list[tuple[int, float, float]]:
    sessions = sessions or list(range(1, len(client) + 1))
    return list(zip(sessions, client, therapist, strict=True))


def test_agreement_perfectly_correlated_but_not_converging() -> None:
    # client 40, 44, 48; therapist 38, 44, 50 -> D = 2, 0, -2
    # bias = 0/3 = 0; SD = sqrt((4 + 0 + 4) / (3 - 1)) = sqrt(4) = 2
    # limits = 0 +/- 1.96 x 2 = -3.92, 3.92
    # Pearson: client deviations -4, 0, 4; therapist -6, 0, 6;
    #   Sxy = 24 + 0 + 24 = 48, Sxx = 32, Syy = 72, r = 48 / sqrt(32 x 72) = 48 / 48 = 1
    # |D| = 2, 0, 2 over sessions 1-3: deviations of |D| from 4/3: 2/3, -4/3, 2/3;
    #   slope = (-1 x 2/3 + 0 + 1 x 2/3) / 2 = 0 -> not converging (slope must be < 0)
    a = agreement(triples([40, 44, 48], [38, 44, 50]))
    assert a.n == 3
    assert a.bias == pytest.approx(0)
    assert a.sd == pytest.approx(2)
    assert (a.lower_limit, a.upper_limit) == (pytest.approx(-3.92), pytest.approx(3.92))
    assert a.correlation == pytest.approx(1.0)
    assert a.convergence_slope == pytest.approx(0, abs=1e-9)
    assert a.converging is False


def test_agreement_worked_example() -> None:
    # client 40, 44, 48; therapist 38, 46, 44 -> D = 2, -2, 4
    # bias = 4 / 3 = 1.333333
    # D - bias = 0.666667, -3.333333, 2.666667; squares 0.444444 + 11.111111 + 7.111111
    #   = 18.666667; SD = sqrt(18.666667 / 2) = sqrt(9.333333) = 3.055050
    # limits = 1.333333 -/+ 1.96 x 3.055050 = 1.333333 -/+ 5.987899 = -4.654566, 7.321232
    # Pearson: client mean 44, deviations -4, 0, 4; therapist mean 42.666667,
    #   deviations -4.666667, 3.333333, 1.333333
    #   Sxy = 18.666667 + 0 + 5.333333 = 24; Sxx = 32;
    #   Syy = 21.777778 + 11.111111 + 1.777778 = 34.666667
    #   r = 24 / sqrt(32 x 34.666667) = 24 / sqrt(1109.333333) = 24 / 33.306656 = 0.720577
    # |D| = 2, 2, 4: mean 8/3, deviations -2/3, -2/3, 4/3; x deviations -1, 0, 1
    #   slope = (2/3 + 0 + 4/3) / 2 = 1 per session -> diverging
    a = agreement(triples([40, 44, 48], [38, 46, 44]))
    assert a.bias == pytest.approx(1.333333, abs=1e-6)
    assert a.sd == pytest.approx(3.055050, abs=1e-6)
    assert a.lower_limit == pytest.approx(-4.654566, abs=1e-6)
    assert a.upper_limit == pytest.approx(7.321232, abs=1e-6)
    assert a.correlation == pytest.approx(0.720577, abs=1e-6)
    assert a.convergence_slope == pytest.approx(1.0)
    assert a.converging is False


def test_agreement_converging_dyad() -> None:
    # client 48, 47, 45, 44; therapist 40, 41, 42, 43 -> D = 8, 6, 3, 1
    # bias = 18 / 4 = 4.5; deviations 3.5, 1.5, -1.5, -3.5; squares sum 29;
    #   SD = sqrt(29 / 3) = 3.109126; limits 4.5 -/+ 6.093888 = -1.593888, 10.593888
    # Pearson: client mean 46, dev 2, 1, -1, -2; therapist mean 41.5, dev -1.5, -.5, .5, 1.5
    #   Sxy = -3 - .5 - .5 - 3 = -7; Sxx = 10; Syy = 5; r = -7 / sqrt(50) = -0.989949
    # |D| = 8, 6, 3, 1 (mean 4.5, dev 3.5, 1.5, -1.5, -3.5); sessions 1-4 (dev -1.5 .. 1.5)
    #   slope = (-5.25 - .75 - .75 - 5.25) / 5 = -12 / 5 = -2.4 -> converging
    a = agreement(triples([48, 47, 45, 44], [40, 41, 42, 43]))
    assert a.n == 4
    assert a.bias == pytest.approx(4.5)
    assert a.sd == pytest.approx(3.109126, abs=1e-6)
    assert a.lower_limit == pytest.approx(-1.593888, abs=1e-6)
    assert a.upper_limit == pytest.approx(10.593888, abs=1e-6)
    assert a.correlation == pytest.approx(-0.989949, abs=1e-6)
    assert a.convergence_slope == pytest.approx(-2.4)
    assert a.converging is True


def test_convergence_is_on_the_size_of_the_difference_per_session_number() -> None:
    # D = -6, -4, -2 at sessions 1, 3, 5: D rises, but |D| = 6, 4, 2 falls.
    # x deviations -2, 0, 2; |D| deviations 2, 0, -2; slope = (-4 + 0 - 4) / 8 = -1 per
    # session (per session number, not per pair: per pair it would be -2)
    a = agreement(triples([40, 42, 44], [46, 46, 46], sessions=[1, 3, 5]))
    assert a.convergence_slope == pytest.approx(-1.0)
    assert a.converging is True


def test_a_constant_series_has_no_correlation() -> None:
    # client constant 44: Sxx = 0 -> r undefined; the rest is still computed
    # D = 4, 2, -3: bias = 3 / 3 = 1; deviations 3, 1, -4 -> squares 26; SD = sqrt(13)
    a = agreement(triples([44, 44, 44], [40, 42, 47]))
    assert a.correlation is None
    assert a.bias == pytest.approx(1.0)
    assert a.sd == pytest.approx(3.605551, abs=1e-6)
    assert a.convergence_slope is not None


def test_no_pairs() -> None:
    assert agreement([]) == Agreement(0, None, None, None, None, None, None, None)


def test_one_pair_gives_only_the_bias() -> None:
    # D = 50 - 44 = 6; an SD needs n >= 2, r and the slope n >= 3
    a = agreement([(1, 50, 44)])
    assert a == Agreement(1, 6, None, None, None, None, None, None)


def test_two_pairs_give_limits_but_no_correlation_or_slope() -> None:
    # D = 6, 2: bias 4; SD = sqrt((4 + 4) / 1) = 2.828427; limits 4 -/+ 5.543717
    a = agreement([(1, 50, 44), (2, 48, 46)])
    assert a.bias == pytest.approx(4)
    assert a.sd == pytest.approx(2.828427, abs=1e-6)
    assert a.lower_limit == pytest.approx(-1.543717, abs=1e-6)
    assert a.upper_limit == pytest.approx(9.543717, abs=1e-6)
    assert a.correlation is None
    assert a.convergence_slope is None
    assert a.converging is None


def test_agreement_results_are_rounded_to_six_decimals() -> None:
    a = agreement(triples([40, 44, 48], [38, 46, 44]))
    assert a.bias == 1.333333
