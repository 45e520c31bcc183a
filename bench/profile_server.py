"""``rapport serve`` under cProfile, for finding where a benchmark's time goes.

Serves ``create_app`` with the settings ``rapport serve`` uses (uvloop, httptools, no access
log), from the ``RAPPORT_*`` environment, with one ``cProfile.Profile`` on the event-loop
thread and one on the database side: the SQLite commit thread (``SqliteDatabase._committer``;
SQLite's statements run on the event loop, in the loop's profile),
or every PostgreSQL transaction on its worker thread (``PostgresDatabase._transaction``).
When the server stops (SIGINT or SIGTERM) it writes ``<out>/loop.prof`` and
``<out>/database.prof`` (``pstats`` files) and prints the top functions of each by own time
and by cumulative time. cProfile slows Python down (roughly 1.5-2x), so read the shares, not
the absolute times, and never quote throughput from a profiled run.

Run::

    RAPPORT_DATABASE_URL=sqlite:////tmp/x.db .venv/bin/rapport migrate
    RAPPORT_DATABASE_URL=sqlite:////tmp/x.db .venv/bin/python bench/profile_server.py \\
        --port 8011 --out /tmp/prof
    # drive it (wrk ...), then Ctrl-C or kill -TERM it
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from service.store import database as dbmod

_database_profile = cProfile.Profile()
_lock = threading.Lock()


def _patch_database() -> None:
    committer = dbmod.SqliteDatabase._committer
    transaction = dbmod.PostgresDatabase._transaction

    def profiled_committer(self: dbmod.SqliteDatabase) -> None:
        _database_profile.enable()
        try:
            committer(self)
        finally:
            _database_profile.disable()

    def profiled_transaction(
        self: dbmod.PostgresDatabase, connection: Any, work: Callable[[Any], Any]
    ) -> Any:
        # One profiler for all worker threads: enable/disable around each transaction, one
        # thread at a time would serialise them, so each thread gets its own and they merge.
        profile = _thread_profile()
        profile.enable()
        try:
            return transaction(self, connection, work)
        finally:
            profile.disable()

    dbmod.SqliteDatabase._committer = profiled_committer  # type: ignore[method-assign]
    dbmod.PostgresDatabase._transaction = profiled_transaction  # type: ignore[method-assign]


_local = threading.local()
_thread_profiles: list[cProfile.Profile] = []


def _thread_profile() -> cProfile.Profile:
    profile: cProfile.Profile | None = getattr(_local, "profile", None)
    if profile is None:
        profile = cProfile.Profile()
        _local.profile = profile
        with _lock:
            _thread_profiles.append(profile)
    return profile


def _report(stats: pstats.Stats, title: str, limit: int) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    print(f"==== {title}: by own time", file=out)
    stats.sort_stats("tottime").print_stats(limit)
    print(f"==== {title}: by cumulative time", file=out)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve Rapport under cProfile.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="directory for .prof files")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    _patch_database()
    from service.api.app import create_app
    from service.settings import get_settings

    loop_profile = cProfile.Profile()
    app = create_app(get_settings())
    loop_profile.enable()
    try:
        uvicorn.run(
            app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
            loop="uvloop", http="httptools", proxy_headers=False, server_header=False,
        )  # fmt: skip
    finally:
        loop_profile.disable()
    loop_profile.dump_stats(args.out / "loop.prof")
    report = [_report(pstats.Stats(loop_profile), "event loop thread", args.top)]
    database = [p for p in (_database_profile, *_thread_profiles) if p.getstats()]
    if database:
        merged = pstats.Stats(database[0])
        for p in database[1:]:
            merged.add(p)
        merged.dump_stats(str(args.out / "database.prof"))
        report.append(_report(merged, "database side", args.top))
    text = "\n".join(report)
    (args.out / "report.txt").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
