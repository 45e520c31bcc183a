"""Charts over REST on SQLite and PostgreSQL: what they state, their formats, their errors.

The synthetic dyad (tests/charts_support.py): PHQ-9 from 21 down to about 6 with a risk
item at session 2; WAI-SR with a rupture at session 7 repaired at session 8; WAI-SR-T
discordant at sessions 4 and 7.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.charts_support import plan, seed_dyad
from tests.conftest import Api

SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def _audit(api: Api, tenant_name: str) -> list[Any]:
    def work(store: Any) -> list[Any]:
        tenant = store.tenant_by_name(tenant_name)
        return list(store.audit_events(tenant.id))

    return await api.services.transact(work)


def _words(svg: bytes) -> tuple[str, str]:
    """The SVG's <title> and <desc>, which must be the root's first two children."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return title.text or "", desc.text or ""


@pytest.fixture
async def world(api: Api) -> tuple[httpx.AsyncClient, str, str]:
    client = await api.client_for("clinic-a")
    dyad, practitioner = await seed_dyad(client, 12)
    return client, dyad, practitioner


async def test_progress_chart_states_the_series_bands_cutoff_and_alerts(
    api: Api, world: tuple[httpx.AsyncClient, str, str]
) -> None:
    client, dyad, _ = world
    response = await client.get(
        f"/v1/dyads/{dyad}/charts/progress.svg", params={"instrument": "phq-9"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "no-store"
    title, desc = _words(response.content)
    totals = [phq for _, phq, _, _ in plan(12)]
    assert title == f"PHQ-9 from {totals[0]} (session 1) to {totals[-1]} (session 12): recovered"
    for session, total in enumerate(totals, start=1):
        assert f"session {session} {total}," in desc or f"session {session} {total}." in desc
    assert "A change of 6 points from the first session is reliable." in desc
    assert "Clinical cut-off for the adult population: total >= 10." in desc
    assert "moderately-severe from 15" in desc
    assert "Alerts: risk at session 2." in desc
    # The chart is drawn, not only described: a line through every session.
    assert response.text.count('aria-roledescription="line mark"') >= 1
    events = [(e.action, e.outcome) for e in await _audit(api, "clinic-a")]
    assert ("progress.read", "success") in events
    assert ("alert.list", "success") in events


async def test_progress_chart_as_png_and_as_its_vega_lite_specification(
    world: tuple[httpx.AsyncClient, str, str],
) -> None:
    client, dyad, _ = world
    base, query = f"/v1/dyads/{dyad}/charts/progress", {"instrument": "phq-9"}
    png = await client.get(f"{base}.png", params=query)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_MAGIC)
    assert len(png.content) > 20_000  # a drawn chart, not an empty canvas
    spec = await client.get(f"{base}.vl.json", params=query)
    assert spec.status_code == 200
    body = spec.json()
    assert "vega-lite" in body["$schema"]
    drawn = [
        row
        for layer in body["layer"]
        for row in body["datasets"][layer["data"]["name"]]
        if "total" in row and "marker" in row
    ]
    progress = (await client.get(f"/v1/dyads/{dyad}/progress", params=query)).json()
    # The line and its points share one data set.
    assert list(dict.fromkeys((r["session"], r["total"]) for r in drawn)) == [
        (p["session"], p["total"]) for p in progress["points"]
    ]


async def test_alliance_chart_marks_discordance_ruptures_and_repairs(
    world: tuple[httpx.AsyncClient, str, str],
) -> None:
    client, dyad, _ = world
    response = await client.get(f"/v1/dyads/{dyad}/charts/alliance.svg")  # wai-sr by default
    assert response.status_code == 200, response.text
    title, desc = _words(response.content)
    concordance = (await client.get(f"/v1/dyads/{dyad}/concordance")).json()
    discordant = [s["session"] for s in concordance["sessions"] if s["discordant"]]
    assert discordant == [4, 7]
    assert title.endswith("2 of 12 paired sessions discordant")
    assert "Discordant sessions: 4, 7." in desc
    assert "Rupture at session 7: 26 against a baseline of" in desc
    assert "repaired at session 8." in desc
    assert "not a validated predictor of outcome" in desc
    png = await client.get(f"/v1/dyads/{dyad}/charts/alliance.png", params={"instrument": "wai-sr"})
    assert png.content.startswith(PNG_MAGIC)


async def test_calibration_chart_shows_each_dyad_with_its_interval(
    world: tuple[httpx.AsyncClient, str, str],
) -> None:
    client, _, practitioner = world
    response = await client.get(f"/v1/practitioners/{practitioner}/charts/calibration.svg")
    assert response.status_code == 200, response.text
    title, desc = _words(response.content)
    calibration = (await client.get(f"/v1/practitioners/{practitioner}/calibration")).json()
    wai = next(c for c in calibration["items"] if c["instrument"] == "wai-sr")
    [(dyad_id, mean)] = wai["per_dyad"].items()
    assert title == "Alliance calibration (WAI-SR): 1 dyad, 12 paired sessions"
    assert f"Dyad …{dyad_id[-8:]}: +{round(mean, 1):g} over 12 sessions (" in desc
    assert f"expected offset +{round(wai['expected_offset'], 1):g}" in desc


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("dyads/{dyad}/charts/progress.svg", {"instrument": "oq-45"}, 404, "instrument-not-found"),
        ("dyads/{dyad}/charts/progress.svg", {"instrument": "gad-7"}, 422, "validation-failed"),
        ("dyads/{dyad}/charts/progress.png", {}, 422, "validation-failed"),
        ("dyads/{dyad}/charts/alliance.svg", {"instrument": "phq-9"}, 422, "validation-failed"),
        ("dyads/{dyad}/charts/alliance.vl.json", {"instrument": "wai-sr-t"}, 422,
         "validation-failed"),
        ("dyads/{dyad}/charts/alliance.svg", {"instrument": "haq-ii"}, 422, "validation-failed"),
        ("practitioners/{practitioner}/charts/calibration.svg", {"instrument": "phq-9"}, 422,
         "validation-failed"),
        ("practitioners/{practitioner}/charts/calibration.png", {"instrument": "haq-ii"}, 422,
         "validation-failed"),
        ("dyads/{nobody}/charts/progress.svg", {"instrument": "phq-9"}, 404, "not-found"),
        ("practitioners/{nobody}/charts/calibration.svg", {}, 404, "not-found"),
    ],
)  # fmt: skip
async def test_charts_refuse_what_they_cannot_draw_with_a_problem(
    world: tuple[httpx.AsyncClient, str, str], path: str, query: dict[str, str], status: int,
    code: str,
) -> None:  # fmt: skip
    client, dyad, practitioner = world
    url = "/v1/" + path.format(
        dyad=dyad, practitioner=practitioner, nobody="0193a000-0000-7000-8000-000000000000"
    )
    response = await client.get(url, params=query)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_no_data_names_what_is_missing(world: tuple[httpx.AsyncClient, str, str]) -> None:
    client, dyad, _ = world
    response = await client.get(
        f"/v1/dyads/{dyad}/charts/progress.svg", params={"instrument": "gad-7"}
    )
    assert response.json()["errors"] == [
        {"code": "no-data", "detail": "the dyad has no scored GAD-7", "pointer": "/instrument"}
    ]
    haq = await client.get(f"/v1/dyads/{dyad}/charts/alliance.svg", params={"instrument": "haq-ii"})
    assert haq.json()["errors"][0]["code"] == "no-data"


async def test_another_tenant_cannot_draw_the_dyad(
    api: Api, world: tuple[httpx.AsyncClient, str, str]
) -> None:
    _, dyad, practitioner = world
    other = await api.client_for("clinic-b")
    for url in (
        f"/v1/dyads/{dyad}/charts/progress.svg?instrument=phq-9",
        f"/v1/dyads/{dyad}/charts/alliance.png",
        f"/v1/practitioners/{practitioner}/charts/calibration.vl.json",
    ):
        response = await other.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not-found"
