"""The alliance chart: the client's and the therapist's totals of a paired form on one
axis by session, discordant sessions marked, ruptures and their repairs marked.

Discordance is descriptive, not a validated predictor of outcome (docs/clinical-rules.md);
the subtitle says so wherever the chart goes.
"""

from __future__ import annotations

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
    Datasets,
    layered,
    number,
    signed,
)
from service.app.charts import AllianceChartData
from service.domain.ruptures import RepairStatus

DISCORDANT, RUPTURE, REPAIR = "Discordant session", "Rupture (client)", "Repair (client)"
CAVEAT = "Discordance is descriptive: it is not a validated predictor of outcome."


def alliance_chart(data: AllianceChartData) -> Chart:
    datasets = Datasets()
    view = data.concordance
    client, therapist = view.client_form, view.therapist_form
    low, high = client.scale_range(client.total)
    who = {
        "client": f"Client ({client.short_name})",
        "therapist": f"Therapist ({therapist.short_name})",
    }
    rows: list[dict[str, Any]] = [
        {"session": p.session, "total": p.total, "who": who[side]}
        for side, points in (("client", data.client), ("therapist", data.therapist))
        for p in points
        if p.total is not None
    ]
    sessions: list[int] = [r["session"] for r in rows] or [1]
    x = alt.X(
        "session:Q", title="Session",
        scale=alt.Scale(domain=[min(sessions) - 0.5, max(sessions) + 0.5], nice=False),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )  # fmt: skip
    y = alt.Y("total:Q", title=f"{client.short_name} total", scale=alt.Scale(domain=[low, high]))
    lines = alt.Chart(datasets.add(rows))
    series_colour = alt.Color(
        "who:N", title=None,
        scale=alt.Scale(domain=list(who.values()), range=[BLUE, ORANGE]),
    )  # fmt: skip
    series_shape = alt.Shape(
        "who:N", title=None, scale=alt.Scale(domain=list(who.values()), range=["circle", "square"])
    )
    layers: list[Any] = []
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
    marker_domain = [DISCORDANT, RUPTURE, REPAIR]
    marker_colour = alt.Stroke(
        "marker:N", title=None,
        scale=alt.Scale(domain=marker_domain, range=[VERMILLION, REDDISH_PURPLE, BLUISH_GREEN]),
    )  # fmt: skip
    if discordant:
        layers.append(
            alt.Chart(datasets.add(discordant))
            .mark_rule(strokeDash=[4, 3], strokeWidth=2, opacity=0.8)
            .encode(x=x, stroke=marker_colour)
        )  # fmt: skip
    layers.append(lines.mark_line(strokeWidth=2).encode(x=x, y=y, color=series_colour))
    layers.append(
        lines.mark_point(filled=True, size=60, opacity=1)
        .encode(x=x, y=y, color=series_colour, shape=series_shape)
    )  # fmt: skip
    if marks:
        layers.append(
            alt.Chart(datasets.add(marks))
            .mark_point(size=320, strokeWidth=2.5, filled=False, shape="diamond")
            .encode(x=x, y=y, stroke=marker_colour)
        )  # fmt: skip
    title, description = _words(data, discordant)
    chart = layered(layers, height=HEIGHT, title=title, subtitle=CAVEAT, description=description)
    return Chart(datasets.specification(chart), title, description)


def alliance_parts(data: AllianceChartData) -> tuple[object, ...]:
    """Everything the chart shows depends on (service.api.charts.cache)."""
    v = data.concordance
    return (
        "alliance", v.client_form.id, v.client_form.version, v.therapist_form.version,
        v.dyad_id, v.rule, v.sessions, v.summary, data.client, data.therapist, data.ruptures,
    )  # fmt: skip


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
