"""Server-rendered charts: Vega-Lite specifications built with altair, drawn by vl-convert.

Why this stack: a chart is a declarative Vega-Lite specification (the same JSON an EHR can
draw itself), and vl-convert renders it to SVG and PNG in-process, with no browser and no
network. The builders take the use cases' typed results (service.app.charts) and constants
from the instrument definitions; the domain never sees a chart.
"""
