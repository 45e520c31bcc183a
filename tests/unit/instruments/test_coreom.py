"""CORE-OM vectors, pinned to Evans et al. (2002), Connell et al. (2007) and the CORE System Trust.

Every scale is a clinical score, 10 x the mean of its answered items. Items 3, 4, 7, 12, 19, 21,
31 and 32 are reverse keyed (keyed = 4 - answer). Expected values are hand-computed fractions.
"""

from __future__ import annotations

import pytest

from service.domain.instruments.model import Aggregation, Comparison, SourceKind
from service.domain.scoring.result import ScoreResult
from tests.unit.instruments.conftest import definition, flag_codes, scale, score

REVERSED = ["3", "4", "7", "12", "19", "21", "31", "32"]
WELL_BEING = ["4", "14", "17", "31"]
PROBLEMS = ["2", "5", "8", "11", "13", "15", "18", "20", "23", "27", "28", "30"]
FUNCTIONING = ["1", "3", "7", "10", "12", "19", "21", "25", "26", "29", "32", "33"]
RISK = ["6", "9", "16", "22", "24", "34"]
NON_RISK = sorted(WELL_BEING + PROBLEMS + FUNCTIONING, key=int)


def from_keyed(keyed: dict[str, int]) -> dict[str, object]:
    """Raw answers that produce the given keyed values (reverse items answered 4 - v)."""
    return {k: (4 - v if k in REVERSED else v) for k, v in keyed.items()}


def keyed_all(value: int, **overrides: int) -> dict[str, int]:
    values = {str(i): value for i in range(1, 35)}
    values.update({k.lstrip("_"): v for k, v in overrides.items()})
    return values


def spread(total: int) -> dict[str, int]:
    """34 keyed values (each 0-4) summing to ``total``."""
    values = {str(i + 1): min(4, max(0, total - 4 * i)) for i in range(34)}
    assert sum(values.values()) == total
    return values


def rule(result: ScoreResult, scale_id: str) -> tuple[bool, tuple[str, ...]]:
    s = next(s for s in result.scales if s.id == scale_id)
    return s.prorated, s.missing


def test_every_scale_is_ten_times_its_item_mean() -> None:
    keyed = dict.fromkeys(WELL_BEING, 4)
    keyed |= dict.fromkeys(PROBLEMS, 1) | dict.fromkeys(FUNCTIONING, 3) | dict.fromkeys(RISK, 0)
    result = score("core-om", from_keyed(keyed))
    # total: (16 + 12 + 36 + 0) / 34 x 10; non-risk: 64 / 28 x 10.
    assert result.total == pytest.approx(640 / 34)  # 18.82
    assert result.band == "moderate"
    assert result.clinical is True
    assert scale(result, "non-risk") == pytest.approx(640 / 28)  # 22.86
    assert scale(result, "well-being") == 40
    assert scale(result, "problems") == 10
    assert scale(result, "functioning") == 30
    assert scale(result, "risk") == 0
    assert result.prorated is False
    assert all(s.metric is Aggregation.MEAN_X10 for s in result.scales)
    assert "risk" not in flag_codes(result)


def test_reverse_keyed_items_move_the_score_the_other_way() -> None:
    # All answered 0: the eight reverse items are keyed 4 each -> 32 / 34 x 10.
    zeros = score("core-om", {str(i): 0 for i in range(1, 35)})
    assert zeros.total == pytest.approx(320 / 34)  # 9.41
    assert zeros.band == "low"
    assert scale(zeros, "well-being") == 20  # items 4 and 31 keyed 4: 8 / 4 x 10
    assert scale(zeros, "functioning") == 20  # 3, 7, 12, 19, 21, 32 keyed 4: 24 / 12 x 10
    assert scale(zeros, "problems") == 0
    # Answering 4 on reverse item 4 lowers well-being by 10 and the total by 4 / 34 x 10.
    item4 = score("core-om", {str(i): 0 for i in range(1, 35)} | {"4": 4})
    assert scale(item4, "well-being") == 10
    assert item4.total == pytest.approx(280 / 34)
    # Answering 4 on forward item 14 raises well-being by 10.
    item14 = score("core-om", {str(i): 0 for i in range(1, 35)} | {"14": 4})
    assert scale(item14, "well-being") == 30
    assert item14.total == pytest.approx(360 / 34)


