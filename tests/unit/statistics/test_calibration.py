"""Per-dyad summaries of client-minus-therapist differences (service.domain.calibration).

A dyad's summary must give the dyad's mean and SD exactly as a computation over its
differences does (the same bits: the calibration chart draws them); the caseload's mean and
SD combined from summaries (Chan, Golub and LeVeque 1979) must agree with a computation over
every difference to rounding error, and so to the six decimals Rapport publishes.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from service.domain.calibration import (
    Caseload,
    DyadDifferences,
    combine,
    forms_key,
    session_differences,
)
from service.domain.concordance import agreement
from service.domain.progress import Observation

T0 = datetime(2026, 1, 5, tzinfo=UTC)
# Totals as the scorer gives them: sums of items, or means of items (WAI-SR subscales).
totals = st.one_of(
    st.integers(12, 60).map(float),
    st.integers(4 * 12, 20 * 12).map(lambda x: x / 12),
    st.floats(-1000, 1000, allow_nan=False, allow_infinity=False),
)
dyad_differences = st.lists(st.lists(totals, min_size=1, max_size=40), min_size=1, max_size=30)


def _obs(session: int, total: float | None, minutes: int = 0) -> Observation:
    return Observation(uuid.uuid4(), session, T0 + timedelta(days=session, minutes=minutes), total)


def test_a_summary_holds_the_count_the_exact_sum_and_the_squared_deviations() -> None:
    s = DyadDifferences.of([19.0, 21.0, 20.0])
    assert s == DyadDifferences(3, 60.0, 2.0)
    assert (s.mean, s.sd) == (20.0, 1.0)
    assert DyadDifferences.of([]) is None
    single = DyadDifferences.of([4.5])
    assert single is not None
    assert (single.mean, single.sd) == (4.5, None)


@given(st.lists(totals, min_size=1, max_size=60))
def test_a_dyads_mean_and_sd_are_those_of_its_differences_to_the_last_bit(
    differences: list[float],
) -> None:
    s = DyadDifferences.of(differences)
    assert s is not None
    direct = agreement([(0, d, 0.0) for d in differences])
    assert s.mean == math.fsum(differences) / len(differences)
    assert (None if s.sd is None else round(s.sd, 6)) == direct.sd


@given(dyad_differences)
def test_the_caseload_combined_from_summaries_agrees_with_every_difference(
    dyads: list[list[float]],
) -> None:
    caseload = combine(s for d in dyads if (s := DyadDifferences.of(d)) is not None)
    every = [d for dyad in dyads for d in dyad]
    n, mean = len(every), math.fsum(every) / len(every)
    assert caseload.pairs == n
    assert caseload.mean is not None
    scale = max(1.0, max(abs(d) for d in every))
    assert math.isclose(caseload.mean, mean, rel_tol=1e-12, abs_tol=1e-12 * scale)
    if n < 2:
        assert caseload.sd is None
        return
    sd = math.sqrt(math.fsum([(d - mean) * (d - mean) for d in every]) / (n - 1))
    assert caseload.sd is not None
    assert math.isclose(caseload.sd, sd, rel_tol=1e-9, abs_tol=1e-12 * scale)


def test_an_empty_caseload_has_no_figures() -> None:
    assert combine([]) == Caseload(0, None, None)
    one = DyadDifferences.of([3.0])
    assert one is not None
    assert combine([one]) == Caseload(1, 3.0, None)


def test_a_sessions_difference_is_latest_client_minus_latest_therapist() -> None:
    client = [_obs(2, 50.0), _obs(2, 44.0, minutes=30)]  # re-taken: the later one counts
    therapist = [_obs(2, 40.0)]
    assert session_differences(client, therapist) == {2: 4.0}
    assert session_differences(client, []) == {}
    assert session_differences([], therapist) == {}
    # The latest form unscorable: no pair, even though an earlier one was scorable.
    assert session_differences([*client, _obs(2, None, minutes=60)], therapist) == {}
    assert session_differences(client, [*therapist, _obs(2, None, minutes=5)]) == {}


def test_a_dyads_differences_pair_only_sessions_with_both_forms() -> None:
    client = [_obs(1, 50.0), _obs(2, 48.0), _obs(3, 47.0), _obs(3, 41.0, minutes=5)]
    therapist = [_obs(1, 45.0), _obs(3, 40.0), _obs(4, 44.0)]
    assert session_differences(client, therapist) == {1: 5.0, 3: 1.0}


def test_the_forms_key_names_the_rule_and_every_pair_in_order() -> None:
    key = forms_key({"wai-sr": "wai-sr-t", "haq-ii": "haq-ii-t"})
    assert key == "alliance-summary-1;haq-ii/haq-ii-t;wai-sr/wai-sr-t"
    assert forms_key({"wai-sr": "wai-sr-t"}) != key
