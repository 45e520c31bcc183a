"""The chart builders' Vega-Lite specifications are valid (altair's own validation is off
for speed: service.api.charts.spec), and the drawing cache redraws only for new data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from altair.vegalite.v6.schema.core import load_schema

from service.api.charts.alliance import alliance_chart
from service.api.charts.cache import DrawingCache, chart_key
from service.api.charts.calibration import calibration_chart
from service.api.charts.progress import progress_chart
from service.api.charts.spec import Chart
from service.app.charts import AllianceChartData, CalibrationChartData, ProgressChartData
from service.app.insights import Calibration, ConcordanceView, ProgressView
from service.app.rules import ClinicalRules
from service.domain.alerts import Alert, AlertKind, AlertStatus, Severity
from service.domain.concordance import Rated, agreement, pair_sessions
from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import Population
from service.domain.progress import Observation, progress
from service.domain.ruptures import ruptures

CATALOGUE = load_catalogue(())
SCHEMA = load_schema()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
TENANT = uuid.uuid4()


def _observations(totals: list[float]) -> list[Observation]:
    return [Observation(uuid.uuid4(), s, NOW, t) for s, t in enumerate(totals, start=1)]


def progress_data(totals: list[float], instrument: str = "phq-9") -> ProgressChartData:
    d = CATALOGUE.get(instrument)
    series = _observations(totals)
    view = ProgressView(uuid.uuid4(), Population.ADULT, progress(d, series), None)
    risk = Alert(
        uuid.uuid4(), TENANT, view.dyad_id, AlertKind.RISK, Severity.HIGH, AlertStatus.OPEN,
        "phq-9:item-9", {"session": 2, "administration_id": str(series[1].administration_id)},
        NOW,
    )  # fmt: skip
    return ProgressChartData(d, view, (risk,))


def alliance_data(client: list[float], therapist: list[float]) -> AllianceChartData:
    c, t = CATALOGUE.get("wai-sr"), CATALOGUE.get("wai-sr-t")
    rules = ClinicalRules()
    rule = rules.discordance(c)
    assert rule is not None
    mine, theirs = _observations(client), _observations(therapist)
    pairs = pair_sessions(
        [Rated(o, {}) for o in mine], [Rated(o, {}) for o in theirs], rule, c.total_scale
    )
    view = ConcordanceView(
        uuid.uuid4(), c, t, rule, pairs,
        agreement([(p.session, p.client, p.therapist) for p in pairs]), {},
    )  # fmt: skip
    found = ruptures(mine, c.direction, rules.alerting(c)[0].rupture)
    return AllianceChartData(
        view, progress(c, mine).points, progress(t, theirs).points, tuple(found)
    )


def calibration_data() -> CalibrationChartData:
    dyads = [uuid.uuid4() for _ in range(3)]
    calibration = Calibration(
        "wai-sr", "wai-sr-t", 3, 12, 4.1, 3.0, 5.3, None,
        {dyads[0]: 4.0, dyads[1]: -1.5, dyads[2]: 9.0},
        {dyads[0]: (5, 2.0), dyads[1]: (6, 3.5), dyads[2]: (1, None)},
    )  # fmt: skip
    return CalibrationChartData(uuid.uuid4(), CATALOGUE.get("wai-sr"), calibration)


CLIENT = [40, 42, 41, 43, 44, 26, 45, 47, 48, 48]
THERAPIST = [36, 37, 38, 26, 39, 40, 40, 41, 44, 45]


@pytest.mark.parametrize(
    "spec",
    [
        progress_chart(progress_data([21, 19, 20, 16, 14, 12, 11, 9, 8, 7])).spec,
        progress_chart(progress_data([30, 28, 25], instrument="who-5")).spec,
        progress_chart(progress_data([20, 22], instrument="k10")).spec,  # no RC constants
        alliance_chart(alliance_data(CLIENT, THERAPIST)).spec,
        calibration_chart(calibration_data()).spec,
    ],
    ids=["phq-9", "who-5", "k10", "alliance", "calibration"],
)
def test_every_specification_is_valid_vega_lite(spec: dict[str, Any]) -> None:
    jsonschema.validate(spec, SCHEMA)


def test_the_alliance_chart_finds_the_rupture_and_its_repair() -> None:
    chart = alliance_chart(alliance_data(CLIENT, THERAPIST))
    assert "Discordant sessions: 4, 6." in chart.description
    assert "Rupture at session 6: 26 against a baseline of 42.7, repaired at session 7." in (
        chart.description
    )


def test_the_cache_redraws_only_when_the_drawing_changes() -> None:
    cache = DrawingCache(size=2)
    drawn: list[str] = []

    def draw(chart: Chart) -> str:
        drawn.append("x")
        return chart.title

    first = progress_chart(progress_data([21, 15, 9]))
    changed = progress_chart(progress_data([21, 15, 8]))
    for chart in (first, first, changed, first):
        cache.drawn(chart_key(TENANT, "svg", chart), lambda chart=chart: draw(chart))
    assert len(drawn) == 2  # the first chart once, the changed one once
    assert chart_key(TENANT, "svg", first) != chart_key(uuid.uuid4(), "svg", first)
    assert chart_key(TENANT, "svg", first) != chart_key(TENANT, "png", first)


def test_the_cache_keeps_a_bounded_number_of_drawings() -> None:
    cache = DrawingCache(size=2)
    for n in range(5):
        cache.drawn(str(n), lambda n=n: f"drawing {n}")
    assert len(cache) == 2
    assert cache.drawn("4", lambda: "redrawn") == "drawing 4"
    assert cache.drawn("0", lambda: "redrawn") == "redrawn"


def test_the_alliance_key_changes_with_the_therapist_series() -> None:
    a = alliance_chart(alliance_data(CLIENT, THERAPIST))
    b = alliance_chart(alliance_data(CLIENT, [*THERAPIST[:-1], 30]))
    assert chart_key(TENANT, "svg", a) != chart_key(TENANT, "svg", b)


def test_view_link_tokens_never_reach_the_access_log() -> None:
    import logging

    from service.api.page.access_log import HIDE_VIEW_TOKENS

    token = "0193a000-0000-7000-8000-000000000000..eJxVyrERwzAI.FGgi2jyEJ"
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/view/{token}", "1.1", 200), None,
    )  # fmt: skip
    assert HIDE_VIEW_TOKENS.filter(record)
    line = record.getMessage()
    assert token not in line
    assert "GET /view/[link] HTTP/1.1" in line
    css = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s", ("/view/page.css",), None
    )
    HIDE_VIEW_TOKENS.filter(css)
    assert css.getMessage() == "/view/page.css"
