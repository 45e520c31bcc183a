"""The progress chart: one instrument's totals by session against its severity bands, the
clinical cut-off for the patient's population, the reliable-change band around the first
session, points marked by reliable change, and the alerts raised on the series.

Every constant comes from the instrument definition (bands, cut-off, reliable-change
threshold) through the progress use case, so the chart and ``/progress`` never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from service.api.charts.spec import (
    BAND_TINTS,
    BLACK,
    BLUE,
    BLUISH_GREEN,
    GREY,
    HEIGHT,
    REDDISH_PURPLE,
    VERMILLION,
    WIDTH,
    Chart,
    layered,
    named,
    number,
    template,
    x_at,
    y_at,
)
from service.api.charts.template import Template, rows, shaped, span, text
from service.app.charts import ProgressChartData
from service.domain.instruments.model import Direction
from service.domain.progress import Classification, ReliableChangeLabel

IMPROVED, DETERIORATED, NO_CHANGE, NOT_JUDGED = (
    "Reliable improvement", "Reliable deterioration", "No reliable change",
    "Not judged",
)  # fmt: skip
ALERT = "Alert raised"
_LABELS = {
    ReliableChangeLabel.IMPROVED: IMPROVED,
    ReliableChangeLabel.DETERIORATED: DETERIORATED,
    ReliableChangeLabel.NONE: NO_CHANGE,
    None: NOT_JUDGED,
}
_SUMMARY = {
    Classification.RECOVERED: "recovered",
    Classification.IMPROVED: "reliably improved",
    Classification.UNCHANGED: "no reliable change",
    Classification.DETERIORATED: "reliably deteriorated",
    Classification.NOT_APPLICABLE: "change not classified",
}


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the layers depend on; the rest is in the blanks (service.api.charts.template)."""

    short_name: str
    scale: tuple[float, float]
    worse_higher: bool
    bands: tuple[str, ...]  # the severity bands' labels, lowest first; () for none
    reliable_band: bool
    cutoff: bool
    alerts: bool


TITLE, DESCRIPTION, SESSIONS = text("title"), text("description"), span("sessions")
BANDS, RELIABLE, CUTOFF = rows("bands"), rows("reliable-change"), rows("cut-off")
POINTS, ALERTS = rows("points"), rows("alerts")
SUBTITLE = (
    "Shaded: severity bands. Dashed line: clinical cut-off. Grey band: change from the "
    "first session too small to be reliable."
)


def progress_chart(data: ProgressChartData) -> Chart:
    definition, progress = data.definition, data.view.progress
    low, high = definition.scale_range(definition.total)
    scored = [p for p in progress.points if p.total is not None]
    values: dict[str, Any] = {SESSIONS.name: _sessions(progress.points)}
    bands = definition.total.bands
    if bands is not None:
        edges = [b.min for b in bands.bands[1:]] + [high]
        values[BANDS.name] = [
            {"band": b.label, "from": b.min, "to": top, "middle": (b.min + top) / 2}
            for b, top in zip(bands.bands, edges, strict=True)
        ]
    rc = progress.reliable_change
    if rc is not None and scored:
        base = scored[0].total
        assert base is not None
        values[RELIABLE.name] = [
            {"from": max(low, base - rc.minimum_change), "to": min(high, base + rc.minimum_change)}
        ]
    cutoff = progress.cutoff
    if cutoff is not None:
        label = (
            f"Clinical cut-off ({data.view.population}): {cutoff.comparison} {number(cutoff.value)}"
        )
        values[CUTOFF.name] = [{"value": cutoff.value, "label": label}]
    values[POINTS.name] = [
        {"session": p.session, "total": p.total, "marker": _LABELS[p.reliable_change]}
        for p in scored
    ]
    alerts = [
        {"session": a.evidence["session"], "marker": ALERT, "kind": a.kind.value}
        for a in data.alerts
        if isinstance(a.evidence.get("session"), int)
    ]
    if alerts:
        values[ALERTS.name] = alerts
    title, description = _words(data, scored, alerts)
    values |= {TITLE.name: title, DESCRIPTION.name: description}
    shape = _Shape(
        definition.short_name, (low, high), definition.direction is Direction.HIGHER_IS_WORSE,
        tuple(row["band"] for row in values.get(BANDS.name, ())), RELIABLE.name in values,
        CUTOFF.name in values, ALERTS.name in values,
    )  # fmt: skip
    spec, vega = _template(shape).filled(values)
    return Chart(spec, title, description, vega)


