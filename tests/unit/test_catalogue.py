"""The catalogue: sixteen packaged instruments, clinic-added ones, and strict loading."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from service.domain.errors import DefinitionError
from service.domain.instruments.catalogue import Catalogue, definitions_in, load_catalogue
from service.domain.instruments.loader import parse_definition
from service.domain.instruments.model import SourceKind
from service.domain.scoring.scorer import Scorer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PHQ9 = Path(__file__).resolve().parents[2] / "service/domain/instruments/definitions/phq-9.toml"
CONTRACT_IDS = {
    "phq-9", "phq-2", "gad-7", "gad-2", "core-10", "core-om", "ors", "srs", "wai-sr",
    "wai-sr-t", "haq-ii", "haq-ii-t", "k10", "who-5", "pcl-5", "dass-21",
}  # fmt: skip


def test_all_sixteen_contract_instruments_are_packaged() -> None:
    assert {d.id for d in load_catalogue()} == CONTRACT_IDS


def test_every_rapport_default_states_its_rationale() -> None:
    for d in load_catalogue():
        for source in d.sources:
            if source.kind is SourceKind.RAPPORT_DEFAULT:
                assert len(source.citation) > 40, f"{d.id}/{source.id} needs a rationale"


def test_a_clinic_adds_an_instrument_with_a_file_and_no_code(tmp_path: Path) -> None:
    (tmp_path / "cdf.toml").write_text((FIXTURES / "clinic-oq-like.toml").read_text())
    catalogue = load_catalogue([tmp_path])
    assert len(catalogue) == len(CONTRACT_IDS) + 1
    d = catalogue.get("clinic-distress-6")
    # Item 3 is reverse-keyed on 0-4: an answer of 1 counts 3.
    result = Scorer(d).score({"1": 2, "2": 2, "3": 1, "4": 2, "5": 1, "6": 3})
    assert result.total == 13
    assert result.clinical is True
    assert [f.code for f in result.flags] == ["risk"]
    assert next(s for s in result.scales if s.id == "relations").score == 5
    rc = d.total.reliable_change
    assert rc is not None
    assert rc.minimum_change == pytest.approx(1.96 * 5.0 * math.sqrt(2 * 0.1))


def test_a_clinic_file_cannot_replace_a_packaged_instrument(tmp_path: Path) -> None:
    (tmp_path / "phq-9.toml").write_text(PHQ9.read_text())
    with pytest.raises(DefinitionError, match="defined twice"):
        load_catalogue([tmp_path])


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        definitions_in(tmp_path / "nope")


def _phq9_with(change: str, replacement: str) -> dict[str, object]:
    text = PHQ9.read_text()
    assert change in text
    return tomllib.loads(text.replace(change, replacement, 1))


@pytest.mark.parametrize(
    ("change", "replacement", "message"),
    [
        ("max_missing = 2", "max_missing = 2, maximum = 1", "unknown key"),
        ('source = "nhs-dd-phq9"', 'source = "nowhere"', "not listed"),
        ("max_missing = 2, prorate = true", "max_missing = 2, prorate = false", "prorate"),
        ('{ label = "mild", min = 5 }', '{ label = "mild", min = 0 }', "strictly increasing"),
        ("item_text_allowed = true", "item_text_allowed = false", "wording"),
        ('id = "phq-9"', 'id = "PHQ 9"', "slug"),
        ('total_scale = "total"', 'total_scale = "sum"', "total_scale"),
        ('direction = "higher-is-worse"', 'direction = "down"', "not one of"),
        ("max = 3\n", "max = 0\n", "min must be below max"),
    ],
)
def test_the_loader_refuses_inconsistent_definitions(
    change: str, replacement: str, message: str
) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_definition(_phq9_with(change, replacement), "phq-9.toml")


def test_paired_forms_must_pair_back() -> None:
    packaged = {d.id: d for d in load_catalogue()}
    with pytest.raises(DefinitionError, match="paired form"):
        Catalogue([packaged["wai-sr"]])


# Every value Rapport chose where no source decides, by instrument. A new default must be
# added here on purpose (and to the closing notes), never slip in unnoticed.
RAPPORT_DEFAULTS = {
    "core-10": {"rapport-core10-bands", "rapport-risk-any"},
    "core-om": {"rapport-coreom-bands", "rapport-coreom-rci", "rapport-risk-any"},
    "dass-21": {"rapport-default-missing"},
    "gad-2": {"rapport-default-missing"},
    "gad-7": {"rapport-gad7-rounding"},
    "haq-ii": {"haq2-scale", "haq2-missing", "rapport-concordance-haq"},
    "haq-ii-t": {"haq2-scale", "haq2-missing"},
    "k10": {"rapport-default-missing", "rapport-default-cutoff"},
    "ors": {"rapport-ors-boundary", "rapport-ors-missing"},
    "pcl-5": {"rapport-pcl5-missing", "rapport-pcl5-rounding"},
    "phq-2": {"rapport-default-missing"},
    "phq-9": set(),
    "srs": {"srs-missing"},
    "wai-sr": {"wai-missing", "rapport-concordance-wai"},
    "wai-sr-t": {"wai-missing", "wai-sr-t-scale"},
    "who-5": {"rapport-default-missing"},
}


def test_the_documented_defaults_are_exactly_those_in_the_definitions() -> None:
    found = {
        d.id: {s.id for s in d.sources if s.kind is SourceKind.RAPPORT_DEFAULT}
        for d in load_catalogue()
    }
    assert found == RAPPORT_DEFAULTS
