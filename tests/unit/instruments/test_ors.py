"""ORS vectors, pinned to Miller et al. (2003) and the PCOMS cut-offs as reported by secondary
sources. Higher is better: a total at or below the population's cut-off is clinical.
"""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from service.domain.instruments.model import Comparison, Direction, ResponseType, SourceKind
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_the_four_lines_in_cm() -> None:
    result = score("ors", answers([6.3, 7.1, 5.5, 8.4]))
    assert result.total == pytest.approx(27.3)
    assert result.band is None  # no published bands
    assert result.prorated is False
    assert result.missing == ()


@pytest.mark.parametrize(
    ("population", "values", "total", "clinical"),
    [
        ("adult", [6.3, 6.2, 6.3, 6.3], 25.1, False),
        ("adult", [6.25, 6.25, 6.25, 6.25], 25.0, True),
        ("adult", [6.2, 6.2, 6.3, 6.2], 24.9, True),
        ("adolescent", [7.0, 7.1, 7.0, 7.0], 28.1, False),
        ("adolescent", [7.0, 7.0, 7.0, 7.0], 28.0, True),
        ("child", [8.0, 8.1, 8.0, 8.0], 32.1, False),
        ("child", [8.0, 8.0, 8.0, 8.0], 32.0, True),
    ],
)
def test_cutoffs_per_population_count_the_boundary_as_clinical(
    population: str, values: list[float], total: float, clinical: bool
) -> None:
    result = score("ors", answers(values), population)
    assert result.total == pytest.approx(total)
    assert result.clinical is clinical
    assert "cutoff-unavailable" not in flag_codes(result)


def test_the_same_total_reads_differently_by_population() -> None:
    values = [7.5, 7.5, 7.5, 7.5]  # 30
    assert score("ors", answers(values), "adult").clinical is False
    assert score("ors", answers(values), "adolescent").clinical is False
    assert score("ors", answers(values), "child").clinical is True


def test_higher_is_better_with_no_reverse_keying() -> None:
    low = score("ors", answers([2.0, 2.0, 2.0, 2.0]))
    high = score("ors", answers([2.0, 2.0, 2.0, 9.5]))
    assert low.total == 8
    assert high.total == 15.5
    assert low.clinical is True
    assert definition("ors").direction is Direction.HIGHER_IS_BETTER


def test_extremes_of_the_line() -> None:
    assert score("ors", answers([0, 0, 0, 0])).total == 0
    assert score("ors", answers([10, 10, 10, 10])).total == 40


def test_one_missing_line_is_not_scorable() -> None:
    result = score("ors", answers([8.0, 8.0, 8.0]))
    assert result.total is None
    assert result.clinical is None
    assert "not-scorable" in flag_codes(result)
    assert result.missing == ("4",)


def test_marks_off_the_line_are_rejected() -> None:
    with pytest.raises(InvalidResponses) as caught:
        score("ors", {"1": 10.5, "2": -0.1, "3": "5", "4": 5.0})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("1", "out-of-range"), ("2", "out-of-range"), ("3", "wrong-type"),
    ]  # fmt: skip


def test_constants_are_pinned() -> None:
    d = definition("ors")
    assert all(i.response.type is ResponseType.DECIMAL for i in d.items)
    assert all((i.response.min, i.response.max) == (0, 10) for i in d.items)
    # Therapy Meets Numbers (adult 25, adolescent 28); OpenFIT (CORS child 32); boundary
    # clinical at or below (hiboop, OpenFIT; rapport-ors-boundary).
    assert [(c.population.value, c.comparison, c.value) for c in d.total.cutoffs] == [
        ("adult", Comparison.LE, 25),
        ("adolescent", Comparison.LE, 28),
        ("child", Comparison.LE, 32),
    ]
    # Reliable change 5 points (secondary; OpenFIT uses an effect-size rule instead).
    assert d.total.reliable_change is not None
    assert d.total.reliable_change.threshold == 5
    assert d.total.reliable_change.source == "hiboop-ors"
    assert [i.id for i in d.items if i.reverse] == []
    assert (d.total.missing.max_missing, d.total.missing.prorate) == (0, False)
    assert d.total.bands is None
    assert d.item_flags == ()
    # No LOINC codes were found for the ORS.
    assert d.loinc_panel is None
    assert all(i.loinc is None for i in d.items)


def test_licence_forbids_item_wording() -> None:
    d = definition("ors")
    assert d.licence.item_text_allowed is False
    assert all(i.text is None for i in d.items)


def test_every_rapport_default_is_listed() -> None:
    d = definition("ors")
    defaults = sorted(s.id for s in d.sources if s.kind is SourceKind.RAPPORT_DEFAULT)
    assert defaults == ["rapport-ors-boundary", "rapport-ors-missing"]
