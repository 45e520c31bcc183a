"""Alembic environment: batch mode for SQLite, one connection handed in by Rapport.

Rapport runs migrations through ``service.store.migrate``, which passes an open connection
in ``config.attributes["connection"]``; the plain ``alembic`` command (for writing new
revisions) falls back to ``RAPPORT_DATABASE_URL``.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from service.settings import get_settings
from service.store.engine import create_engine
from service.store.schema import metadata
from service.store.types import UtcDateTime

config = context.config


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Render Rapport's column types as plain SQLAlchemy types: migrations must not import
    application code that may change after they are written."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (SQL script) migrations are not supported")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(get_settings().database_url)
    with engine.begin() as own:
        _run(own)
    engine.dispose()


main()
