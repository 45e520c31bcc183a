"""``rapport serve``: one process, or N worker processes on PostgreSQL.

SQLite allows one writer at a time, and Rapport's SQLite store orders its writes through
one connection in one process (service/store/database.py): a second process would contend
for the file's lock and fail writes as "database is locked". So more than one worker is
refused on SQLite, at start, saying so. On PostgreSQL every worker is a uvicorn worker
process running the same app; what must hold across them (Idempotency-Key replays, alert
de-duplication, key revocation) lives in the database, and a revoked key is refused
everywhere within ``RAPPORT_API_KEY_CACHE_SECONDS`` (each process caches validated keys).

Metrics of several workers are summed through prometheus-client's multiprocess mode: the
``PROMETHEUS_MULTIPROC_DIR`` directory is set up (emptied, or created for this run) before
any worker imports prometheus-client.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from service.logs import logging_config
from service.settings import Settings
from service.store.urls import driver_url, is_sqlite

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's name


def serve(settings: Settings, args: argparse.Namespace, upgrade: Callable[[Settings], None]) -> int:
    import uvicorn

    from service.api.slow_clients import BoundedHttpToolsProtocol

    workers: int = args.workers or settings.workers
    if workers > 1 and is_sqlite(driver_url(settings.database_url)):
        print(
            f"rapport: --workers {workers} needs PostgreSQL. SQLite allows one writer at a "
            "time and Rapport's SQLite store writes through one process; run one worker "
            "(the default), or set RAPPORT_DATABASE_URL to a postgresql:// URL.",
            file=sys.stderr,
        )
        return 2
    if settings.auto_migrate and not args.no_migrate:
        upgrade(settings)  # once, before any worker starts
    if workers > 1 and settings.metrics != "off":
        _shared_metrics_directory()
    host = args.host or settings.host
    if settings.metrics_port is not None:
        _serve_metrics_apart(host, settings.metrics_port)
    log_config = logging_config(settings.log_format, settings.log_level)
    if args.no_access_log:
        log_config["loggers"]["rapport.access"] = {"level": "WARNING"}
    options = {
        "host": host,
        "port": args.port or settings.port,
        "log_level": settings.log_level,
        "log_config": log_config,
        "access_log": False,  # Rapport's own access line: no query string (service/api/observe.py)
        "loop": "uvloop",
        # uvicorn's httptools protocol, bounding connections and slow clients
        # (service/api/slow_clients.py); a module-level class, so each worker imports it.
        "http": BoundedHttpToolsProtocol,
        "proxy_headers": False,
        "server_header": False,
    }
    if workers == 1:
        from service.api.app import create_app

        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
    else:  # each worker builds the app from the same environment
        uvicorn.run("service.api.app:create_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    return 0


def _shared_metrics_directory() -> None:
    """A fresh directory for the workers' metric files: the one named by the environment,
    emptied (prometheus-client's rule: wipe it between runs), or a temporary one."""
    named = os.environ.get(MULTIPROC_ENV)
    if named:
        directory = Path(named)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return
    created = tempfile.mkdtemp(prefix="rapport-metrics-")
    os.environ[MULTIPROC_ENV] = created
    atexit.register(shutil.rmtree, created, ignore_errors=True)


def _serve_metrics_apart(host: str, port: int) -> None:
    """/metrics on its own port, from this (the supervising) process, in a thread."""
    from prometheus_client import start_http_server

    from service.api import metrics

    metrics.install()
    start_http_server(port, addr=host, registry=metrics.registry())
    logging.getLogger("rapport").info("metrics served on http://%s:%d/metrics", host, port)
