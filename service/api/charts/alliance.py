"""The alliance chart: the client's and the therapist's totals of a paired form on one
axis by session, discordant sessions marked, ruptures and their repairs marked.

Discordance is descriptive, not a validated predictor of outcome (docs/clinical-rules.md);
the subtitle says so wherever the chart goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from service.api.charts.spec import (
    BLUE,
    BLUISH_GREEN,
    HEIGHT,
    ORANGE,
    REDDISH_PURPLE,
    VERMILLION,
    Chart,
    layered,
    named,
    number,
    signed,
    template,
)
from service.api.charts.template import Template, rows, shaped, span, text
from service.app.charts import AllianceChartData
from service.domain.ruptures import RepairStatus

DISCORDANT, RUPTURE, REPAIR = "Discordant session", "Rupture (client)", "Repair (client)"
CAVEAT = "Discordance is descriptive: it is not a validated predictor of outcome."


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the layers depend on; the rest is in the blanks (service.api.charts.template)."""

    client: str  # the forms' short names
    therapist: str
    scale: tuple[float, float]
    discordant: bool
    marks: bool


TITLE, DESCRIPTION, SESSIONS = text("title"), text("description"), span("sessions")
SERIES, DISCORDANCE, MARKS = rows("series"), rows("discordant"), rows("ruptures")


def alliance_chart(data: AllianceChartData) -> Chart:
    view = data.concordance
    client, therapist = view.client_form, view.therapist_form
    who = _who(client.short_name, therapist.short_name)
    series: list[dict[str, Any]] = [
        {"session": p.session, "total": p.total, "who": who[side]}
        for side, points in (("client", data.client), ("therapist", data.therapist))
        for p in points
        if p.total is not None
    ]
    sessions: list[int] = [r["session"] for r in series] or [1]
    discordant = [
        {"session": p.session, "marker": DISCORDANT} for p in view.sessions if p.discordant
    ]
    marks: list[dict[str, Any]] = [
        *(
            {"session": r.session, "total": r.score, "marker": RUPTURE} for r in data.ruptures
        ),
        *(
            {"session": r.repaired_at_session, "total": _client_total(data, r.repaired_at_session),
             "marker": REPAIR}
            for r in data.ruptures
            if r.status is RepairStatus.REPAIRED and r.repaired_at_session is not None
        ),
    ]  # fmt: skip
    title, description = _words(data, discordant)
    values: dict[str, Any] = {
        TITLE.name: title, DESCRIPTION.name: description,
        SESSIONS.name: [min(sessions) - 0.5, max(sessions) + 0.5], SERIES.name: series,
    }  # fmt: skip
    if discordant:
        values[DISCORDANCE.name] = discordant
    if marks:
        values[MARKS.name] = marks
    shape = _Shape(
        client.short_name, therapist.short_name, client.scale_range(client.total),
        bool(discordant), bool(marks),
    )  # fmt: skip
    spec, vega = _template(shape).filled(values)
    return Chart(spec, title, description, vega)


@shaped
def _template(shape: _Shape) -> Template:
    """The layers of every alliance chart of this shape, built once."""
    low, high = shape.scale
    who = list(_who(shape.client, shape.therapist).values())
    x = alt.X(
        "session:Q", title="Session",
        scale=alt.Scale(domain=SESSIONS.stand_in, nice=False),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )  # fmt: skip
    y = alt.Y("total:Q", title=f"{shape.client} total", scale=alt.Scale(domain=[low, high]))
    lines = alt.Chart(named(SERIES))
    series_colour = alt.Color(
        "who:N", title=None, scale=alt.Scale(domain=who, range=[BLUE, ORANGE])
    )
    series_shape = alt.Shape(
        "who:N", title=None, scale=alt.Scale(domain=who, range=["circle", "square"])
    )
    marker_colour = alt.Stroke(
        "marker:N", title=None,
        scale=alt.Scale(
            domain=[DISCORDANT, RUPTURE, REPAIR], range=[VERMILLION, REDDISH_PURPLE, BLUISH_GREEN]
        ),
    )  # fmt: skip
    layers: list[Any] = []
    blanks = [TITLE, DESCRIPTION, SESSIONS, SERIES]
    if shape.discordant:
        blanks.append(DISCORDANCE)
        layers.append(
            alt.Chart(named(DISCORDANCE))
            .mark_rule(strokeDash=[4, 3], strokeWidth=2, opacity=0.8)
            .encode(x=x, stroke=marker_colour)
        )  # fmt: skip
    layers.append(lines.mark_line(strokeWidth=2).encode(x=x, y=y, color=series_colour))
    layers.append(
        lines.mark_point(filled=True, size=60, opacity=1)
        .encode(x=x, y=y, color=series_colour, shape=series_shape)
    )  # fmt: skip
    if shape.marks:
        blanks.append(MARKS)
        layers.append(
            alt.Chart(named(MARKS))
            .mark_point(size=320, strokeWidth=2.5, filled=False, shape="diamond")
            .encode(x=x, y=y, stroke=marker_colour)
        )  # fmt: skip
    chart = layered(
        layers, height=HEIGHT, title=TITLE.stand_in, subtitle=CAVEAT,
        description=DESCRIPTION.stand_in,
    )  # fmt: skip
    return template(chart, blanks)


def _who(client: str, therapist: str) -> dict[str, str]:
    return {"client": f"Client ({client})", "therapist": f"Therapist ({therapist})"}


def _client_total(data: AllianceChartData, session: int | None) -> float | None:
    return next((p.total for p in data.client if p.session == session), None)


def _words(data: AllianceChartData, discordant: list[dict[str, Any]]) -> tuple[str, str]:
    view = data.concordance
    client, therapist = view.client_form, view.therapist_form
    s = view.summary
    title = (
        f"Alliance by session: client ({client.short_name}) and therapist "
        f"({therapist.short_name}), {len(discordant)} of {s.n} paired sessions discordant"
    )
    parts = [
        f"{client.short_name} (client) and {therapist.short_name} (therapist) totals by session.",
        "Client: " + _series(data.client) + ".",
        "Therapist: " + _series(data.therapist) + ".",
    ]
    if discordant:
        parts.append(
            "Discordant sessions: " + ", ".join(str(d["session"]) for d in discordant) + "."
        )
    if s.bias is not None:
        limits = (
            f" (95% limits of agreement {number(s.lower_limit)} to {number(s.upper_limit)})"
            if s.lower_limit is not None
            else ""
        )
        parts.append(
            f"Mean client minus therapist difference {signed(s.bias)}{limits}; expected "
            f"offset {signed(view.rule.expected_offset)}."
        )
    for r in data.ruptures:
        repaired = (
            f"repaired at session {r.repaired_at_session}"
            if r.status is RepairStatus.REPAIRED
            else r.status.value
        )
        parts.append(
            f"Rupture at session {r.session}: {number(r.score)} against a baseline of "
            f"{number(r.baseline)}, {repaired}."
        )
    parts.append(CAVEAT)
    return title, " ".join(parts)


def _series(points: Any) -> str:
    scored = [p for p in points if p.total is not None]
    if not scored:
        return "no scored session"
    return ", ".join(f"session {p.session} {number(p.total)}" for p in scored)
