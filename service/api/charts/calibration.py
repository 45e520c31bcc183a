"""The calibration chart: each of a practitioner's dyads, the mean client-minus-therapist
difference with its 95 % interval, against zero and the expected client-over-therapist
offset. Dyads are labelled by the last characters of their id (the random part of a UUIDv7; the
first ones are a timestamp): no patient identifier.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt

from service.api.charts.spec import (
    BLACK,
    BLUE,
    GREY,
    VERMILLION,
    Chart,
    Datasets,
    layered,
    number,
    signed,
)
from service.app.charts import CalibrationChartData

Z = 1.96
CAVEAT = "Descriptive: discordance is not a validated predictor of outcome."


def calibration_chart(data: CalibrationChartData) -> Chart:
    datasets = Datasets()
    c = data.calibration
    rows: list[dict[str, Any]] = []
    for dyad_id, mean in sorted(c.per_dyad.items(), key=lambda item: item[1]):
        n, sd = c.per_dyad_spread.get(dyad_id, (1, None))
        half = Z * sd / math.sqrt(n) if sd is not None and n >= 2 else None
        rows.append({
            "dyad": f"Dyad …{str(dyad_id)[-8:]}", "mean": mean, "n": n,
            "low": None if half is None else mean - half,
            "high": None if half is None else mean + half,
        })  # fmt: skip
    spans: list[float] = [
        v for r in rows for v in (r["low"], r["high"], r["mean"]) if v is not None
    ]
    spans += [0.0, c.expected_offset]
    edge = max(abs(min(spans)), abs(max(spans))) + 1
    x_scale = alt.Scale(domain=[-edge, edge], nice=True)
    x_title = f"Client minus therapist {data.client_form.short_name} total (mean, 95% interval)"
    y = alt.Y("dyad:N", title=None, sort=None)
    base = alt.Chart(datasets.add(rows))
    expected = f"Expected offset {signed(c.expected_offset)}"
    references = alt.Chart(
        datasets.add(
            [{"at": 0.0, "what": "No difference"}, {"at": c.expected_offset, "what": expected}]
        )
    )
    reference_colour = alt.Stroke(
        "what:N", title=None,
        scale=alt.Scale(domain=["No difference", expected], range=[GREY, VERMILLION]),
    )  # fmt: skip
    layers: list[Any] = [
        references.mark_rule(strokeWidth=1.5, strokeDash=[5, 3]).encode(
            x=alt.X("at:Q", scale=x_scale, title=x_title), stroke=reference_colour
        ),
        base.mark_rule(color=BLUE, strokeWidth=2).encode(
            x=alt.X("low:Q", scale=x_scale), x2=alt.X2("high:Q"), y=y
        ),
        base.mark_point(filled=True, color=BLACK, size=70, opacity=1).encode(
            x=alt.X("mean:Q", scale=x_scale), y=y
        ),
    ]
    title, description = _words(data, rows)
    height = max(60, 28 * len(rows))
    chart = layered(layers, height=height, title=title, subtitle=CAVEAT, description=description)
    return Chart(datasets.specification(chart), title, description)


def _words(data: CalibrationChartData, rows: list[dict[str, Any]]) -> tuple[str, str]:
    c = data.calibration
    name = data.client_form.short_name
    dyads = "1 dyad" if c.dyads == 1 else f"{c.dyads} dyads"
    title = f"Alliance calibration ({name}): {dyads}, {c.pairs} paired sessions"
    parts = [
        f"Mean client minus therapist {name} total per dyad, with a 95% interval where the "
        "dyad has two or more paired sessions."
    ]
    parts += [
        f"{r['dyad']}: {signed(r['mean'])} over {r['n']} sessions"
        + (f" ({number(r['low'])} to {number(r['high'])})" if r["low"] is not None else "")
        + "."
        for r in rows
    ]
    if c.bias is not None:
        parts.append(
            f"Across all dyads: {signed(c.bias)}; expected offset {signed(c.expected_offset)}."
        )
    if c.tendency is not None:
        parts.append(f"Tendency: {c.tendency.replace('-', ' ')}.")
    return title, " ".join(parts)
