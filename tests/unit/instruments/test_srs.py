"""SRS vectors, pinned to the developers' scoring instruction (total < 36, any line < 9).

Sources (see srs.toml): CORC SRS page (0-10 lines, total 0-40); the developers' scoring
instruction as reproduced in a secondary copy (instruments.md [S76]). Expected values are
hand-computed.
"""

from __future__ import annotations

import pytest

from service.domain.errors import InvalidResponses
from service.domain.instruments.model import Comparison, Direction, Respondent, ResponseType
from tests.unit.instruments.conftest import answers, definition, flag_codes, score


def test_total_is_the_sum_of_the_four_lines_in_cm() -> None:
    # 9.5 + 8.2 + 10 + 7.3 = 35.0
    result = score("srs", answers([9.5, 8.2, 10, 7.3]))
    assert result.total == pytest.approx(35.0)
    assert result.band is None
    assert result.prorated is False
    assert result.missing == ()


def test_full_range_is_0_to_40() -> None:
    assert score("srs", answers([0, 0, 0, 0])).total == 0
    assert score("srs", answers([10, 10, 10, 10])).total == 40


@pytest.mark.parametrize(
    ("population", "values", "total", "concern"),
    [
        ("adult", [9, 9, 9, 8.9], 35.9, True),
        ("adult", [9, 9, 9, 9], 36, False),
        ("adolescent", [9, 9, 9, 8.9], 35.9, True),
        ("adolescent", [9, 9, 9, 9], 36, False),
    ],
)
def test_alliance_concern_below_36_per_population(
    population: str, values: list[float], total: float, concern: bool
) -> None:
    # Strict "<": 36 itself is not a concern (developers' instruction, [S76]).
    result = score("srs", answers(values), population)
    assert result.total == pytest.approx(total)
    assert result.clinical is concern
    assert result.provenance.population.value == population


def test_child_population_has_no_cutoff() -> None:
    # The CSRS (6-12) is a separate form with no confirmed cut-off.
    result = score("srs", answers([5, 5, 5, 5]), "child")
    assert result.total == 20
    assert result.clinical is None
    assert "cutoff-unavailable" in flag_codes(result)


def test_population_defaults_to_adult() -> None:
    result = score("srs", answers([8, 8, 8, 8]))
    assert result.provenance.population.value == "adult"
    assert result.provenance.population_defaulted is True
    assert result.clinical is True


def test_any_line_below_9_raises_low_item_on_exactly_those_lines() -> None:
    result = score("srs", answers([9.5, 8.2, 10, 7.3]))
    assert flag_codes(result) == ["low-item"]
    assert result.flags[0].items == ("2", "4")


@pytest.mark.parametrize(
    ("value", "flagged"), [(8.9, True), (8.99, True), (9, False), (9.1, False)]
)
def test_low_item_boundary_is_strictly_below_9(value: float, flagged: bool) -> None:
    result = score("srs", answers([10, 10, 10, value]))
    assert ("low-item" in flag_codes(result)) is flagged


def test_no_missing_line_is_allowed() -> None:
    result = score("srs", answers([10, 10, 10]))
    assert result.total is None
    assert result.clinical is None
    assert result.missing == ("4",)
    assert "not-scorable" in flag_codes(result)


def test_low_item_fires_even_when_the_total_cannot_be_scored() -> None:
    result = score("srs", {"1": 4.0, "2": None})
    assert result.total is None
    assert "low-item" in flag_codes(result)
    assert "not-scorable" in flag_codes(result)


def test_decimal_centimetres_are_accepted_and_range_is_enforced() -> None:
    # 7.25 + 9.75 + 10 + 9 = 36.0
    assert score("srs", answers([7.25, 9.75, 10, 9])).total == pytest.approx(36.0)
    with pytest.raises(InvalidResponses) as caught:
        score("srs", {"1": 10.1, "2": -0.1, "3": "9", "5": 1})
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("1", "out-of-range"), ("2", "out-of-range"), ("3", "wrong-type"), ("5", "unknown-item"),
    ]  # fmt: skip


def test_constants_are_pinned() -> None:
    d = definition("srs")
    assert d.respondent is Respondent.CLIENT
    assert d.direction is Direction.HIGHER_IS_BETTER
    assert [p.value for p in d.populations] == ["adult", "adolescent"]
    assert d.paired_form is None
    assert all(i.response.type is ResponseType.DECIMAL for i in d.items)
    assert {(i.response.min, i.response.max) for i in d.items} == {(0, 10)}
    assert [i.id for i in d.items if i.reverse] == []
    # Developers' scoring instruction via secondary copy [S76]: total < 36, any line < 9.
    assert [(c.population.value, c.comparison, c.value) for c in d.total.cutoffs] == [
        ("adult", Comparison.LT, 36),
        ("adolescent", Comparison.LT, 36),
    ]
    (rule,) = d.item_flags
    assert (rule.code, rule.comparison, rule.value) == ("low-item", Comparison.LT, 9)
    assert rule.items == ("1", "2", "3", "4")
    assert d.total.missing.max_missing == 0
    # Nothing published: no reliable change, no bands, no LOINC.
    assert d.total.reliable_change is None
    assert d.total.bands is None
    assert d.total.loinc is None
    assert d.loinc_panel is None
    assert d.licence.item_text_allowed is False
    assert all(i.text is None for i in d.items)


def test_every_rapport_default_is_listed() -> None:
    d = definition("srs")
    assert sorted(s.id for s in d.sources if s.kind.value == "rapport-default") == ["srs-missing"]