@pytest.mark.parametrize(
    ("keyed_sum", "expected", "band"),
    [
        (0, 0.0, "healthy"), (16, 160 / 34, "healthy"), (17, 5.0, "low"),
        (33, 330 / 34, "low"), (34, 10.0, "mild"), (50, 500 / 34, "mild"),
        (51, 15.0, "moderate"), (67, 670 / 34, "moderate"),
        (68, 20.0, "moderate-to-severe"), (84, 840 / 34, "moderate-to-severe"),
        (85, 25.0, "severe"), (136, 40.0, "severe"),
    ],
)  # fmt: skip
def test_bands_at_every_boundary(keyed_sum: int, expected: float, band: str) -> None:
    # A clinical score of exactly 5, 10, 15, 20 or 25 is a keyed sum of 17, 34, 51, 68, 85.
    result = score("core-om", from_keyed(spread(keyed_sum)))
    assert result.total == pytest.approx(expected)
    assert result.band == band


@pytest.mark.parametrize(("keyed_sum", "clinical"), [(33, False), (34, True)])
def test_adult_cutoff_is_10_or_more(keyed_sum: int, clinical: bool) -> None:
    # Connell et al. (2007): 9.9 rounded to 10; 33 / 34 x 10 = 9.71 is below, 34 / 34 x 10 = 10.
    result = score("core-om", from_keyed(spread(keyed_sum)), "adult")
    assert result.clinical is clinical


@pytest.mark.parametrize("population", ["adolescent", "child"])
def test_no_cutoff_outside_adults(population: str) -> None:
    result = score("core-om", from_keyed(spread(68)), population)
    assert result.total == 20
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_three_missing_items_prorate_total_and_non_risk_but_not_problems() -> None:
    # Missing 1 (F), 2 and 5 (P). Keyed 1 everywhere except item 33 (F) = 4 and risk = 0.
    keyed = keyed_all(1, _33=4) | dict.fromkeys(RISK, 0)
    for item in ("1", "2", "5"):
        del keyed[item]
    result = score("core-om", from_keyed(keyed))
    # Answered: W 4 x 1 = 4; P 10 x 1 = 10; F 10 x 1 + 4 = 14; R 0 -> 28 over 31 items.
    assert result.total == pytest.approx(280 / 31)  # 9.03
    assert result.band == "low"
    assert result.clinical is False
    assert result.prorated is True
    assert result.missing == ("1", "2", "5")
    assert scale(result, "non-risk") == pytest.approx(280 / 25)  # 3 of 28 missing: at the limit
    assert scale(result, "functioning") == pytest.approx(140 / 11)  # 1 of 12 missing: at the limit
    assert rule(result, "functioning") == (True, ("1",))
    assert scale(result, "problems") is None  # 2 of 12 missing: one past the limit
    assert scale(result, "well-being") == 10
    assert scale(result, "risk") == 0
    not_scorable = [f.scale for f in result.flags if f.code == "not-scorable"]
    assert not_scorable == ["problems"]


def test_four_missing_items_are_not_scorable() -> None:
    keyed = keyed_all(2)
    for item in ("1", "2", "5", "10"):
        del keyed[item]
    result = score("core-om", from_keyed(keyed))
    assert result.total is None
    assert result.band is None
    assert result.clinical is None
    assert scale(result, "non-risk") is None
    not_scorable = [f.scale for f in result.flags if f.code == "not-scorable"]
    assert not_scorable == ["total", "non-risk", "problems", "functioning"]
    assert scale(result, "well-being") == 20
    assert scale(result, "risk") == 20


