"""Migrations run up, down and up again on SQLite and PostgreSQL."""

from __future__ import annotations

from service.store import migrate
from service.store.engine import create_engine


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        await migrate.downgrade(engine, "base")
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        await migrate.upgrade(engine)  # idempotent: a second start changes nothing
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


def test_there_is_a_single_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1
