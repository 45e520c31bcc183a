"""Apply and inspect migrations programmatically (``rapport migrate``, ``/readyz``, tests).

The migration scripts ship inside the package, so every command works from any working
directory. On PostgreSQL an advisory lock serialises concurrent upgrades, so several
Rapport processes starting at once cannot race each other through the same revision.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

_PG_MIGRATION_LOCK = 0x52415050  # "RAPP"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "service.store:migrations")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migration revisions found")
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        _command(connection, "upgrade", revision)
        if connection.dialect.name == "sqlite":
            # Statistics for the query planner, refreshed at every start (`rapport serve`
            # migrates first). Bounded by PRAGMA analysis_limit (engine.py) whatever the
            # size of the file; PostgreSQL's autovacuum keeps its own.
            connection.exec_driver_sql("ANALYZE")


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        _command(connection, "downgrade", revision)


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _command(connection: Connection, name: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, name)(config, revision)
