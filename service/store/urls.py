"""Turn the plain database URL a clinic configures into the driver URL Rapport uses.

Operators write ``sqlite:///rapport.db`` or ``postgresql://user@host/db``; the driver is
Rapport's business (the standard library's sqlite3, psycopg 3), so a driver suffix in the
setting is accepted only when it names the driver Rapport would pick.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_ALIASES = {"postgres": "postgresql"}


def driver_url(plain: str) -> URL:
    try:
        url = make_url(plain)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {plain!r}") from exc
    backend = _ALIASES.get(url.get_backend_name(), url.get_backend_name())
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    driver = _DRIVERS[backend]
    if url.drivername not in (backend, driver, url.get_backend_name()):
        raise ValueError(f"unsupported driver {url.drivername!r}: write {backend}://...")
    return url.set(drivername=driver)


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    if not is_sqlite(url) or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
