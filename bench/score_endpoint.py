"""Throughput of POST /v1/instruments/{id}/score on a real server, beside a bare FastAPI app.

Each run starts ONE server process alone (``rapport serve`` on a temporary, migrated SQLite
file, or ``bench/bare_app.py``: FastAPI validating the same ``ScoreRequest`` and returning a
constant), checks one response, warms it up, then drives it with a closed-loop load generator
(``wrk`` when installed, else ``bench/loadgen.py``) and stops it. Runs alternate bare, rapport,
bare, rapport... so slow drift on a shared machine hits both alike. With two or more CPUs the
server is pinned to one CPU and the load generator to another (``taskset``).

Prints requests/s, p50 and p99 latency for every run, and the ratio rapport/bare (mean of the
runs). The target is a ratio of at least 0.70. Nothing is asserted. Only 127.0.0.1 is used.

Run: ``.venv/bin/python bench/score_endpoint.py [--duration 10] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from scorer import complete_responses

from service.domain.instruments.catalogue import load_catalogue

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET_RATIO = 0.70
SERVERS = ("bare", "rapport")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
WRK_SCRIPT = """\
wrk.method = "POST"
{headers}
wrk.body = [==[{body}]==]

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {{"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99))))
end
"""


@dataclass(frozen=True, slots=True)
class BenchSettings:
    instrument: str = "phq-9"
    duration: float = 10.0
    warmup: float = 3.0
    rounds: int = 2
    connections: int = 50
    threads: int = 1
    loadgen: str = "auto"  # auto | wrk | httpx


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # socket errors and non-2xx/3xx responses
    p50_ms: float | None
    p99_ms: float | None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Run:
    server: str
    round: int
    result: LoadResult


@dataclass(frozen=True, slots=True)
class EndpointFigures:
    settings: BenchSettings
    tool: str
    pinned: bool
    runs: tuple[Run, ...]

    def of(self, server: str) -> list[LoadResult]:
        return [r.result for r in self.runs if r.server == server]

    def mean_rps(self, server: str) -> float:
        return statistics.fmean(r.rps for r in self.of(server))

    def median_p99_ms(self, server: str) -> float | None:
        values = [r.p99_ms for r in self.of(server) if r.p99_ms is not None]
        return statistics.median(values) if values else None

    def median_p50_ms(self, server: str) -> float | None:
        values = [r.p50_ms for r in self.of(server) if r.p50_ms is not None]
        return statistics.median(values) if values else None

    @property
    def ratio(self) -> float:
        bare = self.mean_rps("bare")
        return self.mean_rps("rapport") / bare if bare else 0.0

    def round_ratios(self) -> list[float]:
        bare, rapport = self.of("bare"), self.of("rapport")
        return [r.rps / b.rps for b, r in zip(bare, rapport, strict=True) if b.rps]


def stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt, so ``finally`` stops the servers.

    By default they end Python at once, skipping cleanup, and a server in its own session
    would outlive the benchmark.
    """

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def run_main(main: Callable[[], int]) -> NoReturn:
    """Run a benchmark's ``main`` with SIGTERM and SIGHUP stopping it like Ctrl-C, and exit
    with its status (130 when interrupted: every server was stopped by a ``finally``)."""
    stop_on_signals()
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        raise SystemExit(130) from None


# -- processes --------------------------------------------------------------------------------


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies over all CPUs from /proc/stat, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(x) for x in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_fraction(seconds: float = 1.0) -> float | None:
    """How busy the machine is before a run; other work there makes the figures noisy."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def cpu_plan() -> tuple[list[str], list[str]]:
    """``taskset`` prefixes for the server and the load generator, or none on one CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    taskset = shutil.which("taskset")
    if len(cpus) < 2 or taskset is None:
        return [], []
    return [taskset, "-c", str(cpus[0])], [taskset, "-c", ",".join(map(str, cpus[1:]))]


def rapport_command() -> list[str]:
    script = Path(sys.executable).with_name("rapport")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "service.cli.main"]


def server_command(server: str, port: int) -> list[str]:
    if server == "bare":
        return [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port)]
    return [
        *rapport_command(),
        *("serve", "--no-migrate", "--no-access-log", "--host", HOST, "--port", str(port)),
    ]


