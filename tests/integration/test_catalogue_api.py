"""GET /v1/instruments and /v1/instruments/{id}: the catalogue as the contract names it."""

from __future__ import annotations

import httpx

from service.api.rest.schemas.instruments import InstrumentDetail

CONTRACT_IDS = {
    "phq-9", "phq-2", "gad-7", "gad-2", "core-10", "core-om", "ors", "srs", "wai-sr",
    "wai-sr-t", "haq-ii", "haq-ii-t", "k10", "who-5", "pcl-5", "dass-21",
}  # fmt: skip


async def test_the_catalogue_lists_all_sixteen_instruments(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/instruments")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert {i["id"] for i in body["items"]} >= CONTRACT_IDS


async def test_each_instrument_has_a_full_definition(client: httpx.AsyncClient) -> None:
    for instrument_id in CONTRACT_IDS:
        response = await client.get(f"/v1/instruments/{instrument_id}")
        assert response.status_code == 200, instrument_id
        detail = InstrumentDetail.model_validate(response.json())
        cited = {s.id for s in detail.sources}
        assert detail.licence_detail.source in cited
        for scale in detail.scales:
            assert scale.missing.source in cited
            assert all(c.source in cited for c in scale.cutoffs)
        if not detail.licence_detail.item_text_allowed:
            assert all(item.text is None for item in detail.items), instrument_id


async def test_paired_forms_are_listed(client: httpx.AsyncClient) -> None:
    items = {i["id"]: i for i in (await client.get("/v1/instruments")).json()["items"]}
    assert items["wai-sr"]["paired_form"] == "wai-sr-t"
    assert items["wai-sr-t"]["respondent"] == "therapist"
    assert items["haq-ii"]["paired_form"] == "haq-ii-t"


async def test_unknown_instrument_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/instruments/oq-45")
    assert response.status_code == 404
    assert response.json()["code"] == "instrument-not-found"
