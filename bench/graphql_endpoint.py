"""GraphQL beside REST on one real server: the ``score`` query, and a page of 200 administrations.

One ``rapport serve`` process on a temporary, migrated SQLite file (``--backends postgres``
for a throwaway PostgreSQL database) serves, in the same run, driven by ``wrk`` (closed loop,
50 connections, server and load generator pinned to separate CPUs as in
``score_endpoint.py``):

* ``rest score``: ``POST /v1/instruments/phq-9/score`` with a complete PHQ-9;
* ``graphql score``: ``POST /graphql`` with the contract's ``score`` query for the same
  answers, passed as a variable, selecting every field REST returns (scales, flags,
  criteria, provenance);
* ``graphql page``: ``POST /graphql`` with ``{ dyad(id: "...") { administrations(first:
  200) { id session score { total band } } } }`` on a dyad holding 200 administrations
  (stored beforehand through the REST API);
* ``rest page``: ``GET /v1/dyads/{id}/administrations?limit=200``, the same 200
  administrations through REST (full bodies), for context.

Runs alternate: round 1 in the order above, round 2 reversed. Each response kind is checked
once before its run (status 200, no GraphQL ``errors``, 200 administrations on a page).

Targets (issue 5): GraphQL score throughput at least 40 % of REST's in the same run; a page of
200 administrations through GraphQL at least 1,000 administrations/s (200 x requests/s).
Figures are printed, nothing is asserted. Only 127.0.0.1 is used.

Run: ``.venv/bin/python bench/graphql_endpoint.py [--duration 10] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import json
import statistics
from contextlib import closing
from dataclasses import dataclass, replace

import backends as db
import httpx
from score_endpoint import (
    cpu_plan,
    create_api_key,
    run_main,
    warn_if_busy,
)
from scorer import complete_responses
from wrkload import Requests, WrkResult, run_wrk

from service.domain.instruments.catalogue import load_catalogue

TARGET_SCORE_RATIO = 0.40
TARGET_PAGE_ADMINISTRATIONS_PER_S = 1000.0
PAGE = 200
KINDS = ("rest score", "graphql score", "graphql page", "rest page")

SCORE_QUERY = """\
query Score($responses: [ResponseInput!]!) {
  score(instrument: "phq-9", responses: $responses) {
    instrument total band clinical prorated missing criteria
    scales { name title score band clinical metric mean prorated missing }
    flags { code message items scale source }
    provenance { definitionId definitionVersion scorerVersion population populationDefaulted }
  }
}"""
PAGE_QUERY = (
    '{ dyad(id: "%s") { administrations(first: 200) { id session score { total band } } } }'
)


@dataclass(frozen=True, slots=True)
class GraphqlSettings:
    backends: tuple[str, ...] = ("sqlite",)
    duration: float = 10.0
    warmup: float = 3.0
    rounds: int = 2
    connections: int = 50
    pg_admin_url: str = db.PG_ADMIN_URL


@dataclass(frozen=True, slots=True)
class Run:
    backend: str
    round: int
    kind: str
    result: WrkResult
    cpu_us: float | None = None  # server process CPU per response, microseconds

    @property
    def administrations_per_s(self) -> float | None:
        return PAGE * self.result.rps if self.kind.endswith("page") else None


def requests_for(token: str, dyad: str) -> dict[str, Requests]:
    answers = complete_responses(load_catalogue().get("phq-9"))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    rest_score = json.dumps({"responses": answers}, separators=(",", ":"))
    gql_score = json.dumps(
        {
            "query": SCORE_QUERY,
            "variables": {"responses": [{"item": k, "value": v} for k, v in answers.items()]},
        },
        separators=(",", ":"),
    )
    gql_page = json.dumps({"query": PAGE_QUERY % dyad}, separators=(",", ":"))
    get_headers = {"Authorization": f"Bearer {token}"}
    return {
        "rest score": Requests(("/v1/instruments/phq-9/score",), headers, rest_score),
        "graphql score": Requests(("/graphql",), headers, gql_score),
        "graphql page": Requests(("/graphql",), headers, gql_page),
        "rest page": Requests(
            (f"/v1/dyads/{dyad}/administrations?limit={PAGE}",), get_headers, "", method="GET"
        ),
    }


def check_once(base_url: str, kind: str, r: Requests) -> int:
    """One request of the kind; fails loudly unless it is a good answer. Returns its size."""
    with httpx.Client(base_url=base_url, headers=r.headers, timeout=30) as client:
        if r.method == "GET":
            response = client.get(r.paths[0])
        else:
            response = client.post(r.paths[0], content=r.prefix.encode())
    if response.status_code != 200:
        raise RuntimeError(f"{kind} answered {response.status_code}: {response.text[:500]}")
    body = response.json()
    if "errors" in body:
        raise RuntimeError(f"{kind} answered errors: {body['errors']}")
    if kind == "graphql page":
        count = len(body["data"]["dyad"]["administrations"])
    elif kind == "rest page":
        count = len(body["items"])
    else:
        count = PAGE
    if count != PAGE:
        raise RuntimeError(f"{kind} returned {count} administrations, not {PAGE}")
    return len(response.content)


def seed_dyad(base_url: str, token: str) -> str:
    """A dyad with 200 PHQ-9 administrations (sessions 1..200), stored through REST."""
    api = db.Api(base_url, token)
    try:
        patient, practitioner = api.people("graphql")
        dyad = api.dyads(patient, practitioner, 1)[0]
        answers = complete_responses(load_catalogue().get("phq-9"))
        for session in range(1, PAGE + 1):
            body = {"instrument": "phq-9", "session": session, "responses": answers}
            api.post(f"/v1/dyads/{dyad}/administrations", body)
        return dyad
    finally:
        api.close()


def schedule(rounds: int) -> list[tuple[int, str]]:
    order: list[tuple[int, str]] = []
    for r in range(1, rounds + 1):
        kinds = KINDS if r % 2 else tuple(reversed(KINDS))
        order += [(r, k) for k in kinds]
    return order


def run(s: GraphqlSettings, echo: bool = True) -> list[Run]:
    runs: list[Run] = []
    server_prefix, load_prefix = cpu_plan()
    databases = db.migrated_databases(s.backends, s.pg_admin_url, "rapport-bench-graphql-")
    with closing(databases):
        for each in databases:
            backend, env, workdir = each.backend, each.env, each.workdir
            token = create_api_key(env)
            with db.rapport_server(env, server_prefix, workdir) as server:
                base_url = server.base_url
                dyad = seed_dyad(base_url, token)
                plans = requests_for(token, dyad)
                sizes = {k: check_once(base_url, k, r) for k, r in plans.items()}
                for round_, kind in schedule(s.rounds):
                    if echo:
                        warn_if_busy()
                    script = workdir / "load.lua"
                    if s.warmup > 0:
                        run_wrk(
                            load_prefix, base_url, plans[kind], script, s.warmup,
                            s.connections,
                        )  # fmt: skip
                    before = server.cpu()
                    result = run_wrk(
                        load_prefix, base_url, plans[kind], script, s.duration, s.connections
                    )
                    used = server.cpu() - before
                    cpu = used / result.requests * 1e6 if result.requests else None
                    runs.append(Run(backend, round_, kind, result, cpu))
                    if echo:
                        print(format_run(runs[-1], sizes[kind]), flush=True)
    return runs


def _ms(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.2f}"


def format_run(run: Run, size: int | None = None) -> str:
    r = run.result
    per_s = run.administrations_per_s
    admins = f"  = {per_s:7.0f} administrations/s" if per_s is not None else ""
    errors = f"  ERRORS {r.errors}" if r.errors else ""
    response = f"  response {size} B" if size is not None else ""
    cpu = f"  server cpu {run.cpu_us:6.0f} us/req" if run.cpu_us is not None else ""
    return (
        f"  {run.backend:<8} round {run.round} {run.kind:<13} {r.rps:7.0f} req/s  "
        f"p50 {_ms(r.p50_ms)} ms  p99 {_ms(r.p99_ms)} ms{cpu}{admins}{response}{errors}"
    )


def summary(runs: list[Run], s: GraphqlSettings) -> list[str]:
    lines = []
    for backend in s.backends:
        mine = [r for r in runs if r.backend == backend]
        if not mine:
            continue

        def mean(kind: str, mine: list[Run] = mine) -> float:
            return statistics.fmean(r.result.rps for r in mine if r.kind == kind)

        def cpu(kind: str, mine: list[Run] = mine) -> float:
            values = [r.cpu_us for r in mine if r.kind == kind and r.cpu_us is not None]
            return statistics.fmean(values) if values else 0.0

        def per_round(a: str, b: str, mine: list[Run] = mine) -> list[float]:
            return [
                x.result.rps / y.result.rps
                for x in mine
                for y in mine
                if x.kind == a and y.kind == b and x.round == y.round and y.result.rps
            ]

        rest, gql = mean("rest score"), mean("graphql score")
        ratio = gql / rest if rest else 0.0
        rounds = ", ".join(f"{x:.2f}" for x in per_round("graphql score", "rest score"))
        verdict = "met" if ratio >= TARGET_SCORE_RATIO else "NOT met"
        lines.append(
            f"  {backend}: score   REST {rest:6.0f} req/s, GraphQL {gql:6.0f} req/s: ratio "
            f"{ratio:.2f} (per round {rounds}) (target >= {TARGET_SCORE_RATIO:.2f}: {verdict}); "
            f"server cpu REST {cpu('rest score'):.0f} us, GraphQL {cpu('graphql score'):.0f} us "
            f"per request (REST/GraphQL {cpu('rest score') / (cpu('graphql score') or 1):.2f})"
        )
        page, rest_page = mean("graphql page"), mean("rest page")
        verdict = "met" if PAGE * page >= TARGET_PAGE_ADMINISTRATIONS_PER_S else "NOT met"
        lines.append(
            f"  {backend}: page of {PAGE}: GraphQL {page:5.1f} req/s = {PAGE * page:6.0f} "
            f"administrations/s (target >= {TARGET_PAGE_ADMINISTRATIONS_PER_S:.0f}: {verdict}); "
            f"REST {rest_page:5.1f} req/s = {PAGE * rest_page:6.0f}/s; GraphQL/REST "
            f"{page / rest_page if rest_page else 0:.2f}; server cpu per page GraphQL "
            f"{cpu('graphql page') / 1000:.1f} ms, REST {cpu('rest page') / 1000:.1f} ms"
        )
        if any(r.result.errors for r in mine):
            lines.append("  WARNING: some requests failed; the figures are not comparable")
    return lines


def header(s: GraphqlSettings) -> str:
    _, load_prefix = cpu_plan()
    pinning = "server and wrk pinned to separate CPUs" if load_prefix else "no pinning"
    return (
        f"GraphQL vs REST on one server ({', '.join(s.backends)}): wrk {s.connections} "
        f"connections, {s.duration:g} s per run after {s.warmup:g} s warm-up, {s.rounds} "
        f"round(s); {pinning}"
    )


def settings_from(argv: list[str] | None = None) -> GraphqlSettings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    d = GraphqlSettings()
    parser.add_argument("--backends", default=",".join(d.backends), help="sqlite,postgres")
    parser.add_argument("--duration", type=float, default=d.duration)
    parser.add_argument("--warmup", type=float, default=d.warmup)
    parser.add_argument("--rounds", type=int, default=d.rounds)
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--pg-admin-url", default=d.pg_admin_url)
    a = parser.parse_args(argv)
    chosen = db.parse_backends(a.backends, parser)
    return replace(
        d, backends=chosen, duration=a.duration, warmup=a.warmup, rounds=a.rounds,
        connections=a.connections, pg_admin_url=a.pg_admin_url,
    )  # fmt: skip


def main() -> int:
    s = settings_from()
    print(header(s), flush=True)
    runs = run(s)
    print("\nSummary:")
    print("\n".join(summary(runs, s)))
    return 0


if __name__ == "__main__":
    run_main(main)
