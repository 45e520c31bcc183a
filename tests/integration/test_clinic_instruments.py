"""A clinic's own instrument, added with a definition file and no code, served over REST."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from service.api.app import create_app
from service.app.auth import issue_api_key
from service.settings import Settings
from tests.conftest import migrated

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "clinic-oq-like.toml"


async def test_a_definition_directory_adds_an_instrument(tmp_path: Path) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    shutil.copy(FIXTURE, definitions / "cdf-6.toml")
    url = f"sqlite:///{tmp_path / 'rapport.db'}"
    migrated(url)
    app = create_app(Settings(database_url=url, instruments_dirs=str(definitions)))
    async with app.router.lifespan_context(app):
        token = await issue_api_key(app.state.services.transact, "clinic", frozenset())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"Authorization": f"Bearer {token}"}
        ) as client:
            listed = (await client.get("/v1/instruments")).json()["items"]
            assert "clinic-distress-6" in {i["id"] for i in listed}
            scored = await client.post(
                "/v1/instruments/clinic-distress-6/score",
                json={"responses": {"1": 2, "2": 2, "3": 1, "4": 2, "5": 1, "6": 3}},
            )
            assert scored.status_code == 200
            assert scored.json()["total"] == 13  # item 3 reverse-keyed: 1 counts 3
            assert [f["code"] for f in scored.json()["flags"]] == ["risk"]
