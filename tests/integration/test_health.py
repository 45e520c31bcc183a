"""/healthz answers while the process lives; /readyz only once the schema is at head."""

from __future__ import annotations

import httpx

from service.api.app import create_app
from service.settings import Settings
from tests.conftest import migrated


async def _get(url: str, path: str) -> httpx.Response:
    app = create_app(Settings(database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)


async def test_liveness(sqlite_url: str) -> None:
    response = await _get(sqlite_url, "/healthz")
    assert response.json() == {"status": "ok"}


async def test_not_ready_until_migrated(database_url: str) -> None:
    before = await _get(database_url, "/readyz")
    assert before.status_code == 503
    assert before.json()["code"] == "migrations-pending"
    migrated(database_url)
    after = await _get(database_url, "/readyz")
    assert after.status_code == 200
    assert after.json()["status"] == "ready"


async def test_not_ready_when_the_database_is_unreachable() -> None:
    response = await _get("postgresql://nobody@127.0.0.1:1/none", "/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "database-unavailable"
