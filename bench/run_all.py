"""Run every benchmark and print a summary; this is what ``make bench`` calls.

1. ``scorer.py``: the scorer alone, microseconds per administration, beside baselines.
2. ``score_endpoint.py``: POST /v1/instruments/phq-9/score on ``rapport serve`` beside a bare
   FastAPI app validating the same body, both on uvicorn, driven by ``wrk`` (or ``loadgen.py``).
3. ``store_endpoint.py``: POST /v1/dyads/{id}/administrations on SQLite and PostgreSQL beside
   the score endpoint, closed loop (wrk) and open loop at a fixed rate (``openloop.py``),
   alerts on and off, stored rows checked against the 201 responses.
4. ``insights.py``: server time of progress, concordance and calibration on a seeded record.
5. ``graphql_endpoint.py``: the GraphQL score query and a page of 200 administrations beside
   their REST equivalents.
6. ``graphql_cost.py``: /healthz latency beside the most expensive GraphQL document the
   limits admit, running in a loop, and alone.
7. ``charts.py``: a 100-session dyad's charts drawn afresh and from the drawing cache, beside
   the progress JSON they are drawn from (target: at most 50 ms per SVG drawn afresh).

Figures are printed, never asserted; the targets are reported as met or not met.

Run: ``.venv/bin/python bench/run_all.py [--quick] [--only NAME[,NAME...]]`` where the names
are scorer, endpoint, store, insights, graphql, cost, charts. ``--backends sqlite`` skips
PostgreSQL.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace

import backends
import charts
import graphql_cost
import graphql_endpoint
import insights
import score_endpoint
import scorer
import store_endpoint

NAMES = ("scorer", "endpoint", "store", "insights", "graphql", "cost", "charts")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Rapport benchmarks.")
    parser.add_argument(
        "--quick", action="store_true", help="short runs to check the harness, not to quote"
    )
    parser.add_argument("--only", help=f"comma-separated benchmarks to run, of: {', '.join(NAMES)}")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "httpx"), default="auto")
    parser.add_argument(
        "--backends", default=",".join(backends.BACKENDS), help="for store and insights"
    )
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else set(NAMES)
    unknown = chosen - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    args.only = chosen
    args.backends = tuple(b for b in args.backends.split(",") if b)
    if set(args.backends) - set(backends.BACKENDS):
        parser.error(f"--backends: choose from {', '.join(backends.BACKENDS)}")
    return args


def endpoint_settings(quick: bool, loadgen: str) -> score_endpoint.BenchSettings:
    if quick:
        return score_endpoint.BenchSettings(duration=3, warmup=1, rounds=1, loadgen=loadgen)
    return score_endpoint.BenchSettings(loadgen=loadgen)


def store_settings(quick: bool, chosen: tuple[str, ...]) -> store_endpoint.StoreSettings:
    s = store_endpoint.StoreSettings(backends=chosen)
    if quick:
        return replace(s, duration=3, warmup=1, rounds=1, dyads=20)
    return s


def insights_settings(quick: bool, chosen: tuple[str, ...]) -> insights.InsightsSettings:
    s = insights.InsightsSettings(backends=chosen)
    if quick:
        return replace(s, seconds=0.5, warmup=2, calibration_dyads=20)
    return s


def graphql_settings(quick: bool) -> graphql_endpoint.GraphqlSettings:
    if quick:
        return graphql_endpoint.GraphqlSettings(duration=3, warmup=1, rounds=1)
    return graphql_endpoint.GraphqlSettings()


def charts_settings(quick: bool) -> charts.ChartSettings:
    if quick:
        return charts.ChartSettings(seconds=0.5)
    return charts.ChartSettings()


def scorer_summary(results: list[scorer.InstrumentFigures]) -> list[str]:
    lines = []
    for f in results:
        loop = f.get(scorer.REFERENCE)
        target = ""
        if f.target_us is not None:
            verdict = "met" if f.scorer.median_us <= f.target_us else "NOT met"
            target = f"  (target <= {f.target_us:g} us: {verdict})"
        lines.append(
            f"  scorer {f.instrument:<8} {f.scorer.median_us:7.2f} us median, "
            f"{f.scorer.best_us:7.2f} us best; baseline loop {loop.median_us:5.2f} us; "
            f"x{f.scorer.ratio:.1f}{target}"
        )
    return lines


def main() -> int:
    args = _args()
    repeats, seconds = (3, 0.05) if args.quick else (7, 0.2)
    started = time.monotonic()
    print(f"Rapport benchmarks: Python {platform.python_version()} on {platform.machine()}")
    summary: list[str] = []
    if "scorer" in args.only:
        print()
        results = scorer.run(scorer.INSTRUMENTS, repeats, seconds)
        print(scorer.report(results, repeats), flush=True)
        summary += scorer_summary(results)
    if "endpoint" in args.only:
        s = endpoint_settings(args.quick, args.loadgen)
        tool = score_endpoint.choose_tool(s.loadgen)
        _, load_prefix = score_endpoint.cpu_plan()
        print()
        print(score_endpoint.header(s, tool, bool(load_prefix)), flush=True)
        figures = score_endpoint.run(s)
        summary += score_endpoint.summary(figures)
    if "store" in args.only:
        ss = store_settings(args.quick, args.backends)
        print()
        print(store_endpoint.header(ss), flush=True)
        summary += ["  store endpoint:", *store_endpoint.summary(store_endpoint.run(ss), ss)]
    if "insights" in args.only:
        si = insights_settings(args.quick, args.backends)
        print()
        print(insights.header(si), flush=True)
        summary += ["  insights:", *insights.summary(insights.run(si))]
    if "graphql" in args.only:
        sg = graphql_settings(args.quick)
        print()
        print(graphql_endpoint.header(sg), flush=True)
        summary += ["  graphql:", *graphql_endpoint.summary(graphql_endpoint.run(sg), sg)]
    if "cost" in args.only:
        print("\n/healthz beside the heaviest admitted GraphQL document (graphql_cost.py)")
        duration = 3.0 if args.quick else 10.0
        summary += ["  graphql cost:", *graphql_cost.run(args.backends, duration)]
    if "charts" in args.only:
        sc = charts_settings(args.quick)
        print(f"\nCharts of a {sc.sessions}-session dyad, in-process (charts.py)", flush=True)
        summary += ["  charts:", *charts.summary(charts.run(sc))]
    print(f"\nSummary ({time.monotonic() - started:.0f} s{', quick' if args.quick else ''}):")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    score_endpoint.run_main(main)
