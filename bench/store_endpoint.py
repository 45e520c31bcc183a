"""Storing administrations: POST /v1/dyads/{id}/administrations on a real server, SQLite and PG.

For each backend (a temporary SQLite file in WAL mode with ``synchronous=FULL``, Rapport's
default, and a throwaway PostgreSQL database) one ``rapport serve`` process at a time is
started, with ``RAPPORT_ALERTS_ENABLED=true`` or ``false``, and driven on the same run by:

* ``score``: the stateless ``POST /v1/instruments/phq-9/score`` (wrk, closed loop): the
  baseline every store figure is divided by;
* ``store``: ``POST /v1/dyads/{id}/administrations`` with a PHQ-9 body, spread round-robin
  over freshly created dyads (``--dyads``, 200 by default, all with one adult patient and
  one practitioner), the session number counting 1, 2, 3... per dyad, as a clinic's
  sessions do (wrapping at ``--sessions``, 100,000 by default, so never within a run; a
  small cycle makes every store after the wrap a re-administration of an earlier session:
  the worst case for alert evaluation, and a store that creates no session row), no
  ``Idempotency-Key`` (wrk, closed loop);
* ``store+key``: the same with a unique ``Idempotency-Key`` per request, generated in the
  Lua script (alerts on only);
* ``store@rate`` and ``score@rate``: open loop at a fixed rate (``bench/openloop.py``, the
  ``wrk2 -R`` method: latency from each request's scheduled send time, so queueing is not
  hidden), by default half the throughput target (1,000/s SQLite, 750/s PostgreSQL), alerts
  on only. When the closed-loop store throughput is below twice that rate, a second run at
  half the measured throughput follows.

Servers alternate alerts on/off, in the order on, off, off, on... so drift hits both. The
server is pinned to one CPU and the load generator to the other (``taskset``), as in
``score_endpoint.py``; PostgreSQL's own processes are not pinned.

After every store run the administrations of that run's dyads are counted in the database
(once the count stops moving) and checked against the responses: the open-loop generator
waits for every answer, so there the count must equal its 201s exactly; wrk abandons the
requests in flight when it stops, so there the count must lie between wrk's 201s and the
requests it sent minus the non-201 answers. With keys, the new ``idempotency_keys`` rows
must equal the new administrations.

Targets (issue 3, 4): >= 2,000 stored/s on SQLite and p99 <= 20 ms at half that rate;
>= 1,500 stored/s on PostgreSQL; storing with alerts at most 15 % slower than without.
Figures are printed, nothing is asserted. Only 127.0.0.1 is used.

Run: ``.venv/bin/python bench/store_endpoint.py [--backends sqlite,postgres] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import backends as db
from backends import Api, Counter
from score_endpoint import (
    BENCH,
    cpu_plan,
    create_api_key,
    run_main,
    warn_if_busy,
)
from scorer import complete_responses
from wrkload import Requests, WrkResult, run_wrk

from service.domain.instruments.catalogue import load_catalogue

TARGET_RPS = {"sqlite": 2000.0, "postgres": 1500.0}
TARGET_P99_MS = 20.0  # at half the SQLite throughput target
TARGET_ALERT_SLOWDOWN = 0.15
STORE_KINDS = ("store", "store+key")
DRAIN_TIMEOUT_S = 30.0
OVERLOAD_SECONDS = 3.0  # an open-loop run above the measured capacity only shows the queue grow


@dataclass(frozen=True, slots=True)
class StoreSettings:
    backends: tuple[str, ...] = db.BACKENDS
    duration: float = 10.0
    warmup: float = 2.0
    rounds: int = 2
    connections: int = 50
    dyads: int = 200
    sessions: int = 100_000  # session cycle: no wrap within a run (see the docstring)
    rates: dict[str, float] = field(
        default_factory=lambda: {k: v / 2 for k, v in TARGET_RPS.items()}
    )
    max_connections: int = 256  # open-loop connection bound
    pin: bool = True  # server on one CPU, load generator on the other
    alerts_only: bool = False  # only score and store on both servers: the alerts comparison
    pg_admin_url: str = db.PG_ADMIN_URL


@dataclass(frozen=True, slots=True)
class Check:
    """Rows stored by a run against its responses."""

    stored: int
    low: int  # the 201 responses
    high: int  # requests that may have been stored (wrk: sent minus non-201 answers)
    keys: int | None = None  # new idempotency_keys rows (store+key only)

    @property
    def ok(self) -> bool:
        keys_ok = self.keys is None or self.keys == self.stored
        return self.low <= self.stored <= self.high and keys_ok

    def describe(self) -> str:
        if self.low == self.high:
            span = f"= {self.low} 201s" if self.stored == self.low else f"!= {self.low} 201s"
        else:
            span = f"in [{self.low} 201s, {self.high} sent-non201]"
        keys = "" if self.keys is None else f", {self.keys} keys"
        return f"stored {self.stored} {span}{keys}: {'ok' if self.ok else 'MISMATCH'}"


@dataclass(frozen=True, slots=True)
class Measure:
    backend: str
    round: int
    alerts: bool
    kind: str  # score | store | store+key | store@rate | score@rate
    rps: float  # responses with the expected status per second
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    requests: int
    rate: float | None = None  # open loop: the fixed rate
    extra: dict[str, Any] = field(default_factory=dict)
    check: Check | None = None
    cpu_us: float | None = None  # server process CPU per expected response, microseconds
    loop_cpu_us: float | None = None  # of which the event-loop thread
    pg_cpu_us: float | None = None  # PostgreSQL processes' CPU per expected response


@dataclass(slots=True)
class Context:
    """One server on one backend: where to send, what to count, how to load."""

    backend: str
    server: db.Server
    api: Api
    counter: Counter
    patient: str
    practitioner: str
    warm_dyads: list[str]
    workdir: Path
    load_prefix: list[str]
    s: StoreSettings

    def store_requests(self, dyads: list[str], nonce: str | None = None) -> Requests:
        return Requests(
            paths=tuple(f"/v1/dyads/{d}/administrations" for d in dyads),
            headers=self.api.headers,
            prefix='{"instrument":"phq-9","session":',
            suffix=f',"responses":{PHQ9}}}',
            sessions=self.s.sessions,
            idempotency_nonce=nonce,
            expect=201,
        )

    def score_requests(self) -> Requests:
        body = f'{{"responses":{PHQ9}}}'
        return Requests(("/v1/instruments/phq-9/score",), self.api.headers, body, expect=200)

    def wrk(self, requests: Requests, seconds: float) -> WrkResult:
        return run_wrk(
            self.load_prefix, self.server.base_url, requests, self.workdir / "load.lua",
            seconds, self.s.connections,
        )  # fmt: skip

    def cpu(self) -> tuple[float, float, float]:
        """(server process, its event-loop thread, PostgreSQL processes) CPU seconds so far."""
        pg = db.postgres_cpu_seconds() if self.backend == "postgres" else 0.0
        return self.server.cpu(), self.server.loop_cpu(), pg

    def openloop(
        self, requests: Requests, rate: float, seconds: float, warmup: float
    ) -> dict[str, Any]:
        plan = {
            "host": db.HOST, "port": self.server.port, "paths": list(requests.paths),
            "headers": requests.headers, "prefix": requests.prefix, "suffix": requests.suffix,
            "sessions": requests.sessions, "idempotency_nonce": requests.idempotency_nonce,
            "expect": requests.expect, "rate": rate, "duration": seconds, "warmup": warmup,
            "max_connections": self.s.max_connections, "drain_timeout": DRAIN_TIMEOUT_S,
        }  # fmt: skip
        path = self.workdir / "plan.json"
        path.write_text(json.dumps(plan))
        timeout = seconds + warmup + 2 * DRAIN_TIMEOUT_S + 60
        done = subprocess.run(
            [*self.load_prefix, sys.executable, str(BENCH / "openloop.py"), "--plan", str(path)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"openloop failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


PHQ9 = json.dumps(complete_responses(load_catalogue().get("phq-9")), separators=(",", ":"))


# -- one server ------------------------------------------------------------------------------


def _per(
    cpu: tuple[float, float, float], before: tuple[float, float, float], n: int
) -> dict[str, Any]:
    if n <= 0:
        return {}
    server, loop, pg = ((a - b) / n * 1e6 for a, b in zip(cpu, before, strict=True))
    return {"cpu_us": server, "loop_cpu_us": loop, "pg_cpu_us": pg or None}


def _closed(ctx: Context, round_: int, alerts: bool, kind: str) -> Measure:
    s = ctx.s
    if kind == "score":
        requests = ctx.score_requests()
        if s.warmup > 0:
            ctx.wrk(requests, s.warmup)
        before = ctx.cpu()
        r = ctx.wrk(requests, s.duration)
        cpu = _per(ctx.cpu(), before, r.expected)
        return _from_wrk(ctx.backend, round_, alerts, kind, r, None, cpu)
    keyed = kind == "store+key"
    if s.warmup > 0:
        nonce = f"w{secrets.token_hex(4)}" if keyed else None
        ctx.wrk(ctx.store_requests(ctx.warm_dyads, nonce), s.warmup)
    dyads = ctx.api.dyads(ctx.patient, ctx.practitioner, s.dyads)
    keys_before = ctx.counter.settled("idempotency_keys") if keyed else None
    nonce = f"m{secrets.token_hex(4)}" if keyed else None
    wal_before = ctx.counter.wal()
    before = ctx.cpu()
    r = ctx.wrk(ctx.store_requests(dyads, nonce), s.duration)
    cpu = _per(ctx.cpu(), before, r.expected)
    wal = _wal_per(ctx.counter.wal(), wal_before, r.expected)
    stored = ctx.counter.settled("administrations", dyads)
    keys = None
    if keys_before is not None:
        keys = ctx.counter.settled("idempotency_keys") - keys_before
    check = Check(stored, r.expected, r.sent - r.other, keys)
    measure = _from_wrk(ctx.backend, round_, alerts, kind, r, check, cpu)
    measure.extra.update(wal)
    return measure


def _wal_per(
    after: tuple[int, int, int] | None, before: tuple[int, int, int] | None, n: int
) -> dict[str, Any]:
    """PostgreSQL's WAL bytes and full-page images per expected response, and the
    checkpoints that began during the run: the whole server's, other clients' included."""
    if after is None or before is None or n <= 0:
        return {}
    return {
        "wal_bytes": (after[0] - before[0]) / n,
        "wal_fpi": (after[1] - before[1]) / n,
        "checkpoints": after[2] - before[2],
    }


def _from_wrk(
    backend: str, round_: int, alerts: bool, kind: str, r: WrkResult, check: Check | None,
    cpu: dict[str, Any],
) -> Measure:  # fmt: skip
    return Measure(
        backend, round_, alerts, kind, r.expected_rps, r.p50_ms, r.p99_ms, r.errors,
        r.expected, extra={"p90_ms": r.p90_ms, "sent": r.sent}, check=check, **cpu,
    )  # fmt: skip


def _open(ctx: Context, round_: int, kind: str, rate: float, capacity: float) -> Measure:
    """A fixed-rate run; shortened when the rate is above the closed-loop ``capacity``."""
    overload = rate > capacity * 1.1
    seconds = OVERLOAD_SECONDS if overload else ctx.s.duration
    warmup = 0.0 if overload else ctx.s.warmup
    before = ctx.cpu()
    if kind == "store@rate":
        dyads = ctx.api.dyads(ctx.patient, ctx.practitioner, ctx.s.dyads)
        before = ctx.cpu()
        raw = ctx.openloop(ctx.store_requests(dyads), rate, seconds, warmup)
        stored = ctx.counter.settled("administrations", dyads)
        total = raw["warmup_expected"] + raw["expected"]
        unknown = raw["socket_errors"] + raw["warmup_socket_errors"] + raw["in_flight_left"]
        check: Check | None = Check(stored, total, total + unknown)
    else:
        raw, check = ctx.openloop(ctx.score_requests(), rate, seconds, warmup), None
    cpu = _per(ctx.cpu(), before, raw["warmup_expected"] + raw["expected"])
    errors = raw["other"] + raw["socket_errors"] + raw["warmup_other"]
    errors += raw["warmup_socket_errors"] + raw["in_flight_left"]
    extra = dict(raw, overload=overload, capacity=capacity)
    return Measure(
        ctx.backend, round_, True, kind, raw["achieved_rps"], raw["p50_ms"], raw["p99_ms"],
        errors, raw["expected"], rate=rate, extra=extra, check=check, **cpu,
    )  # fmt: skip


def _one_server(
    backend: str, url: str, token: str, round_: int, alerts: bool, workdir: Path,
    s: StoreSettings, measures: list[Measure], echo: bool,
) -> None:  # fmt: skip
    server_prefix, load_prefix = cpu_plan() if s.pin else ([], [])
    env = db.server_env(dict(os.environ), url, alerts_enabled=str(alerts).lower())
    with db.rapport_server(env, server_prefix, workdir) as server:
        api = Api(server.base_url, token)
        counter = Counter(url)
        try:
            patient, practitioner = api.people(f"r{round_}")
            ctx = Context(
                backend, server, api, counter, patient, practitioner,
                api.dyads(patient, practitioner, s.dyads), workdir, load_prefix, s,
            )  # fmt: skip

            def add(m: Measure) -> None:
                measures.append(m)
                if echo:
                    print(format_measure(m), flush=True)

            kinds = ("score", "store", "store+key") if alerts else ("score", "store")
            if s.alerts_only:
                kinds = ("score", "store")
            closed: dict[str, Measure] = {}
            for kind in kinds:
                closed[kind] = _closed(ctx, round_, alerts, kind)
                add(closed[kind])
            if not alerts or s.alerts_only:
                return
            rate = s.rates[backend]
            capacity = closed["store"].rps
            add(_open(ctx, round_, "store@rate", rate, capacity))
            add(_open(ctx, round_, "score@rate", rate, closed["score"].rps))
            if capacity < 2 * rate * 0.95:
                add(_open(ctx, round_, "store@rate", round(capacity / 2), capacity))
        finally:
            api.close()
            counter.close()


def run(s: StoreSettings, echo: bool = True) -> list[Measure]:
    """Every server gets a fresh database: a server never works on the rows (and, on
    PostgreSQL, the dead tuples) its predecessors left, so the alerts-on and alerts-off runs
    of a round start alike whatever their order."""
    measures: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix="rapport-bench-store-") as tmp:
        workdir = Path(tmp)
        for backend in db.usable(s.backends, s.pg_admin_url):
            if echo:
                print(f"{backend}:", flush=True)
            for round_ in range(1, s.rounds + 1):
                order = (True, False) if round_ % 2 else (False, True)
                for alerts in order:
                    with db.migrated(backend, workdir, s.pg_admin_url) as each:
                        token = create_api_key(each.env)
                        if echo:
                            warn_if_busy()
                        _one_server(
                            backend, each.url, token, round_, alerts, workdir, s, measures, echo
                        )
    return measures


# -- reporting -------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}"


def format_measure(m: Measure) -> str:
    alerts = "on " if m.alerts else "off"
    rate = f" @{m.rate:.0f}/s" if m.rate is not None else ""
    errors = f"  ERRORS {m.errors}" if m.errors else ""
    check = f"  {m.check.describe()}" if m.check else ""
    cpu = ""
    if m.cpu_us is not None and m.loop_cpu_us is not None:
        cpu = f"  cpu {m.cpu_us:5.0f} us (loop {m.loop_cpu_us:4.0f})"
    cpu += f" + pg {m.pg_cpu_us:4.0f} us" if m.pg_cpu_us is not None else ""
    tail = ""
    if "wal_bytes" in m.extra:
        x = m.extra
        tail = (
            f"  wal {x['wal_bytes']:5.0f} B, fpi {x['wal_fpi']:.2f}, "
            f"{x['checkpoints']} checkpoint(s)"
        )
    if m.rate is not None:
        x = m.extra
        overload = ""
        if x["overload"]:
            overload = (
                f", OVERLOAD: above the closed-loop {x['capacity']:.0f}/s, "
                f"{x['scheduled']} requests answered in {x['seconds']:.0f} s"
            )
        tail = (
            f"  (p99.9 {_ms(x['p999_ms'])}, service p99 {_ms(x['service_p99_ms'])}, "
            f"send lag p99 {_ms(x['lag_p99_ms'])} ms, {x['peak_connections']} conns{overload})"
        )
    return (
        f"  round {m.round} alerts {alerts} {m.kind + rate:<19} {m.rps:7.0f} /s  "
        f"p50 {_ms(m.p50_ms)} ms  p99 {_ms(m.p99_ms)} ms{cpu}{tail}{check}{errors}"
    )


def _mean(measures: list[Measure], attr: str = "rps", **match: object) -> float | None:
    values = [
        getattr(m, attr)
        for m in measures
        if getattr(m, attr) is not None and all(getattr(m, k) == v for k, v in match.items())
    ]
    return statistics.fmean(values) if values else None


def _median_p99(measures: list[Measure], **match: object) -> float | None:
    values = [
        m.p99_ms
        for m in measures
        if m.p99_ms is not None and all(getattr(m, k) == v for k, v in match.items())
    ]
    return statistics.median(values) if values else None


def _round_ratios(mine: list[Measure], a: dict[str, object], b: dict[str, object]) -> list[float]:
    """rps(a) / rps(b) for each round that has both."""
    ratios = []
    for x in mine:
        if not all(getattr(x, k) == v for k, v in a.items()):
            continue
        for y in mine:
            same = y.round == x.round and all(getattr(y, k) == v for k, v in b.items())
            if same and y.rps:
                ratios.append(x.rps / y.rps)
    return ratios


def _cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} us"


def summary(measures: list[Measure], s: StoreSettings) -> list[str]:
    lines: list[str] = []
    for backend in s.backends:
        mine = [m for m in measures if m.backend == backend]
        if not mine:
            continue
        score = _mean(mine, kind="score") or 0.0
        score_cpu = _mean(mine, "cpu_us", kind="score")
        lines.append(
            f"  {backend}: score endpoint {score:.0f} req/s, server cpu {_cpu(score_cpu)}/request"
        )
        for kind in STORE_KINDS:
            rps = _mean(mine, kind=kind, alerts=True)
            if rps is None:
                continue
            p99 = _median_p99(mine, kind=kind, alerts=True)
            ratio = _round_ratios(mine, {"kind": kind, "alerts": True}, {"kind": "score"})
            cpu = _mean(mine, "cpu_us", kind=kind, alerts=True)
            loop = _mean(mine, "loop_cpu_us", kind=kind, alerts=True)
            pg = _mean(mine, "pg_cpu_us", kind=kind, alerts=True)
            pg_text = f" + postgres {_cpu(pg)}" if pg is not None else ""
            target = TARGET_RPS[backend]
            verdict = "met" if rps >= target else "NOT met"
            lines.append(
                f"    {kind:<10} alerts on : {rps:6.0f} stored/s (target >= {target:.0f}/s: "
                f"{verdict}), p99 {_ms(p99)} ms at {s.connections} conns, "
                f"x{statistics.fmean(ratio) if ratio else 0:.2f} of score; "
                f"server cpu {_cpu(cpu)} (event loop {_cpu(loop)}){pg_text}/request"
            )
        off = _mean(mine, kind="store", alerts=False)
        on = _mean(mine, kind="store", alerts=True)
        if off and on:
            pairs = _round_ratios(
                mine, {"kind": "store", "alerts": True}, {"kind": "store", "alerts": False}
            )
            slowdown = 1 - on / off
            verdict = "met" if slowdown <= TARGET_ALERT_SLOWDOWN else "NOT met"
            per_round = ", ".join(f"{x:.2f}" for x in pairs)
            cpu_on = _mean(mine, "cpu_us", kind="store", alerts=True)
            cpu_off = _mean(mine, "cpu_us", kind="store", alerts=False)
            by_cpu = f"{cpu_on / cpu_off - 1:+.0%}" if cpu_on and cpu_off else "n/a"
            lines.append(
                f"    store      alerts off: {off:6.0f} stored/s, server cpu {_cpu(cpu_off)}/"
                f"request; alerts on/off throughput {on / off:.2f} (per round {per_round}): "
                f"alerts cost {slowdown:+.0%} of throughput, {by_cpu} of server cpu "
                f"(target <= {TARGET_ALERT_SLOWDOWN:.0%} slower: {verdict})"
            )
        for m in (m for m in mine if m.rate is not None):
            verdict = ""
            if m.kind == "store@rate" and backend == "sqlite" and m.rate == s.rates[backend]:
                ok = m.p99_ms is not None and m.p99_ms <= TARGET_P99_MS
                verdict = f" (target p99 <= {TARGET_P99_MS:g} ms: {'met' if ok else 'NOT met'})"
            overload = " OVERLOADED" if m.extra.get("overload") else ""
            lines.append(
                f"    {m.kind:<10} round {m.round} open loop {m.rate:5.0f}/s: achieved "
                f"{m.rps:5.0f}/s, p50 {_ms(m.p50_ms)} p99 {_ms(m.p99_ms)} ms{overload}{verdict}"
            )
        stored = [m.check.stored for m in mine if m.kind == "store" and m.check is not None]
        # Any closed-loop run may wrap, the keyed one too (slower, so it wraps later).
        closed_loop = [m.check.stored for m in mine if m.rate is None and m.check is not None]
        if stored:
            history = statistics.fmean(stored) / s.dyads
            wrapped = max(closed_loop) / s.dyads > s.sessions
            lines.append(
                f"    per-dyad history at the end of a closed-loop store run: {history:.0f} "
                f"administrations on average ({s.dyads} dyads, sessions wrapping at "
                f"{s.sessions}: "
                + (
                    "WRAPPED, so stores after the wrap re-administered earlier sessions: "
                    "with alerts they re-read the history, without they create no session "
                    "row; the alerts ratio is the worst case, not a clinic's)"
                    if wrapped
                    else "every session later than the last, so each store steps the "
                    "series summary)"
                )
            )
        checks = [m.check for m in mine if m.check is not None]
        bad = [c for c in checks if not c.ok]
        lines.append(
            f"    stored rows checked against responses in {len(checks)} runs: "
            + ("all ok" if not bad else f"{len(bad)} MISMATCH(ES)")
        )
        if any(m.errors for m in mine):
            lines.append("    WARNING: some requests failed; see the runs above")
    return lines


def header(s: StoreSettings) -> str:
    _, load_prefix = cpu_plan()
    pinned = load_prefix and s.pin
    pinning = "server and load pinned to separate CPUs" if pinned else "no pinning"
    return (
        f"POST /v1/dyads/{{id}}/administrations (PHQ-9) beside POST /v1/instruments/phq-9/score: "
        f"wrk {s.connections} connections and open loop at "
        + ", ".join(f"{b} {s.rates[b]:.0f}/s" for b in s.backends)
        + f"; {s.duration:g} s runs after {s.warmup:g} s warm-up, {s.rounds} round(s), "
        f"{s.dyads} dyads per run; {pinning}"
    )


def settings_from(argv: list[str] | None = None) -> StoreSettings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    d = StoreSettings()
    parser.add_argument("--backends", default=",".join(d.backends), help="sqlite,postgres")
    parser.add_argument("--duration", type=float, default=d.duration, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=d.warmup)
    parser.add_argument("--rounds", type=int, default=d.rounds)
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--dyads", type=int, default=d.dyads, help="dyads per run")
    parser.add_argument("--sessions", type=int, default=d.sessions, help="session cycle")
    parser.add_argument("--sqlite-rate", type=float, default=d.rates["sqlite"])
    parser.add_argument("--postgres-rate", type=float, default=d.rates["postgres"])
    parser.add_argument("--pg-admin-url", default=d.pg_admin_url)
    parser.add_argument(
        "--no-pin", action="store_true", help="let the OS place server and load on any CPU"
    )
    parser.add_argument(
        "--alerts-only",
        action="store_true",
        help="only the score and store runs, alerts on and off (more rounds for less noise)",
    )
    a = parser.parse_args(argv)
    chosen = db.parse_backends(a.backends, parser)
    return replace(
        d, backends=chosen, duration=a.duration, warmup=a.warmup, rounds=a.rounds,
        connections=a.connections, dyads=a.dyads, sessions=a.sessions,
        rates={"sqlite": a.sqlite_rate, "postgres": a.postgres_rate},
        pg_admin_url=a.pg_admin_url, pin=not a.no_pin, alerts_only=a.alerts_only,
    )  # fmt: skip


def main() -> int:
    s = settings_from()
    print(header(s), flush=True)
    measures = run(s)
    print("\nSummary:")
    print("\n".join(summary(measures, s)))
    return 0


if __name__ == "__main__":
    run_main(main)
