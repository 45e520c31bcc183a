"""PCL-5 vectors, pinned to the National Center for PTSD scoring rules, Bovin et al. (2016) and
Marx et al. (2022). Clusters: B 1-5, C 6-7, D 8-14, E 15-20. No item is reverse keyed.
"""

from __future__ import annotations

import pytest

from service.domain.instruments.model import Aggregation, Comparison, SourceKind
from service.domain.scoring.result import ScoreResult
from tests.unit.instruments.conftest import answers, definition, flag_codes, scale, score


def with_items(base: int = 0, **items: int) -> dict[str, object]:
    """All 20 items answered ``base``, with overrides given as _<item>=value."""
    values: dict[str, object] = {str(i): base for i in range(1, 21)}
    values.update({k.lstrip("_"): v for k, v in items.items()})
    return values


def criterion(result: ScoreResult) -> bool | None:
    (outcome,) = result.criteria
    assert outcome.id == "dsm5-provisional"
    return outcome.met


def test_total_and_cluster_sums() -> None:
    values: list[float] = [4, 3, 2, 1, 0, 2, 1, 0, 1, 2, 3, 4, 0, 1, 2, 2, 2, 2, 2, 2]
    result = score("pcl-5", answers(values))
    assert scale(result, "cluster-b") == 10  # 4+3+2+1+0
    assert scale(result, "cluster-c") == 3  # 2+1
    assert scale(result, "cluster-d") == 11  # 0+1+2+3+4+0+1
    assert scale(result, "cluster-e") == 12  # 6 x 2
    assert result.total == 36
    assert result.clinical is True
    assert result.prorated is False
    assert result.band is None  # no published severity bands
    assert all(s.metric is Aggregation.SUM for s in result.scales)


def test_no_item_is_reverse_keyed() -> None:
    low = score("pcl-5", with_items(1))
    high = score("pcl-5", with_items(1, _7=4))
    assert low.total == 20
    assert high.total == 23  # a higher answer always raises the total


@pytest.mark.parametrize(("total", "clinical"), [(32, False), (33, True)])
def test_adult_cutoff_is_33_or_more(total: int, clinical: bool) -> None:
    # 8 items at 4 = 32; one more point on item 9 makes 33.
    values: list[float] = [*[4] * 8, total - 32, *[0] * 11]
    result = score("pcl-5", answers(values), "adult")
    assert result.total == total
    assert result.clinical is clinical


@pytest.mark.parametrize("population", ["adolescent", "child"])
def test_no_cutoff_outside_adults(population: str) -> None:
    result = score("pcl-5", with_items(2), population)
    assert result.total == 40
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_provisional_diagnosis_met_with_the_minimum_pattern() -> None:
    # 1 B, 1 C, 2 D, 2 E items at 2 (moderately): met, even though the total (12) is low.
    result = score("pcl-5", with_items(0, _1=2, _6=2, _8=2, _9=2, _15=2, _16=2))
    assert result.total == 12
    assert result.clinical is False
    assert criterion(result) is True
    assert "provisional-diagnosis" in flag_codes(result)


def test_items_rated_1_are_not_endorsed() -> None:
    result = score("pcl-5", with_items(0, _1=2, _6=2, _8=2, _9=1, _15=2, _16=2))
    assert criterion(result) is False
    assert "provisional-diagnosis" not in flag_codes(result)


def test_high_total_without_the_symptom_pattern_is_not_a_provisional_diagnosis() -> None:
    # Every item at 4 except cluster C at 1: total 74, clinical, but no avoidance symptom.
    result = score("pcl-5", with_items(4, _6=1, _7=1))
    assert result.total == 74
    assert result.clinical is True
    assert criterion(result) is False


