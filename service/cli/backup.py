"""``rapport backup`` and ``rapport restore``: a consistent copy of a live SQLite database.

The copy uses SQLite's online backup API (``sqlite3.Connection.backup``) in one step: it reads
one snapshot, so a server may keep storing while it runs (the database is in WAL mode, where
a reader does not block writers) and every write committed before the backup began is in the
copy. The copy goes to a temporary file beside the output, is checked, and is renamed into
place only when complete.

A restore writes the backup into the database through SQLite too (the backup API again, into
a connection that holds the database's exclusive lock), so the write-ahead log and its index
stay consistent. "In use" means another connection has the database open: a running
``rapport serve`` holds one for as long as it runs. It is detected by taking SQLite's
exclusive lock without waiting (``PRAGMA locking_mode=EXCLUSIVE`` then ``BEGIN EXCLUSIVE``);
``--force`` restores anyway, after which a running server must be restarted.

PostgreSQL has its own tools for this (pg_dump, pg_restore); both commands refuse it.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from service.settings import Settings
from service.store import migrate
from service.store.urls import driver_url, sqlite_path

PG_BACKUP = (
    "use PostgreSQL's own tools: "
    'pg_dump --format=custom --file rapport.dump "$RAPPORT_DATABASE_URL" to back up, '
    'pg_restore --clean --if-exists --no-owner --dbname "$RAPPORT_DATABASE_URL" rapport.dump '
    "to restore (README.md, Backup and restore)"
)


class BackupError(Exception):
    """A refusal: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Copied:
    source: Path
    target: Path
    size: int
    revision: str | None


def add_commands(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    """Declare ``backup`` and ``restore`` through ``rapport``'s ``add_parser``."""
    saving = add_parser(
        "backup",
        help="copy the live SQLite database to a new file (consistent while it serves writes)",
        description="Copy the SQLite database of RAPPORT_DATABASE_URL to FILE with SQLite's "
        "online backup API: one consistent snapshot, taken while the server keeps serving. "
        f"FILE must not exist. On PostgreSQL it refuses: {PG_BACKUP}.",
    )
    saving.add_argument("--output", type=Path, required=True, metavar="FILE", help="new file")
    putting = add_parser(
        "restore",
        help="put a backup in place of the SQLite database; refuses while the database is in use",
        description="Replace the SQLite database of RAPPORT_DATABASE_URL with FILE (made by "
        "`rapport backup`). The database is in use when another connection has it open (a "
        "running `rapport serve` does): restore tries to take SQLite's exclusive lock without "
        "waiting and refuses if it cannot. Stop the server first, or pass --force and restart "
        f"it afterwards. On PostgreSQL it refuses: {PG_BACKUP}.",
    )
    putting.add_argument("file", type=Path, metavar="FILE", help="a file made by rapport backup")
    putting.add_argument(
        "--force", action="store_true", help="restore even while the database is in use"
    )


def run_backup(settings: Settings, args: argparse.Namespace) -> int:
    try:
        copied = backup(settings.database_url, args.output)
    except BackupError as exc:
        return _refuse(exc)
    print(
        f"Backed up {copied.source} to {copied.target} "
        f"({copied.size} bytes, schema revision {copied.revision})."
    )
    return 0


def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        copied = restore(settings.database_url, args.file, force=args.force)
    except BackupError as exc:
        return _refuse(exc)
    print(
        f"Restored {copied.source} into {copied.target} (schema revision {copied.revision}); "
        "`rapport migrate` or `rapport serve` brings it to this version's schema."
    )
    return 0


def _refuse(exc: BackupError) -> int:
    print(f"rapport: {exc}", file=sys.stderr)
    return 1


def backup(database_url: str, output: Path) -> Copied:
    """Copy the live database at ``database_url`` to ``output`` (which must not exist)."""
    source = _sqlite_file(database_url, "backup")
    if not source.is_file():
        raise BackupError(f"there is no database at {source} to back up")
    if output.exists():
        raise BackupError(f"{output} exists; choose a new file (a backup never overwrites one)")
    if not output.parent.is_dir():
        raise BackupError(f"the directory {output.parent} does not exist")
    output = output.resolve()
    partial = output.with_name(f".{output.name}.partial-{os.getpid()}")
    try:
        with (
            closing(_connect(f"{source.as_uri()}?mode=rw", timeout=30)) as reader,
            closing(_connect(partial.as_uri())) as copy,
        ):
            reader.backup(copy)  # one step: one consistent snapshot
            _check(copy, partial)
            revision = _revision(copy)
        _fsync(partial)
        os.replace(partial, output)
        _fsync(output.parent)
    finally:
        partial.unlink(missing_ok=True)
    return Copied(source, output, output.stat().st_size, revision)


def restore(database_url: str, backup_file: Path, *, force: bool) -> Copied:
    """Put ``backup_file`` in place of the database at ``database_url``."""
    target = _sqlite_file(database_url, "restore")
    if not backup_file.is_file():
        raise BackupError(f"there is no backup file {backup_file}")
    backup_file = backup_file.resolve()
    if backup_file == target:
        raise BackupError(f"{backup_file} is the database itself; name a backup file")
    with closing(_connect(f"{backup_file.as_uri()}?mode=ro", timeout=30)) as source:
        _check(source, backup_file)
        revision = _revision(source)
        if revision is None:
            raise BackupError(f"{backup_file} is not a Rapport database (no schema revision)")
        _known(revision, backup_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(_connect(target.as_uri(), timeout=30 if force else 0)) as into:
            if not force:
                _lock_exclusively(into, target)
            source.backup(into)
            _check(into, target)
    return Copied(backup_file, target, target.stat().st_size, revision)


def _sqlite_file(database_url: str, command: str) -> Path:
    url = driver_url(database_url)
    if url.get_backend_name() == "postgresql":
        raise BackupError(
            f"rapport {command} works on SQLite databases only; on PostgreSQL {PG_BACKUP}"
        )
    path = sqlite_path(url)
    if path is None:
        raise BackupError(f"an in-memory database cannot be {command}d")
    return path.resolve()


def _lock_exclusively(connection: sqlite3.Connection, target: Path) -> None:
    """Hold the database's exclusive lock until ``connection`` closes, or refuse."""
    try:
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("COMMIT")  # the lock stays: exclusive locking mode keeps it
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(
                f"the database {target} is in use (another connection has it open, such as a "
                "running `rapport serve`): stop it and try again, or pass --force to restore "
                "anyway and then restart the server"
            ) from exc
        raise BackupError(f"cannot restore over {target}: {exc}") from exc


def _check(connection: sqlite3.Connection, path: Path) -> None:
    try:
        (verdict,) = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database: {exc}") from exc
    if verdict != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {verdict}")


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _known(revision: str, backup_file: Path) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    try:
        found = scripts.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise BackupError(
            f"{backup_file} is at schema revision {revision}, which this version of Rapport "
            "does not know (a backup from a newer version?); restore it with that version"
        )


def _connect(target: str, timeout: float = 5) -> sqlite3.Connection:
    """A connection in autocommit mode; ``target`` is a path or a ``file:`` URI."""
    return sqlite3.connect(target, timeout=timeout, uri=True, isolation_level=None)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
