"""A chart's specification made once per shape, and filled in for each drawing.

For one instrument and one kind of series (with or without a cut-off, alerts, ruptures...)
altair builds the same layers every time, and vl-convert compiles them to the same Vega,
but for a few values: the rows, the range of sessions, the title and the description.
Building (about 12 ms at 100 sessions) and compiling (about 10 ms) cost as much as drawing,
so a builder makes its layers once per shape with a stand-in (``Blank``) where each of those
values goes, and this module finds where the stand-ins landed, in the Vega-Lite
specification and in its compilation to Vega, so each drawing only copies both and puts
its values there.

What an EHR downloads (``.vl.json``) is the filled Vega-Lite specification, and what is
drawn is the filled Vega. That the two agree is checked: a stand-in the compiler did not
carry over whole (a text folded into a longer one, a number into an expression) leaves
the template without its Vega, so every drawing compiles its own specification; and
tests/unit/test_chart_templates.py compiles filled specifications of every shape and
compares them with the filled Vega.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import vl_convert

from service.api.charts.fonts import load_fonts

Path = tuple[str | int, ...]

_SERIAL = itertools.count(1)
S = TypeVar("S", bound=Hashable)
_FORGETS: list[Callable[[], None]] = []


@dataclass(frozen=True, slots=True)
class Blank:
    """Where a drawing's value goes: ``stand_in`` is what the template holds there, a JSON
    value of the same type that no real chart contains."""

    name: str
    stand_in: Any
    rows: bool = False  # the rows of the named data set ``name``


def text(name: str) -> Blank:
    """A blank for a text (a title, a description)."""
    return Blank(name, f"\ue000{name}\ue000")


def span(name: str) -> Blank:
    """A blank for a scale's domain of positive numbers, ``[low, high]`` (sessions).

    The compiler decides some things from a domain (a domain that holds zero gets
    ``zero: true``), so the stand-in is of the same kind as the values: positive, ascending.
    """
    n = next(_SERIAL)
    return Blank(name, [1.0e9 + n + 0.25, 2.0e9 + n + 0.75])


def rows(name: str) -> Blank:
    """A blank for the rows of the named data set ``name``."""
    return Blank(name, [{"\ue000rows": name}], rows=True)


class Template:
    """A Vega-Lite specification holding stand-ins, and its compilation to Vega."""

    def __init__(self, spec: dict[str, Any], blanks: Sequence[Blank]) -> None:
        self.blanks = tuple(blanks)
        self._spec = orjson.dumps(spec)
        self._spec_paths = _located(spec, self.blanks)
        if self._spec_paths is None:
            raise ValueError("a stand-in of the specification is not a whole value of it")
        load_fonts()  # before vl-convert's first call of the process (charts/fonts.py)
        vega: dict[str, Any] = vl_convert.vegalite_to_vega(spec)
        self._vega = orjson.dumps(vega)
        self._vega_paths = _located(vega, self.blanks)

    @property
    def compiled(self) -> bool:
        """Whether drawings get their Vega from here (else they compile their own)."""
        return self._vega_paths is not None

    def filled(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The Vega-Lite specification and its Vega (None if not ``compiled``), each blank
        replaced by ``values[blank.name]``."""
        if set(values) != {b.name for b in self.blanks}:
            raise ValueError(f"values for {sorted(values)}, blanks {[b.name for b in self.blanks]}")
        spec: dict[str, Any] = orjson.loads(self._spec)
        _put(spec, self._spec_paths or {}, values)
        if self._vega_paths is None:
            return spec, None
        vega: dict[str, Any] = orjson.loads(self._vega)
        _put(vega, self._vega_paths, values)
        return spec, vega


def shaped(build: Callable[[S], Template]) -> Callable[[S], Template]:
    """``build`` remembered per shape (a frozen dataclass of what the layers depend on), for
    the last 128 shapes: a shape is an instrument and a kind of series, so few are in use."""
    remembered = functools.lru_cache(maxsize=128)(build)
    _FORGETS.append(remembered.cache_clear)
    return remembered


def forget_templates() -> None:
    """Forget every template (bench/charts.py times the first drawing of a shape)."""
    for forget in _FORGETS:
        forget()


def _located(document: Any, blanks: Sequence[Blank]) -> dict[str, list[Path]] | None:
    """Where each blank's stand-in is, as a whole value; None if one is missing, or also
    appears inside another value (a text or an expression the compiler made of it)."""
    found: dict[str, list[Path]] = {b.name: [] for b in blanks}
    by_json = {orjson.dumps(b.stand_in): b.name for b in blanks}

    def walk(node: Any, path: Path) -> None:
        name = by_json.get(orjson.dumps(node)) if isinstance(node, (str, list, dict)) else None
        if name is not None:
            found[name].append(path)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(document, ())
    whole = orjson.dumps(document)
    for blank in blanks:
        mark = _mark(blank.stand_in)
        if not found[blank.name] or whole.count(mark) != len(found[blank.name]):
            return None
    return found


def _mark(stand_in: Any) -> bytes:
    """A piece of the stand-in's JSON that nothing else contains: its text, its first number."""
    if isinstance(stand_in, str):
        return orjson.dumps(stand_in)[1:-1]
    if isinstance(stand_in, list) and stand_in and isinstance(stand_in[0], float):
        return orjson.dumps(stand_in[0])
    return orjson.dumps(stand_in)


def _put(document: Any, paths: Mapping[str, list[Path]], values: Mapping[str, Any]) -> None:
    for name, where in paths.items():
        for path in where:
            node = document
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = values[name]
