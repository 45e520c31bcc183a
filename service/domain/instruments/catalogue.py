"""The catalogue: every instrument definition Rapport knows, packaged or added by a clinic.

Packaged definitions live in ``definitions/`` beside this module. A clinic adds an
instrument (a licensed OQ-45, say) by dropping a TOML file into a directory named in
``RAPPORT_INSTRUMENTS_DIRS``; no code changes. An added file may not silently replace a
packaged instrument: ids must be unique.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from service.domain.errors import DefinitionError, InstrumentNotFound
from service.domain.instruments.loader import load_definition_file, parse_definition
from service.domain.instruments.model import InstrumentDefinition, Respondent


class Catalogue:
    def __init__(self, definitions: Iterable[InstrumentDefinition]) -> None:
        by_id: dict[str, InstrumentDefinition] = {}
        for definition in definitions:
            if definition.id in by_id:
                raise DefinitionError(f"instrument '{definition.id}' is defined twice")
            by_id[definition.id] = definition
        self._by_id = dict(sorted(by_id.items()))
        for definition in self._by_id.values():
            _check_pairing(definition, self._by_id)

    def get(self, instrument_id: str) -> InstrumentDefinition:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise InstrumentNotFound(instrument_id) from None

    def __iter__(self) -> Iterator[InstrumentDefinition]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id


def packaged_definitions() -> list[InstrumentDefinition]:
    folder = resources.files("service.domain.instruments") / "definitions"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            raw = tomllib.loads(entry.read_text(encoding="utf-8"))
            found.append(parse_definition(raw, entry.name))
    return found


def definitions_in(directory: Path) -> list[InstrumentDefinition]:
    if not directory.is_dir():
        raise DefinitionError(f"instrument directory {directory} does not exist")
    return [load_definition_file(p) for p in sorted(directory.glob("*.toml"))]


def load_catalogue(extra_dirs: Iterable[Path] = ()) -> Catalogue:
    definitions = packaged_definitions()
    for directory in extra_dirs:
        definitions.extend(definitions_in(directory))
    return Catalogue(definitions)


def _check_pairing(d: InstrumentDefinition, by_id: dict[str, InstrumentDefinition]) -> None:
    """Client and therapist forms pair only when they are comparable item for item."""
    if d.paired_form is None:
        return
    other = by_id.get(d.paired_form)
    if other is None:
        raise DefinitionError(f"{d.id}: paired form '{d.paired_form}' is not in the catalogue")
    if other.paired_form != d.id:
        raise DefinitionError(f"{d.id}: '{other.id}' does not name it as its paired form")
    if {d.respondent, other.respondent} != {Respondent.CLIENT, Respondent.THERAPIST}:
        raise DefinitionError(f"{d.id}: a pair needs one client and one therapist form")
    if _shape(d) != _shape(other) or d.total_scale != other.total_scale:
        raise DefinitionError(
            f"{d.id} and {other.id} differ in items, response scales or total metric, "
            "so their scores cannot be compared"
        )


def _shape(d: InstrumentDefinition) -> tuple[object, ...]:
    items = tuple(
        (i.id, i.scored, i.response.type, i.response.min, i.response.max, i.reverse)
        for i in d.items
    )
    scales = tuple((s.id, s.items, s.aggregation) for s in d.scales)
    return items, scales
