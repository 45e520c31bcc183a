"""Prorated totals are rounded before banding, so the band follows the number a clinician sees.

Issue 16, item 9. The CMS MDS 3.0 rule for the PHQ-9 (item D0300) stores a prorated total
rounded to the nearest integer; GAD-7 and PCL-5 follow it as documented Rapport defaults.
Rounding is half up (4.5 -> 5), never Python's round-half-to-even (4.5 -> 4).
"""

from __future__ import annotations

import pytest

from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import Aggregation
from tests.unit.instruments.conftest import answers, score


@pytest.mark.parametrize(
    ("values", "total", "band", "clinical"),
    [
        # 8 answers summing to 13: 13 x 9/8 = 14.625 -> 15, moderately severe (not moderate).
        ([2, 2, 2, 2, 2, 2, 1, 0], 15, "moderately-severe", True),
        # 8 answers summing to 4: 4.5 -> 5 (half up), mild; round-half-even would say 4, minimal.
        ([1, 1, 1, 1, 0, 0, 0, 0], 5, "mild", False),
        # 8 answers summing to 20: 22.5 -> 23 (half up; round-half-even gives 22).
        ([3, 3, 3, 3, 3, 3, 2, 0], 23, "severe", True),
        # 7 answers summing to 8: 10.29 -> 10, moderate and clinical.
        ([2, 2, 2, 2, 0, 0, 0], 10, "moderate", True),
        # 7 answers summing to 7: exactly 9, mild: rounding never lifts an exact value.
        ([1, 1, 1, 1, 1, 1, 1], 9, "mild", False),
        # 7 answers summing to 16: 20.57 -> 21, severe.
        ([3, 3, 3, 3, 2, 1, 1], 21, "severe", True),
    ],
)
def test_phq9_prorated_total_is_rounded_half_up_before_banding(
    values: list[float], total: int, band: str, clinical: bool
) -> None:
    result = score("phq-9", answers(values))
    assert result.prorated is True
    assert result.total == total
    assert result.band == band
    assert result.clinical is clinical
    total_scale = next(s for s in result.scales if s.id == "total")
    # The unrounded prorated value stays recoverable from the mean of the answered items.
    assert total_scale.mean == pytest.approx(sum(values) / len(values))


@pytest.mark.parametrize(
    ("values", "total", "band", "clinical"),
    [
        ([2, 2, 2, 1, 0], 10, "moderate", True),  # 7 x 7/5 = 9.8 -> 10
        ([3, 3, 3, 0, 0, 0], 11, "moderate", True),  # 9 x 7/6 = 10.5 -> 11 (not 10)
        ([1, 1, 1, 1, 0, 0], 5, "mild", False),  # 4 x 7/6 = 4.67 -> 5
        ([3, 3, 3, 3, 1, 0], 15, "severe", True),  # 13 x 7/6 = 15.17 -> 15
    ],
)
def test_gad7_prorated_total_is_rounded_half_up_before_banding(
    values: list[float], total: int, band: str, clinical: bool
) -> None:
    result = score("gad-7", answers(values))
    assert result.prorated is True
    assert (result.total, result.band, result.clinical) == (total, band, clinical)


def test_pcl5_prorated_total_reaches_the_cutoff_when_its_rounded_value_does() -> None:
    # 19 answers summing to 31: 31 x 20/19 = 32.63 -> 33, at the cut-off of 33.
    values: list[float] = [*[2] * 12, *[1] * 7]
    result = score("pcl-5", answers(values))
    assert result.prorated is True
    assert result.total == 33
    assert result.clinical is True


def test_pcl5_prorated_total_below_the_cutoff_stays_below() -> None:
    # 18 answers summing to 29: 29 x 20/18 = 32.22 -> 32, below the cut-off.
    values: list[float] = [*[2] * 11, *[1] * 7]
    result = score("pcl-5", answers(values))
    assert (result.total, result.clinical) == (32, False)


def test_mean_metric_scales_keep_their_decimals() -> None:
    # CORE-10's clinical score is 10 x the item mean, published with decimals: one item
    # missing leaves a mean of 13/9 (items 2 and 3 reverse keyed: 1 -> 3), a score of 14.44.
    result = score("core-10", answers([1, 1, 1, 1, 1, 1, 1, 1, 1]))
    assert result.prorated is True
    assert result.total == pytest.approx(130 / 9)


def test_every_prorating_sum_with_bands_or_cutoffs_declares_its_rounding() -> None:
    """The class of defect: a fractional total banded on whole-number boundaries."""
    offenders = [
        f"{d.id}/{s.id}"
        for d in load_catalogue()
        for s in d.scales
        if s.missing.prorate
        and s.aggregation is Aggregation.SUM
        and (s.bands is not None or s.cutoffs)
        and s.rounding is None
    ]
    assert offenders == []