@shaped
def _template(shape: _Shape) -> Template:
    """The layers of every progress chart of this shape, built once."""
    low, high = shape.scale
    improved_shape, worse_shape = (
        ("triangle-down", "triangle-up") if shape.worse_higher else ("triangle-up", "triangle-down")
    )
    marker_domain = [IMPROVED, DETERIORATED, NO_CHANGE, NOT_JUDGED, ALERT]
    marker_colours = [BLUISH_GREEN, VERMILLION, BLUE, GREY, REDDISH_PURPLE]
    marker_shapes = [improved_shape, worse_shape, "circle", "square", "diamond"]
    x = alt.X(
        "session:Q", title="Session",
        scale=alt.Scale(domain=SESSIONS.stand_in, nice=False),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )  # fmt: skip
    y_scale = alt.Scale(domain=[low, high], nice=False)
    layers: list[Any] = []
    blanks = [TITLE, DESCRIPTION, SESSIONS, POINTS]
    if shape.bands:
        blanks.append(BANDS)
        tints = list(BAND_TINTS[: len(shape.bands)])
        layers.append(
            alt.Chart(named(BANDS)).mark_rect(opacity=0.9).encode(
                y=alt.Y("from:Q", scale=y_scale, title=f"{shape.short_name} total"),
                y2=alt.Y2("to:Q"),
                fill=alt.Fill(
                    "band:N", scale=alt.Scale(domain=list(shape.bands),
                                              range=tints if shape.worse_higher else tints[::-1]),
                    legend=None,
                ),
            )
        )  # fmt: skip
        layers.append(
            alt.Chart(named(BANDS)).mark_text(align="right", dx=-4, fontSize=11, color="#333")
            .encode(
                y=alt.Y("middle:Q", scale=y_scale), x=x_at(WIDTH), text=alt.Text("band:N")
            )
        )  # fmt: skip
    if shape.reliable_band:
        blanks.append(RELIABLE)
        layers.append(
            alt.Chart(named(RELIABLE))
            .mark_rect(color=GREY, opacity=0.25, stroke=BLACK, strokeOpacity=0.6, strokeDash=[2, 3])
            .encode(y=alt.Y("from:Q", scale=y_scale), y2=alt.Y2("to:Q"))
        )
    if shape.cutoff:
        blanks.append(CUTOFF)
        layers.append(
            alt.Chart(named(CUTOFF))
            .mark_rule(color=BLACK, strokeDash=[6, 4], strokeWidth=1.5)
            .encode(y=alt.Y("value:Q", scale=y_scale))
        )  # fmt: skip
        layers.append(
            alt.Chart(named(CUTOFF))
            .mark_text(align="left", dx=4, dy=-7, fontSize=11, color=BLACK)
            .encode(y=alt.Y("value:Q", scale=y_scale), x=x_at(0), text=alt.Text("label:N"))
        )  # fmt: skip
    marker = alt.Color(
        "marker:N", title=None, scale=alt.Scale(domain=marker_domain, range=marker_colours)
    )
    marker_shape = alt.Shape(
        "marker:N", title=None, scale=alt.Scale(domain=marker_domain, range=marker_shapes)
    )
    line = alt.Chart(named(POINTS))
    layers.append(
        line.mark_line(color=BLACK, strokeWidth=1.5).encode(x=x, y=alt.Y("total:Q", scale=y_scale))
    )
    layers.append(
        line.mark_point(filled=True, size=70, opacity=1, stroke="white", strokeWidth=0.5)
        .encode(x=x, y=alt.Y("total:Q", scale=y_scale), color=marker, shape=marker_shape)
    )  # fmt: skip
    if shape.alerts:
        blanks.append(ALERTS)
        flagged = alt.Chart(named(ALERTS))
        layers.append(
            flagged.mark_point(filled=True, size=110, opacity=1)
            .encode(x=x, y=y_at(10), color=marker, shape=marker_shape)
        )  # fmt: skip
        layers.append(
            flagged.mark_text(dy=-12, fontSize=10, color=BLACK)
            .encode(x=x, y=y_at(10), text=alt.Text("kind:N"))
        )  # fmt: skip
    chart = layered(
        layers, height=HEIGHT, title=TITLE.stand_in, subtitle=SUBTITLE,
        description=DESCRIPTION.stand_in,
    )  # fmt: skip
    return template(chart, blanks)


def _sessions(points: Any) -> list[float]:
    sessions = [p.session for p in points] or [1]
    return [min(sessions) - 0.5, max(sessions) + 0.5]


def _words(
    data: ProgressChartData, scored: list[Any], alerts: list[dict[str, Any]]
) -> tuple[str, str]:
    d, progress = data.definition, data.view.progress
    if not scored:
        return f"{d.short_name}: no scored session yet", f"{d.short_name} has no scored session."
    first, last = scored[0], scored[-1]
    title = (
        f"{d.short_name} from {number(first.total)} (session {first.session}) to "
        f"{number(last.total)} (session {last.session}): {_SUMMARY[progress.classification]}"
    )
    parts = [
        f"{d.name} totals by session ({d.direction.value.replace('-', ' ')}): "
        + ", ".join(f"session {p.session} {number(p.total)}" for p in scored)
        + ".",
        f"Episode: {progress.classification.value}, {progress.reason}.",
    ]
    if progress.reliable_change is not None:
        parts.append(
            f"A change of {number(progress.reliable_change.minimum_change)} points from "
            "the first session is reliable."
        )
    if progress.cutoff is not None:
        parts.append(
            f"Clinical cut-off for the {data.view.population} population: total "
            f"{progress.cutoff.comparison} {number(progress.cutoff.value)}."
        )
    if d.total.bands is not None:
        parts.append(
            "Severity bands: "
            + ", ".join(f"{b.label} from {number(b.min)}" for b in d.total.bands.bands) + "."
        )  # fmt: skip
    if alerts:
        parts.append(
            "Alerts: " + ", ".join(f"{a['kind']} at session {a['session']}" for a in alerts) + "."
        )
    return title, " ".join(parts)
