"""Chart to SVG or PNG with vl-convert, in-process: no browser, no network.

A chart made from a template (service.api.charts.template) carries its specification
already compiled to Vega, and is drawn from that; any other is compiled as it is drawn.

vl-convert's SVG carries ARIA attributes but no ``<title>`` or ``<desc>``; they are added
here with ElementTree, first in the root element, and named by ``aria-labelledby`` so a
screen reader announces the title and the numbers the chart shows.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import vl_convert

from service.api.charts.fonts import load_fonts
from service.api.charts.spec import CONFIG, HEIGHT, WIDTH, Chart

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
PNG_SCALE = 2.0  # crisp on high-density screens and in print


def to_svg(chart: Chart, name: str = "chart") -> str:
    """``name`` prefixes the ids of ``<title>`` and ``<desc>``: unique per page."""
    load_fonts()
    svg = (
        vl_convert.vegalite_to_svg(chart.spec)
        if chart.vega is None
        else vl_convert.vega_to_svg(chart.vega)
    )
    root = ET.fromstring(svg)  # noqa: S314 - our renderer's output, not user input
    title = ET.Element(f"{{{SVG_NS}}}title", {"id": f"{name}-title"})
    title.text = chart.title
    desc = ET.Element(f"{{{SVG_NS}}}desc", {"id": f"{name}-desc"})
    desc.text = chart.description
    root.insert(0, desc)
    root.insert(0, title)
    root.set("role", "img")
    root.set("aria-labelledby", f"{name}-title {name}-desc")
    return ET.tostring(root, encoding="unicode")


def to_png(chart: Chart) -> bytes:
    load_fonts()
    png: bytes = (
        vl_convert.vegalite_to_png(chart.spec, scale=PNG_SCALE)
        if chart.vega is None
        else vl_convert.vega_to_png(chart.vega, scale=PNG_SCALE)
    )
    return png


def warm_up() -> None:
    """Draw a small chart, so the first request does not pay for starting vl-convert.

    A process's first drawing starts vl-convert's JavaScript runtime, loads Vega and
    Vega-Lite, reads the fonts and compiles the code that draws each kind of mark: about
    0.6 s of CPU, against tens of milliseconds for the drawings after it
    (bench/charts.py). The app calls this in a thread at start-up. The chart has the kinds
    of mark, legend and text the real charts have.
    """
    rows = [{"session": s, "total": 20 - s, "marker": f"kind {s % 3}"} for s in range(1, 13)]
    x = {"field": "session", "type": "quantitative", "title": "Session"}
    y = {"field": "total", "type": "quantitative", "title": "Total"}
    marker = {"field": "marker", "type": "nominal", "title": None}
    spec = {
        "datasets": {"rows": rows, "bands": [{"from": 0, "to": 10, "band": "low"}]},
        "layer": [
            {"data": {"name": "bands"}, "mark": {"type": "rect", "opacity": 0.5},
             "encoding": {"y": {"field": "from", "type": "quantitative"}, "y2": {"field": "to"},
                          "fill": {"field": "band", "type": "nominal", "legend": None}}},
            {"data": {"name": "bands"}, "mark": {"type": "text", "align": "right"},
             "encoding": {"y": {"field": "to", "type": "quantitative"}, "text": {"field": "band"},
                          "x": {"value": WIDTH}}},
            {"data": {"name": "bands"}, "mark": {"type": "rule", "strokeDash": [6, 4]},
             "encoding": {"y": {"field": "to", "type": "quantitative"}}},
            {"data": {"name": "rows"}, "mark": "line", "encoding": {"x": x, "y": y}},
            {"data": {"name": "rows"}, "mark": {"type": "point", "filled": True},
             "encoding": {"x": x, "y": y, "color": marker, "shape": marker}},
        ],
        "width": WIDTH, "height": HEIGHT, "title": {"text": "Warming up", "subtitle": "Charts"},
        "config": CONFIG,
    }  # fmt: skip
    load_fonts()
    vl_convert.vega_to_svg(vl_convert.vegalite_to_vega(spec))
