"""Statements for the hot path, compiled once and run on the driver's own cursor.

Running a Core statement through ``Connection.execute`` costs 30-270 us of Python per
statement (execution context, cache key, parameter processing, result proxy) against
5-10 us for the driver itself, and storing one administration runs about eight of them
(bench/README.md). ``Prepared`` keeps everything that makes Core statements safe: the SQL
is still built from the table definitions (and tenant reads still through ``owned``),
compiled by the connection's own dialect, and every value still goes through the column
type's own bind and result processors, so a row written here is byte-identical to one
written through ``Connection.execute``. Only the per-call machinery is skipped.

Statements run through ``Connection._cursor_execute``, SQLAlchemy's own entry point for a
raw statement on a cursor: cursor events, ``echo`` logging and error handling (driver errors
become ``IntegrityError``, ``OperationalError``... and a lost connection is invalidated) are
the same as for ``Connection.execute``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, Select, Update
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


@dataclass(slots=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[tuple[str, Processor], ...]  # parameter name and its bind processor
    # The selected columns that have a result processor, by position; known after the first
    # fetch, since a processor may depend on the type the driver reports (PostgreSQL numerics).
    results: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None


class Prepared:
    """One Core statement, compiled once per dialect, executed on the DBAPI cursor."""

    __slots__ = ("_compiled", "_statement")

    def __init__(self, statement: Select[Any] | Insert | Update) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rowcount(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run a write in the connection's open transaction; how many rows it changed."""
        cursor = self._execute(self._for(connection.dialect), connection, params)
        count: int = cursor.rowcount
        cursor.close()
        return count

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query; every row, each value through its column type's result processor."""
        dialect = connection.dialect
        compiled = self._for(dialect)
        cursor = self._execute(compiled, connection, params)
        raw: Sequence[Sequence[Any]] = cursor.fetchall()
        active = compiled.results
        if active is None:
            assert isinstance(self._statement, Select), "only a SELECT has rows"
            processors = (
                column.type.dialect_impl(dialect).result_processor(dialect, description[1])
                for column, description in zip(
                    self._statement.selected_columns, cursor.description, strict=True
                )
            )
            active = compiled.results = tuple(
                (i, process) for i, process in enumerate(processors) if process is not None
            )
        cursor.close()
        if not active or not raw:
            return [tuple(row) for row in raw]
        # Column by column: ``map`` runs each processor without a Python loop per value
        # (processors take None themselves, as they do inside Core).
        columns: list[Iterable[Any]] = list(zip(*raw, strict=True))
        for i, process in active:
            columns[i] = map(process, columns[i])
        return list(zip(*columns, strict=True))

    def _execute(
        self, compiled: _Compiled, connection: Connection, params: Mapping[str, Any]
    ) -> Any:
        if compiled.positional:
            bound: Any = tuple(
                params[name] if process is None else process(params[name])
                for name, process in compiled.binds
            )
        else:
            bound = {
                name: params[name] if process is None else process(params[name])
                for name, process in compiled.binds
            }
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None, "the connection is closed"
        cursor = dbapi.cursor()
        # The one place SQLAlchemy runs a raw statement on a cursor: cursor events fire
        # (instrumentation and the statement-counting tests see these statements), ``echo``
        # logs them, and a driver error is wrapped and, on a lost connection, invalidates it,
        # exactly as in ``Connection.execute``. tests/integration/test_prepared.py pins this.
        connection._cursor_execute(cursor, compiled.sql, bound)
        return cursor

    # Compiled on first use per dialect. Worker threads (PostgreSQL) may race to compile the
    # same statement; they compute equal values and the last assignment wins, harmlessly.
    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        return found if found is not None else self._compile(dialect)

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect)
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        assert names is not None
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        )
        prepared = _Compiled(compiled.string, compiled.positional, binds)
        self._compiled[dialect.name] = prepared
        return prepared


def write_together(
    connection: Connection, writes: Sequence[tuple[Prepared, Mapping[str, Any]]]
) -> None:
    """Run writes whose results nobody reads, in order. On PostgreSQL they are one statement
    (each write a data-modifying ``WITH`` of it: one round trip, one statement for psycopg
    and the server to process, atomic by itself; foreign keys are checked at its end, so a
    row may refer to one inserted beside it). Each write must touch rows of its own: the
    parts of one statement see the same snapshot, not each other's changes. Elsewhere they
    run one after the other. A failure raises what ``Connection.execute`` would
    (IntegrityError...)."""
    if len(writes) == 1 or connection.dialect.name != "postgresql":
        for prepared, params in writes:
            prepared.rowcount(connection, params)
        return
    sql, binds = _combined(tuple(prepared for prepared, _ in writes), connection.dialect)
    bound = tuple(
        params[name] if process is None else process(params[name])
        for part, (_, params) in zip(binds, writes, strict=True)
        for name, process in part
    )
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    connection._cursor_execute(cursor, sql, bound)
    cursor.close()


_NAMED = re.compile(r"%\(([^)]+)\)s")  # psycopg's named placeholder, as SQLAlchemy writes it


@functools.lru_cache(maxsize=256)
def _combined(
    parts: tuple[Prepared, ...], dialect: Dialect
) -> tuple[str, tuple[tuple[tuple[str, Processor], ...], ...]]:
    """``WITH w0 AS (first), w1 AS (second) ... last`` with positional placeholders, and
    for each part the parameter name and bind processor of its placeholders in order."""
    sqls, binds = [], []
    for prepared in parts:
        compiled = prepared._for(dialect)
        assert not compiled.positional, "combined from psycopg's named placeholders"
        processors = dict(compiled.binds)
        sqls.append(_NAMED.sub("%s", compiled.sql))
        binds.append(tuple((name, processors[name]) for name in _NAMED.findall(compiled.sql)))
    head = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(sqls[:-1]))
    return f"WITH {head} {sqls[-1]}", tuple(binds)
