"""Chart to SVG or PNG with vl-convert, in-process: no browser, no network.

vl-convert's SVG carries ARIA attributes but no ``<title>`` or ``<desc>``; they are added
here with ElementTree, first in the root element, and named by ``aria-labelledby`` so a
screen reader announces the title and the numbers the chart shows.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import vl_convert

from service.api.charts.spec import Chart

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
PNG_SCALE = 2.0  # crisp on high-density screens and in print


def to_svg(chart: Chart, name: str = "chart") -> str:
    """``name`` prefixes the ids of ``<title>`` and ``<desc>``: unique per page."""
    svg = vl_convert.vegalite_to_svg(chart.spec)
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
    png: bytes = vl_convert.vegalite_to_png(chart.spec, scale=PNG_SCALE)
    return png
