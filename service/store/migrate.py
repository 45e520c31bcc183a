"""Apply and inspect migrations programmatically (``rapport migrate``, ``/readyz``, tests).

The migration environment lives in the top-level ``alembic/`` directory of the source tree.
A wheel installs it as data files under ``<prefix>/share/rapport/alembic`` (see
``[tool.setuptools.data-files]`` in pyproject.toml), so every command works from any working
directory, in a checkout and inside the image. A checkout's own ``alembic/`` wins, so a
revision being written is seen at once. On PostgreSQL an advisory lock serialises
concurrent upgrades, so several Rapport processes starting at once cannot race each other
through the same revision.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

_PG_MIGRATION_LOCK = 0x52415050  # "RAPP"


_INSTALLED = "share/rapport/alembic/env.py"  # where the wheel's data files put env.py


@lru_cache(maxsize=1)
def script_location() -> Path:
    """The directory holding env.py, script.py.mako and versions/.

    A source checkout (the package imported from next to a ``pyproject.toml``) uses its own
    ``alembic/``; an installed wheel uses the copy recorded in its RECORD, wherever the
    installation scheme put it (a venv, ``--user``, ``--prefix``).
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "alembic" / "env.py").is_file():
        return checkout / "alembic"
    try:
        files = metadata.distribution("rapport").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.as_posix().endswith(_INSTALLED):
            return Path(str(file.locate())).resolve().parent
    raise RuntimeError(  # pragma: no cover - a broken installation
        f"Rapport's migrations are missing: neither {checkout / 'alembic'} nor an installed "
        f"{_INSTALLED} exists; reinstall the package"
    )


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
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
        # Statistics for the query planner, refreshed at every start (`rapport serve`
        # migrates first). SQLite keeps none of its own; its ANALYZE is bounded by PRAGMA
        # analysis_limit (engine.py) whatever the size of the file. PostgreSQL's autovacuum
        # keeps them once it runs, but a restored dump or a bulk import has none until then
        # (or ever, where autovacuum is off), and without them the planner joined a
        # tenant-wide index to one dyad's rows: 8 ms per query at 300,000 administrations
        # instead of 0.1 ms. ANALYZE samples a fixed number of rows per table.
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