def test_well_being_and_risk_allow_no_missing_item() -> None:
    keyed = keyed_all(2)
    del keyed["14"]  # well-being
    del keyed["22"]  # risk
    result = score("core-om", from_keyed(keyed))
    assert result.total == 20  # 2 of 34 missing, prorated
    assert result.prorated is True
    assert scale(result, "non-risk") == 20
    assert scale(result, "well-being") is None
    assert scale(result, "risk") is None
    not_scorable = [f.scale for f in result.flags if f.code == "not-scorable"]
    assert not_scorable == ["well-being", "risk"]


def test_one_missing_functioning_item_is_prorated_and_two_are_not() -> None:
    one = keyed_all(0, _10=3)
    del one["1"]
    result = score("core-om", from_keyed(one))
    assert scale(result, "functioning") == pytest.approx(30 / 11)
    assert rule(result, "functioning") == (True, ("1",))
    two = dict(one)
    del two["25"]
    assert scale(score("core-om", from_keyed(two)), "functioning") is None


def test_any_endorsed_risk_item_raises_risk() -> None:
    result = score("core-om", from_keyed(keyed_all(0, _22=1, _34=3)))
    assert result.total == pytest.approx(40 / 34)
    assert scale(result, "risk") == pytest.approx(40 / 6)
    assert flag_codes(result) == ["risk"]
    assert result.flags[0].items == ("22", "34")


@pytest.mark.parametrize("item", RISK)
def test_each_risk_item_raises_risk_even_when_nothing_else_is_answered(item: str) -> None:
    result = score("core-om", {item: 1})
    assert result.total is None
    assert "risk" in flag_codes(result)


def test_constants_are_pinned() -> None:
    d = definition("core-om")
    # CORE System Trust: eight positively cued items, reverse scored.
    assert [i.id for i in d.items if i.reverse] == REVERSED
    # Evans et al. (2002) domains; non-risk = the 28 items outside the risk domain.
    assert d.scale("well-being").items == tuple(WELL_BEING)
    assert d.scale("problems").items == tuple(PROBLEMS)
    assert d.scale("functioning").items == tuple(FUNCTIONING)
    assert d.scale("risk").items == tuple(RISK)
    assert d.scale("non-risk").items == tuple(NON_RISK)
    assert len(d.total.items) == 34
    # CORE System Trust missing-item rule (10%).
    assert {s.id: (s.missing.max_missing, s.missing.prorate) for s in d.scales} == {
        "total": (3, True), "non-risk": (3, True), "well-being": (0, False),
        "problems": (1, True), "functioning": (1, True), "risk": (0, False),
    }  # fmt: skip
    # Connell et al. (2007): cut-off 10 on the clinical score.
    assert [(c.population.value, c.comparison, c.value) for c in d.total.cutoffs] == [
        ("adult", Comparison.GE, 10)
    ]
    assert [b.min for b in d.total.bands.bands] == [0, 5, 10, 15, 20, 25]  # type: ignore[union-attr]
    # Rapport default (rapport-coreom-rci): 5 clinical-score points.
    assert d.total.reliable_change is not None
    assert d.total.reliable_change.threshold == 5
    assert d.total.reliable_change.source == "rapport-coreom-rci"
    # No LOINC codes were found for the CORE-OM.
    assert d.loinc_panel is None
    assert all(s.loinc is None for s in d.scales)


def test_licence_forbids_item_wording() -> None:
    d = definition("core-om")
    assert d.licence.item_text_allowed is False
    assert all(i.text is None for i in d.items)


def test_every_rapport_default_is_listed() -> None:
    d = definition("core-om")
    defaults = sorted(s.id for s in d.sources if s.kind is SourceKind.RAPPORT_DEFAULT)
    assert defaults == ["rapport-coreom-bands", "rapport-coreom-rci", "rapport-risk-any"]
