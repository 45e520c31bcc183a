"""Run every benchmark and print a summary; this is what ``make bench`` calls.

1. ``scorer.py``: the scorer alone, microseconds per administration, beside baselines.
2. ``score_endpoint.py``: POST /v1/instruments/phq-9/score on ``rapport serve`` beside a bare
   FastAPI app validating the same body, both on uvicorn, driven by ``wrk`` (or ``loadgen.py``).

Figures are printed, never asserted; the targets are reported as met or not met.

Run: ``.venv/bin/python bench/run_all.py [--quick] [--only scorer|endpoint]``
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import score_endpoint
import scorer


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Rapport benchmarks.")
    parser.add_argument(
        "--quick", action="store_true", help="short runs to check the harness, not to quote"
    )
    parser.add_argument("--only", choices=("scorer", "endpoint"), help="run one benchmark")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "httpx"), default="auto")
    return parser.parse_args()


def endpoint_settings(quick: bool, loadgen: str) -> score_endpoint.BenchSettings:
    if quick:
        return score_endpoint.BenchSettings(duration=3, warmup=1, rounds=1, loadgen=loadgen)
    return score_endpoint.BenchSettings(loadgen=loadgen)


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
    score_endpoint.stop_on_signals()
    args = _args()
    repeats, seconds = (3, 0.05) if args.quick else (7, 0.2)
    started = time.monotonic()
    print(f"Rapport benchmarks: Python {platform.python_version()} on {platform.machine()}")
    summary: list[str] = []
    if args.only in (None, "scorer"):
        print()
        results = scorer.run(scorer.INSTRUMENTS, repeats, seconds)
        print(scorer.report(results, repeats), flush=True)
        summary += scorer_summary(results)
    if args.only in (None, "endpoint"):
        s = endpoint_settings(args.quick, args.loadgen)
        tool = score_endpoint.choose_tool(s.loadgen)
        _, load_prefix = score_endpoint.cpu_plan()
        print()
        print(score_endpoint.header(s, tool, bool(load_prefix)), flush=True)
        figures = score_endpoint.run(s)
        summary += score_endpoint.summary(figures)
    print(f"\nSummary ({time.monotonic() - started:.0f} s{', quick' if args.quick else ''}):")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        sys.exit(130)
