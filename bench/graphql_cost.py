"""/healthz while the most expensive GraphQL document the limits admit runs in a loop (16.1).

Thirty aliases of ``dyads(first: 50) { administrations { responses score { total band } } }``
once made a 52 MB answer in 22 s, and /healthz waited as long. The guard now bounds a
document's cost (service/api/graphql/guard.py: rows it can touch, multiplied through
aliases and nesting by each list's page size, at most 10,000), every nested list is
paginated, and the answer is serialised off the event loop.

One ``rapport serve`` process on a temporary, migrated SQLite file (``--backends postgres``
for a throwaway PostgreSQL database) holds a tenant with 200 dyads of 24 PHQ-9
administrations each, stored through REST. In the same run:

1. the attack of the issue is sent once: it must be refused (``query-too-complex``);
2. ``/healthz`` alone: one request every 5 ms for ``--duration`` seconds, latency p50/p99;
3. the same while ``--clients`` threads post, back to back, the most expensive document the
   limits admit: ``dyads(first: 200) { administrations(first: 24) { responses score { total
   band } } }`` (cost 200 x (1 + 24 x 2) = 9,800 rows: 4,800 administrations, every row of
   the tenant), its answer size and time reported.

Target (issue 16.1): /healthz p99 under the loop below 50 ms. Figures are printed, nothing is
asserted. Only 127.0.0.1 is used.

Run: ``.venv/bin/python bench/graphql_cost.py [--duration 10] [--clients 2]``
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from contextlib import closing
from dataclasses import dataclass

import backends as db
import httpx
from score_endpoint import cpu_plan, create_api_key, run_main
from scorer import complete_responses

from service.domain.instruments.catalogue import load_catalogue

DYADS = 200
PER_DYAD = 24
TARGET_P99_MS = 50.0
HEAVIEST = (
    "{ dyads(first: 200) { id administrations(first: 24) "
    "{ id session responses score { total band } } } }"
)
ATTACK = (
    "{ "
    + " ".join(
        f"a{i}: dyads(first: 50) {{ administrations {{ responses score {{ total band }} }} }}"
        for i in range(30)
    )
    + " }"
)


@dataclass(frozen=True, slots=True)
class Latencies:
    label: str
    samples: list[float]  # seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"  {self.label:<34} n={len(self.samples):5d}  p50 {self.pct(0.50):7.2f} ms"
            f"  p99 {self.pct(0.99):7.2f} ms  max {max(self.samples) * 1000:8.2f} ms"
        )


def seed(base_url: str, token: str) -> None:
    api = db.Api(base_url, token)
    answers = complete_responses(load_catalogue().get("phq-9"))
    try:
        patient, practitioner = api.people("cost")
        for dyad in api.dyads(patient, practitioner, DYADS):
            for session in range(1, PER_DYAD + 1):
                body = {"instrument": "phq-9", "session": session, "responses": answers}
                api.post(f"/v1/dyads/{dyad}/administrations", body)
    finally:
        api.close()


def healthz(base_url: str, seconds: float, label: str) -> Latencies:
    samples: list[float] = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            started = time.perf_counter()
            response = client.get("/healthz")
            samples.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"/healthz answered {response.status_code}")
            time.sleep(0.005)
    return Latencies(label, samples)


class Heavy:
    """Threads posting the heaviest admitted document back to back until stopped."""

    def __init__(self, base_url: str, token: str, clients: int) -> None:
        self.base_url, self.token = base_url, token
        self.stop = threading.Event()
        self.times: list[float] = []
        self.sizes: list[int] = []
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(clients)]

    def loop(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=120) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                response = client.post("/graphql", json={"query": HEAVIEST})
                self.times.append(time.perf_counter() - started)
                self.sizes.append(len(response.content))
                if response.status_code != 200 or "errors" in response.json():
                    self.failures.append(response.text[:300])

    def __enter__(self) -> Heavy:
        for thread in self.threads:
            thread.start()
        time.sleep(1.0)  # every client has a document in flight
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def check(base_url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        refused = client.post("/graphql", json={"query": ATTACK}).json()
        codes = [e.get("extensions", {}).get("code") for e in refused.get("errors", [])]
        print(f"  the issue's 30-alias document: {codes} ({refused['errors'][0]['message']})")
        if refused.get("data") is not None or "query-too-complex" not in codes:
            raise RuntimeError(f"the attack was not refused: {str(refused)[:300]}")
        heaviest = client.post("/graphql", json={"query": HEAVIEST}).json()
        if "errors" in heaviest:
            raise RuntimeError(f"the heaviest admitted document failed: {heaviest['errors']}")
        rows = sum(len(d["administrations"]) for d in heaviest["data"]["dyads"])
        print(f"  heaviest admitted document: {len(heaviest['data']['dyads'])} dyads, {rows} rows")
        return rows


def run(
    chosen: tuple[str, ...] = ("sqlite",), duration: float = 10.0, clients: int = 2
) -> list[str]:
    """Runs the benchmark on each backend; returns the summary lines (printed as it goes)."""
    server_prefix, _ = cpu_plan()
    databases = db.migrated_databases(chosen, db.PG_ADMIN_URL, "rapport-bench-cost-")
    summary: list[str] = []
    with closing(databases):
        for each in databases:
            print(f"{each.backend}: seeding {DYADS} dyads x {PER_DYAD} administrations", flush=True)
            token = create_api_key(each.env)
            with db.rapport_server(each.env, server_prefix, each.workdir) as server:
                seed(server.base_url, token)
                check(server.base_url, token)
                alone = healthz(server.base_url, duration, "/healthz alone")
                print(alone.line(), flush=True)
                with Heavy(server.base_url, token, clients) as heavy:
                    loaded = healthz(server.base_url, duration, f"/healthz beside {clients} heavy")
                print(loaded.line(), flush=True)
                mean_s = statistics.fmean(heavy.times)
                size = statistics.fmean(heavy.sizes) / 1e6
                print(
                    f"  heaviest document: {len(heavy.times)} answers, mean {mean_s * 1000:.0f} ms,"
                    f" {size:.2f} MB each; failures {len(heavy.failures)}",
                    flush=True,
                )
                ok = loaded.pct(0.99) < TARGET_P99_MS and not heavy.failures
                verdict = "met" if ok else "NOT met"
                summary.append(
                    f"  {each.backend}: /healthz p99 {alone.pct(0.99):.1f} ms alone, "
                    f"{loaded.pct(0.99):.1f} ms beside the heaviest admitted document "
                    f"({loaded.pct(0.99) / alone.pct(0.99):.1f}x; target < {TARGET_P99_MS:.0f} "
                    f"ms: {verdict})"
                )
                print(summary[-1], flush=True)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    summary = run(db.parse_backends(args.backends, parser), args.duration, args.clients)
    return 0 if all(line.endswith(": met)") for line in summary) else 1


if __name__ == "__main__":
    run_main(main)
