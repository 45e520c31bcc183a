"""Migrations run up, down and up again on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service.store import migrate
from service.store.engine import create_engine
from service.store.schema import metadata


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return migrate.current_revision(connection)


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert _current(engine) is None
        migrate.upgrade(engine)
        assert _current(engine) == migrate.head_revision()
        migrate.downgrade(engine, "base")
        assert _current(engine) is None
        assert not set(inspect(engine).get_table_names()) - {"alembic_version"}
        migrate.upgrade(engine)
        assert _current(engine) == migrate.head_revision()
        migrate.upgrade(engine)  # idempotent: a second start changes nothing
        assert _current(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == [], f"models differ from migrations: {differences}"
    finally:
        engine.dispose()


def test_there_is_a_single_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1