def rapport_env(database: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["RAPPORT_DATABASE_URL"] = f"sqlite:///{database}"
    env["RAPPORT_LOG_LEVEL"] = "warning"
    return env


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [*rapport_command(), "migrate"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rapport migrate failed:\n{done.stderr[-2000:]}")


def create_api_key(env: dict[str, str]) -> str:
    """A throwaway key on the temporary database: /v1/instruments needs a bearer token."""
    done = subprocess.run(
        [*rapport_command(), "create-api-key", "--tenant", "bench"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"rapport create-api-key failed:\n{done.stderr[-2000:]}")
    return lines[-1].strip()  # the token is the last line


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def wait_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {START_TIMEOUT_S:g} s:\n{_tail(log)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's own process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        pass


@contextmanager
def serving(server: str, env: dict[str, str], prefix: list[str], workdir: Path) -> Iterator[str]:
    """Start one server, wait until it answers /healthz, yield its base URL, always stop it."""
    with started(server, env, prefix, workdir) as (base_url, _):
        yield base_url


@contextmanager
def started(
    server: str, env: dict[str, str], prefix: list[str], workdir: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``serving``, yielding the process too (benchmarks read its CPU time)."""
    port = free_port()
    log = workdir / f"{server}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*prefix, *server_command(server, port)],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches only it
        )
    try:
        base_url = f"http://{HOST}:{port}"
        wait_healthy(process, base_url, log)
        yield base_url, process
    finally:
        stop(process)


# -- load -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payload:
    """What every request sends: the same body and headers to both servers."""

    body: str
    headers: dict[str, str]

    def wrk_script(self) -> str:
        lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in self.headers.items()]
        return WRK_SCRIPT.format(headers="\n".join(lines), body=self.body)


def payload(instrument: str, token: str) -> Payload:
    """The same complete administration the scorer benchmark times, as compact JSON.

    The bare app ignores the Authorization header; sending it to both keeps requests equal.
    """
    answers = complete_responses(load_catalogue().get(instrument))
    body = json.dumps({"responses": answers}, separators=(",", ":"))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return Payload(body, headers)


def check_once(url: str, p: Payload) -> int:
    """POST once and fail loudly unless it is a 200 JSON answer; returns the body size."""
    request = urllib.request.Request(url, data=p.body.encode(), headers=p.headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            content = response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{url} answered {exc.code}: {exc.read()[:500]!r}") from None
    json.loads(content)
    return len(content)


def wrk(
    prefix: list[str], url: str, script: Path, seconds: float, connections: int, threads: int
) -> dict[str, Any]:
    """Run wrk with a Lua script whose ``done`` hook prints ``RESULT {json}``; that JSON.
    Bounded by a timeout; a failure or a missing result line raises."""
    command = [
        *prefix,
        *("wrk", "-t", str(threads), "-c", str(connections)),
        *("-d", f"{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(script)),
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return raw


def choose_tool(preference: str) -> str:
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "httpx"
    if preference == "wrk" and not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install -y wrk), use --loadgen httpx")
    return preference


@dataclass(frozen=True, slots=True)
class Load:
    """How to drive a server: the tool, its CPU prefix, the request and the wrk script."""

    tool: str
    prefix: list[str]
    payload: Payload
    script: Path
    settings: BenchSettings

    def run(self, url: str, seconds: float) -> LoadResult:
        if self.tool == "wrk":
            return self._wrk(url, seconds)
        return self._httpx(url, seconds)

    def _wrk(self, url: str, seconds: float) -> LoadResult:
        s = self.settings
        raw = wrk(self.prefix, url, self.script, seconds, s.connections, s.threads)
        return LoadResult(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            errors=raw["socket_errors"] + raw["status_errors"],
            p50_ms=raw["p50_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
        )

    def _httpx(self, url: str, seconds: float) -> LoadResult:
        headers = [f"--header={k}: {v}" for k, v in self.payload.headers.items()]
        command = [
            *self.prefix,
            *(sys.executable, str(BENCH / "loadgen.py"), "--url", url),
            *("--body", self.payload.body, *headers),
            *("--connections", str(self.settings.connections), "--duration", str(seconds)),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"loadgen failed ({done.returncode}):\n{done.stderr[-2000:]}")
        raw = json.loads(done.stdout.strip().splitlines()[-1])
        return LoadResult(
            raw["requests"], raw["seconds"], raw["errors"], raw["p50_ms"], raw["p99_ms"]
        )


# -- the benchmark ---------------------------------------------------------------------------


def schedule(rounds: int) -> list[tuple[int, str]]:
    """bare, rapport, bare, rapport, ...: alternation spreads drift over both servers."""
    return [(r, server) for r in range(1, rounds + 1) for server in SERVERS]


def run(settings: BenchSettings | None = None, echo: bool = True) -> EndpointFigures:
    s = settings or BenchSettings()
    tool = choose_tool(s.loadgen)
    server_prefix, load_prefix = cpu_plan()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp:
        workdir = Path(tmp)
        env = rapport_env(workdir / "rapport.db")
        migrate(env)
        request = payload(s.instrument, create_api_key(env))
        script = workdir / "post.lua"
        script.write_text(request.wrk_script())
        load = Load(tool, load_prefix, request, script, s)
        for round_, server in schedule(s.rounds):
            if echo:
                warn_if_busy()
            with serving(server, env, server_prefix, workdir) as base_url:
                url = f"{base_url}/v1/instruments/{s.instrument}/score"
                size = check_once(url, request)
                if s.warmup > 0:
                    load.run(url, s.warmup)
                result = load.run(url, s.duration)
            runs.append(Run(server, round_, result))
            if echo:
                print(format_run(runs[-1], size), flush=True)
    return EndpointFigures(s, tool, bool(server_prefix), tuple(runs))


def warn_if_busy(threshold: float = 0.15) -> None:
    busy = busy_fraction()
    if busy is not None and busy > threshold:
        print(f"  note: the machine was {busy:.0%} busy before this run; expect noise", flush=True)


def _ms(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}"


def format_run(run: Run, response_bytes: int | None = None) -> str:
    r = run.result
    size = f"  response {response_bytes} B" if response_bytes is not None else ""
    errors = f"  ERRORS {r.errors}" if r.errors else ""
    return (
        f"  round {run.round} {run.server:<8} {r.rps:9.0f} req/s  p50 {_ms(r.p50_ms)} ms"
        f"  p99 {_ms(r.p99_ms)} ms  ({r.requests} requests in {r.seconds:.1f} s){size}{errors}"
    )


def header(s: BenchSettings, tool: str, pinned: bool) -> str:
    pinning = "server and load generator pinned to separate CPUs" if pinned else "no pinning"
    return (
        f"POST /v1/instruments/{s.instrument}/score: {tool}, {s.connections} connections, "
        f"{s.threads} thread(s), {s.duration:g} s per run after {s.warmup:g} s warm-up, "
        f"{s.rounds} round(s); {pinning}"
    )


def summary(f: EndpointFigures) -> list[str]:
    verdict = "met" if f.ratio >= TARGET_RATIO else "NOT met"
    lines = [
        f"  {server:<8} mean {f.mean_rps(server):9.0f} req/s  "
        f"median p50 {_ms(f.median_p50_ms(server))} ms  p99 {_ms(f.median_p99_ms(server))} ms"
        for server in SERVERS
    ]
    per_round = ", ".join(f"{x:.2f}" for x in f.round_ratios())
    lines.append(f"  ratio rapport/bare {f.ratio:.2f} (per round: {per_round})")
    lines.append(f"  target: ratio >= {TARGET_RATIO:.2f}: {verdict}")
    if f.tool == "httpx":
        lines.append("  note: the Python load generator may be the bottleneck; prefer wrk")
    if any(r.result.errors for r in f.runs):
        lines.append("  WARNING: some requests failed; the figures are not comparable")
    return lines


def settings_from(argv: list[str] | None = None) -> BenchSettings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    d = BenchSettings()
    parser.add_argument("--instrument", default=d.instrument)
    parser.add_argument("--duration", type=float, default=d.duration, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=d.warmup, help="seconds before a run")
    parser.add_argument("--rounds", type=int, default=d.rounds, help="bare+rapport pairs")
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--threads", type=int, default=d.threads, help="wrk threads")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "httpx"), default=d.loadgen)
    a = parser.parse_args(argv)
    return BenchSettings(
        a.instrument, a.duration, a.warmup, a.rounds, a.connections, a.threads, a.loadgen
    )


def main() -> int:
    s = settings_from()
    _, load_prefix = cpu_plan()
    print(header(s, choose_tool(s.loadgen), bool(load_prefix)), flush=True)
    figures = run(s)
    print("\n".join(summary(figures)))
    return 0


if __name__ == "__main__":
    run_main(main)
