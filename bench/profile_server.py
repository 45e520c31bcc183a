"""``rapport serve`` under cProfile, for finding where a benchmark's time goes.

Serves ``create_app`` with the settings ``rapport serve`` uses (uvloop, httptools, no access
log), from the ``RAPPORT_*`` environment, with one ``cProfile.Profile`` on the event-loop
thread and one per database thread (service/store/database.py: SQLite's writer thread and
reader threads, PostgreSQL's worker threads), merged into one database profile.
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

_lock = threading.Lock()


def _profiled(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` under its thread's own profiler (the profiles are merged at the end)."""

    def profiled(*args: Any, **kwargs: Any) -> Any:
        profile = _thread_profile()
        profile.enable()
        try:
            return method(*args, **kwargs)
        finally:
            profile.disable()

    return profiled


def _patch_database() -> None:
    """Every database thread: SQLite's writer and readers, PostgreSQL's workers."""
    sqlite, postgres = dbmod.SqliteDatabase, dbmod.PostgresDatabase
    sqlite._write_loop = _profiled(sqlite._write_loop)  # type: ignore[method-assign]
    sqlite._read = _profiled(sqlite._read)  # type: ignore[method-assign]
    postgres._write = _profiled(postgres._write)  # type: ignore[method-assign]
    postgres._read = _profiled(postgres._read)  # type: ignore[method-assign]


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
    database = [p for p in _thread_profiles if p.getstats()]
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
