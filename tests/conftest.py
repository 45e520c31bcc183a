"""Fixtures shared by every tier: databases on both engines and an in-process API client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from service.api.app import create_app
from service.app.auth import issue_api_key
from service.bootstrap import Services
from service.domain.records import Scope
from service.settings import Settings
from service.store import migrate
from service.store.engine import create_engine

POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: set RAPPORT_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("RAPPORT_TEST_POSTGRES_URL is not set")
    name = f"rapport_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(statement: str) -> None:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(statement.encode())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each engine: a temporary SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rapport.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rapport.db'}"


def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@dataclass
class Api:
    """An in-process Rapport over a migrated database, and a way to mint API keys."""

    http: httpx.AsyncClient
    services: Services

    async def token(self, tenant: str, *scopes: Scope) -> str:
        chosen = frozenset(scopes) if scopes else frozenset(Scope)
        return await issue_api_key(self.services.transact, tenant, chosen)

    async def client_for(self, tenant: str, *scopes: Scope) -> httpx.AsyncClient:
        token = await self.token(tenant, *scopes)
        return httpx.AsyncClient(
            transport=self.http._transport,
            base_url=str(self.http.base_url),
            headers={"Authorization": f"Bearer {token}"},
        )


@asynccontextmanager
async def running_api(url: str, **settings: Any) -> AsyncIterator[Api]:
    migrated(url)
    app = create_app(Settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rapport.test") as c:
            yield Api(c, app.state.services)


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """Rapport in-process on each engine (SQLite, and PostgreSQL when configured)."""
    async with running_api(database_url) as running:
        yield running


@pytest.fixture
async def client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of tenant 'clinic-a' with read and write scopes, on SQLite."""
    async with running_api(sqlite_url) as running, await running.client_for("clinic-a") as c:
        yield c
