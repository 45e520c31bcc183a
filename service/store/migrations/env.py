"""Alembic environment: batch mode for SQLite, one connection handed in by Rapport.

Rapport runs migrations through ``service.store.migrate`` which passes an open connection in
``config.attributes["connection"]``; the plain ``alembic`` command (for writing new
revisions) falls back to ``RAPPORT_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from service.settings import get_settings
from service.store.engine import create_engine
from service.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = create_engine(get_settings().database_url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (SQL script) migrations are not supported")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_with_own_engine())


main()
