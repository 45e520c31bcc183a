"""What the use cases and the store report to operators, as a port: counts and durations.

The application and the store call these functions; an adapter (``service.api.metrics``,
Prometheus) installs the sink that records them. Without one, every call is a no-op, so
the domain, the use cases and their tests never import a metrics library. Only counts,
kinds and durations pass through here: never an identifier, an answer or a score.
"""

from __future__ import annotations

from typing import Protocol


class Sink(Protocol):
    def administrations_stored(self, count: int) -> None: ...
    def alert_raised(self, kind: str) -> None: ...
    def transaction_finished(self, seconds: float, outcome: str) -> None: ...
    def batch_committed(self, jobs: int, seconds: float) -> None: ...


class _Nothing:
    def administrations_stored(self, count: int) -> None:
        pass

    def alert_raised(self, kind: str) -> None:
        pass

    def transaction_finished(self, seconds: float, outcome: str) -> None:
        pass

    def batch_committed(self, jobs: int, seconds: float) -> None:
        pass


_sink: Sink = _Nothing()


def install(sink: Sink | None) -> None:
    """Record through ``sink`` from now on (None: record nothing)."""
    global _sink
    _sink = sink if sink is not None else _Nothing()


def administrations_stored(count: int = 1) -> None:
    """``count`` administrations were committed (replays are not counted)."""
    _sink.administrations_stored(count)


def alert_raised(kind: str) -> None:
    """An alert of ``kind`` was committed (a de-duplicated one is not counted)."""
    _sink.alert_raised(kind)


def transaction_finished(seconds: float, outcome: str) -> None:
    """A unit of work ran and committed (``outcome`` "commit") or failed ("conflict",
    "unavailable", "rollback") in ``seconds``, waiting for the database included."""
    _sink.transaction_finished(seconds, outcome)


def batch_committed(jobs: int, seconds: float) -> None:
    """SQLite's writer committed ``jobs`` units of work in one transaction (group commit);
    the transaction took ``seconds``, its COMMIT (the fsync) included."""
    _sink.batch_committed(jobs, seconds)
