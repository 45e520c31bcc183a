"""Prometheus metrics: the collectors, the sink of ``service.app.telemetry``, the exposition.

Several worker processes (``rapport serve --workers N``) share one set of metrics through
prometheus-client's multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` names a directory each
process writes its values to (the serve command sets it up, fresh, before any worker starts,
service/cli/serve.py), and a scrape sums every process's files. Without it, the metrics are
the one process's own.

Labels hold route templates, methods, statuses, alert kinds and outcomes: a bounded set,
never a raw path, an id or a value.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from service.app import telemetry

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Requests take from under a millisecond (a cached read) to seconds (a calibration).
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

REQUESTS = Histogram(
    "rapport_http_request_duration_seconds",
    "HTTP requests by route template, method and status: count and latency (until the "
    "response's last byte was handed to the server)",
    ("method", "route", "status"),
    buckets=_REQUEST_BUCKETS,
)
TRANSACTIONS = Histogram(
    "rapport_db_transaction_duration_seconds",
    "Units of work run on the database, by outcome (commit, conflict, unavailable, "
    "rollback): latency including the wait for a connection or a batch and the commit",
    ("outcome",),
    buckets=_DB_BUCKETS,
)
BATCHES = Histogram(
    "rapport_db_batch_jobs",
    "SQLite's group commit: units of work committed together in one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
BATCH_SECONDS = Histogram(
    "rapport_db_batch_duration_seconds",
    "SQLite's group commit: how long a batch's transaction took, its COMMIT (fsync) included",
    buckets=_DB_BUCKETS,
)
ADMINISTRATIONS = Counter(
    "rapport_administrations_stored",
    "Administrations stored (committed; replays of an Idempotency-Key not counted)",
)
ALERTS = Counter(
    "rapport_alerts_raised", "Alerts raised (committed, de-duplicated), by kind", ("kind",)
)


class PrometheusSink:
    """Records ``service.app.telemetry`` calls in the collectors above."""

    def administrations_stored(self, count: int) -> None:
        ADMINISTRATIONS.inc(count)

    def alert_raised(self, kind: str) -> None:
        ALERTS.labels(kind).inc()

    def transaction_finished(self, seconds: float, outcome: str) -> None:
        TRANSACTIONS.labels(outcome).observe(seconds)

    def batch_committed(self, jobs: int, seconds: float) -> None:
        BATCHES.observe(jobs)
        BATCH_SECONDS.observe(seconds)


def install() -> None:
    telemetry.install(PrometheusSink())


def registry() -> CollectorRegistry:
    """Every worker's metrics when they are shared, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        shared = CollectorRegistry()
        MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
        return shared
    return REGISTRY


def exposition() -> bytes:
    """The text exposition of ``registry()``."""
    return generate_latest(registry())
