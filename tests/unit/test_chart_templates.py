"""Charts built once per shape (service/api/charts/template.py) draw what they serve: for
every shape, the Vega filled per drawing is the compilation of the Vega-Lite specification
an EHR downloads, and the SVG drawn from it is the SVG of that specification."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import vl_convert

from service.api.charts import template as template_module
from service.api.charts.alliance import alliance_chart
from service.api.charts.progress import progress_chart
from service.api.charts.render import to_svg
from service.api.charts.spec import Chart
from service.api.charts.template import Template, rows, span, text
from service.app.charts import ProgressChartData
from service.app.insights import ProgressView
from service.domain.alerts import Alert, AlertKind, AlertStatus, Severity
from service.domain.instruments.model import Population
from service.domain.progress import Observation, progress
from tests.unit.test_chart_specs import CATALOGUE, CLIENT, THERAPIST, alliance_data

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _progress(
    instrument: str, sessions: int, *, alerts: bool = True,
    population: Population = Population.ADULT,
) -> ProgressChartData:  # fmt: skip
    """A series over the whole range of the instrument's total, with a risk alert."""
    d = CATALOGUE.get(instrument)
    low, high = d.scale_range(d.total)
    totals = [high - (high - low) * (0.1 + 0.8 * math.sin(s) ** 2) for s in range(sessions)]
    series = [Observation(uuid.uuid4(), s, NOW, t) for s, t in enumerate(totals, start=1)]
    view = ProgressView(uuid.uuid4(), population, progress(d, series, population), None)
    raised = (
        Alert(
            uuid.uuid4(), uuid.uuid4(), view.dyad_id, AlertKind.DETERIORATION, Severity.MEDIUM,
            AlertStatus.OPEN, "x", {"session": sessions, "instrument": instrument}, NOW,
        ),
    )  # fmt: skip
    return ProgressChartData(d, view, raised if alerts else ())


def _charts() -> list[tuple[str, Chart]]:
    charts = [(f"{d.id}-12", progress_chart(_progress(d.id, 12))) for d in CATALOGUE]
    charts += [
        (f"phq-9-{n}-alerts-{a}", progress_chart(_progress("phq-9", n, alerts=a)))
        for n in (1, 2, 100)
        for a in (True, False)
    ]
    charts.append(
        (
            "core-10-adolescent",
            progress_chart(_progress("core-10", 6, population=Population.ADOLESCENT)),
        )
    )
    long_client = [40 + (s * 7) % 13 for s in range(100)]
    charts += [
        ("alliance-10", alliance_chart(alliance_data(CLIENT, THERAPIST))),
        ("alliance-100", alliance_chart(alliance_data(long_client, [c - 3 for c in long_client]))),
        ("alliance-1", alliance_chart(alliance_data([40], [38]))),
        ("alliance-agreeing", alliance_chart(alliance_data([40, 41, 42], [39, 40, 41]))),
    ]
    return charts


CHARTS = _charts()


@pytest.mark.parametrize(("name", "chart"), CHARTS, ids=[name for name, _ in CHARTS])
def test_the_filled_vega_is_the_compilation_of_the_served_specification(
    name: str, chart: Chart
) -> None:
    assert chart.vega is not None, "every progress and alliance shape is drawn from its Vega"
    assert chart.vega == vl_convert.vegalite_to_vega(chart.spec)


@pytest.mark.parametrize("name", ["phq-9-100-alerts-True", "alliance-100"])
def test_the_drawing_is_the_drawing_of_the_served_specification(name: str) -> None:
    chart = dict(CHARTS)[name]
    served = Chart(chart.spec, chart.title, chart.description)  # no Vega: compiled anew
    assert to_svg(chart) == to_svg(served)


def test_charts_of_one_shape_share_a_template_and_keep_their_own_values() -> None:
    first, second = progress_chart(_progress("gad-7", 5)), progress_chart(_progress("gad-7", 9))
    assert first.vega is not None
    assert second.vega is not None
    assert first.spec["title"]["text"] == first.title != second.title
    assert first.vega["title"]["text"] == first.title
    assert [s["domain"] for s in first.vega["scales"] if s["name"] == "x"] == [[0.5, 5.5]]
    assert len(second.spec["datasets"]["points"]) == 9


def _spec(title: Any, domain: Any, values: Any) -> dict[str, Any]:
    return {
        "title": title,
        "datasets": {"points": values},
        "data": {"name": "points"},
        "mark": "point",
        "encoding": {
            "x": {"field": "session", "type": "quantitative", "scale": {"domain": domain}},
            "y": {"field": "total", "type": "quantitative"},
        },
    }


def test_a_template_fills_every_place_of_each_blank() -> None:
    title, sessions, points = text("t"), span("s"), rows("points")
    made = Template(
        _spec(title.stand_in, sessions.stand_in, points.stand_in), [title, sessions, points]
    )
    data = [{"session": 1, "total": 3}, {"session": 2, "total": 5}]
    spec, vega = made.filled({"t": "Scores", "s": [0.5, 2.5], "points": data})
    assert spec == _spec("Scores", [0.5, 2.5], data)
    assert vega == vl_convert.vegalite_to_vega(spec)


def test_a_stand_in_folded_into_a_longer_value_leaves_the_template_without_vega(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    title, points = text("t"), rows("points")
    compile_ = vl_convert.vegalite_to_vega

    def folding(spec: dict[str, Any]) -> dict[str, Any]:
        vega: dict[str, Any] = compile_(spec)
        vega["signals"] = [{"name": "said", "value": f"About {title.stand_in}"}]
        return vega

    monkeypatch.setattr(template_module.vl_convert, "vegalite_to_vega", folding)
    made = Template(_spec(title.stand_in, [0.5, 1.5], points.stand_in), [title, points])
    assert not made.compiled
    spec, vega = made.filled({"t": "Scores", "points": [{"session": 1, "total": 3}]})
    assert vega is None
    assert spec["title"] == "Scores"


def test_a_template_refuses_a_specification_that_hides_a_stand_in_in_a_text() -> None:
    title = text("t")
    with pytest.raises(ValueError, match="stand-in"):
        Template(_spec(f"About {title.stand_in}", [0.5, 1.5], []), [title])


def test_filling_needs_a_value_for_every_blank_and_no_other() -> None:
    title, points = text("t"), rows("points")
    made = Template(_spec(title.stand_in, [0.5, 1.5], points.stand_in), [title, points])
    with pytest.raises(ValueError, match="blanks"):
        made.filled({"t": "Scores"})
    with pytest.raises(ValueError, match="blanks"):
        made.filled({"t": "Scores", "points": [], "other": 1})