def test_missing_items_make_the_criterion_indeterminate_only_when_they_could_matter() -> None:
    could_matter = with_items(0, _1=2, _6=2, _8=2, _15=2, _16=2)
    del could_matter["9"]  # D has one endorsed item; the missing one could be the second
    assert criterion(score("pcl-5", could_matter)) is None
    cannot_matter = with_items(0, _1=2, _6=2, _8=2, _9=2, _15=2, _16=2)
    del cannot_matter["2"]  # B is already satisfied by item 1
    assert criterion(score("pcl-5", cannot_matter)) is True
    cannot_rescue = with_items(0, _1=2, _6=2, _8=2, _9=2)
    del cannot_rescue["20"]  # E has no endorsed item; one missing item cannot reach 2
    assert criterion(score("pcl-5", cannot_rescue)) is False


def test_two_missing_items_prorate_the_total_but_not_the_cluster() -> None:
    # Items 19 and 20 (cluster E) missing. B 5 x 3 = 15, C 2 x 4 = 8, D 7 x 2 = 14, E 4 x 1 = 4.
    values: list[float] = [*[3] * 5, *[4] * 2, *[2] * 7, *[1] * 4]
    result = score("pcl-5", answers(values))
    assert result.total == 46  # 41 x 20/18 = 45.56, rounded half up
    assert result.prorated is True
    assert result.missing == ("19", "20")
    assert result.clinical is True
    assert scale(result, "cluster-b") == 15
    assert scale(result, "cluster-c") == 8
    assert scale(result, "cluster-d") == 14
    assert scale(result, "cluster-e") is None
    not_scorable = [f.scale for f in result.flags if f.code == "not-scorable"]
    assert not_scorable == ["cluster-e"]


def test_three_missing_items_are_not_scorable() -> None:
    values: list[float] = [2] * 17
    result = score("pcl-5", answers(values))
    assert result.total is None
    assert result.clinical is None
    assert "not-scorable" in flag_codes(result)


def test_constants_are_pinned() -> None:
    d = definition("pcl-5")
    # Marx et al. (2022), sample 1: reliable change 15 points.
    assert d.total.reliable_change is not None
    assert d.total.reliable_change.threshold == 15
    assert d.total.reliable_change.source == "marx2022"
    # Bovin et al. (2016): 31-33 optimally efficient; Rapport uses 33.
    assert [(c.population.value, c.comparison, c.value) for c in d.total.cutoffs] == [
        ("adult", Comparison.GE, 33)
    ]
    assert [i.id for i in d.items if i.reverse] == []
    assert d.item_flags == ()
    # National Center for PTSD: clusters and the provisional DSM-5 rule.
    assert {s.id: s.items for s in d.scales if s.id != "total"} == {
        "cluster-b": ("1", "2", "3", "4", "5"),
        "cluster-c": ("6", "7"),
        "cluster-d": ("8", "9", "10", "11", "12", "13", "14"),
        "cluster-e": ("15", "16", "17", "18", "19", "20"),
    }
    (rule,) = d.criteria
    assert (rule.id, rule.flag, rule.endorse_at) == ("dsm5-provisional", "provisional-diagnosis", 2)
    assert [(g.name, g.min_endorsed) for g in rule.groups] == [
        ("B", 1), ("C", 1), ("D", 2), ("E", 2),
    ]  # fmt: skip
    # Rapport default missing rule: 2 on the total (prorated), none on clusters.
    assert {s.id: (s.missing.max_missing, s.missing.prorate) for s in d.scales} == {
        "total": (2, True), "cluster-b": (0, False), "cluster-c": (0, False),
        "cluster-d": (0, False), "cluster-e": (0, False),
    }  # fmt: skip
    # No LOINC codes were confirmed for the PCL-5.
    assert d.loinc_panel is None
    assert all(i.loinc is None for i in d.items)


def test_no_item_wording_is_included() -> None:
    d = definition("pcl-5")
    assert all(i.text is None for i in d.items)


def test_every_rapport_default_is_listed() -> None:
    d = definition("pcl-5")
    defaults = sorted(s.id for s in d.sources if s.kind is SourceKind.RAPPORT_DEFAULT)
    assert defaults == ["rapport-pcl5-missing", "rapport-pcl5-rounding"]
