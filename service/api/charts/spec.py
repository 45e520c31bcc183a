"""A chart ready to render: its Vega-Lite specification and the words that describe it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
from altair.utils.schemapi import disable_debug_mode

from service.api.charts.template import Blank, Template

# Altair validates every object against the Vega-Lite schema as it is built, which costs
# more than the rest of the chart; the builders' output is validated by the tests instead
# (tests/unit/test_chart_specs.py).
disable_debug_mode()

# Okabe and Ito (2008), the palette designed to stay distinct under every common form of
# colour-vision deficiency; every mark also differs by shape or dash, never by colour alone.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#767676"  # the lightest grey with 4.5:1 contrast on white
# Light, ordered tints for severity bands (a single-hue sequence reads in greyscale too).
BAND_TINTS = ("#fbfdff", "#eef5fb", "#e0ecf7", "#cfe1f2", "#bcd6ec", "#a6c9e4")

WIDTH = 640
HEIGHT = 300
# Liberation Sans first: vl-convert bundles it and keeps it in memory, so measuring a text
# costs microseconds; a font it finds on the host (DejaVu Sans, say) is opened and mapped
# again for every glyph it measures, which made measuring the text most of a drawing
# (docs/charts.md, "Cost"). It has Arial's metrics, so browsers that draw the SVG with Arial
# or Helvetica lay it out as measured.
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
CONFIG: dict[str, Any] = {
    "font": FONT,
    "title": {"fontSize": 15, "subtitleFontSize": 12, "anchor": "start", "subtitleColor": "#333"},
    # No label limits: our labels are numbers and fixed phrases that never reach one, and a
    # limit makes Vega measure every label once more as it draws it.
    "axis": {
        "labelFontSize": 12,
        "titleFontSize": 12,
        "labelColor": "#222",
        "titleColor": "#222",
        "labelLimit": 0,
    },
    "legend": {
        "labelFontSize": 12,
        "titleFontSize": 12,
        "orient": "bottom",
        "columns": 3,
        "labelLimit": 0,
    },
    "view": {"stroke": "#bbb"},
}


@dataclass(frozen=True, slots=True)
class Chart:
    """``title`` and ``description`` go into the SVG as ``<title>`` and ``<desc>``; the
    description states the numbers, for screen readers and for anyone who cannot see it."""

    spec: dict[str, Any]
    title: str
    description: str
    vega: dict[str, Any] | None = None  # ``spec`` compiled to Vega, when a template made it


def number(value: float | None) -> str:
    """A score as people write it: 12 rather than 12.0, at most one decimal."""
    if value is None:
        return "not scored"
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def signed(value: float) -> str:
    text = number(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


class Datasets:
    """A chart's rows, kept apart from its layers until the specification is made.

    Layers name their data (``NamedData``) and the rows go into the specification's
    top-level ``datasets`` once: altair copies each layer's inline values several times as
    it builds, which cost more than the rest of the chart at a hundred sessions.
    """

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, rows: list[dict[str, Any]]) -> Any:
        name = f"data-{len(self._rows)}"
        self._rows[name] = rows
        return alt.NamedData(name=name)

    def specification(self, chart: Any) -> dict[str, Any]:
        spec: dict[str, Any] = chart.to_dict(validate=False)
        spec["datasets"] = self._rows
        return spec


def named(blank: Blank) -> Any:
    """The named data set whose rows fill ``blank``."""
    return alt.NamedData(name=blank.name)


def template(chart: Any, blanks: list[Blank]) -> Template:
    """A template of ``chart``, whose layers name the data sets of ``blanks``."""
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["datasets"] = {b.name: b.stand_in for b in blanks if b.rows}
    return Template(spec, blanks)


def layered(layers: list[Any], *, height: int, title: str, subtitle: str, description: str) -> Any:
    """The layers in one panel with the common size, titles and configuration.

    One ``LayerChart`` made with everything at once: altair copies every layer each time a
    layered chart is made, and ``alt.layer(...).properties(...).configure(...)`` made it
    three times, which cost half of building the specification.
    """
    return alt.LayerChart(
        layer=layers, width=WIDTH, height=height, title=alt.Title(title, subtitle=subtitle),
        description=description, config=alt.Config(**CONFIG),
    )  # fmt: skip


def x_at(pixels: float) -> Any:
    """An x position in pixels (a channel object: altair re-parses plain values slowly)."""
    return alt.XValue(pixels)  # type: ignore[no-untyped-call]


def y_at(pixels: float) -> Any:
    return alt.YValue(pixels)  # type: ignore[no-untyped-call]
