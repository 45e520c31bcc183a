"""Time the scorer alone: microseconds per administration, beside baselines from the same run.

For each instrument the benchmark builds one complete administration (every scored item
answered) and times ``Scorer(definition).score(responses)``, plus three baselines measured in
the same process with the same harness:

* ``empty call``: calling a no-op through the harness (the floor every figure includes);
* ``build dict``: building the same dict of responses from the item ids and answers;
* ``loop over items``: a trivial validating loop (type check, range check, sum) over the items.

The scorer figure is therefore readable as a multiple of plain Python work on this machine.
Timings use ``time.perf_counter_ns`` over many iterations, several repeats, garbage collection
paused as ``timeit`` does; the median and the best repeat are printed. Nothing is asserted.

Run: ``.venv/bin/python bench/scorer.py [--repeats 7] [--seconds 0.2]``
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from service.app.rendering import score_dict
from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import InstrumentDefinition
from service.domain.scoring.scorer import Scorer

INSTRUMENTS = ("phq-9", "core-om")
TARGET_US: dict[str, float] = {"core-om": 20.0}  # from the performance issue
MAX_ITERATIONS = 1 << 22  # bounds calibration whatever the clock says
REFERENCE = "loop over items"  # the baseline every ratio is read against


@dataclass(frozen=True, slots=True)
class Timing:
    label: str
    median_us: float
    best_us: float
    iterations: int
    ratio: float  # median over repeats of (this repeat / the reference's interleaved repeat)


@dataclass(frozen=True, slots=True)
class InstrumentFigures:
    instrument: str
    items: int
    timings: tuple[Timing, ...]  # the scorer first, then the baselines, then extras
    target_us: float | None

    @property
    def scorer(self) -> Timing:
        return self.timings[0]

    def get(self, label: str) -> Timing:
        return next(t for t in self.timings if t.label == label)


def complete_responses(definition: InstrumentDefinition) -> dict[str, object]:
    """Every scored item answered with a deterministic spread of in-range whole numbers."""
    answers: dict[str, object] = {}
    scored = [item for item in definition.items if item.scored]
    for n, item in enumerate(scored):
        low, high = int(item.response.min), int(item.response.max)
        answers[item.id] = low + n % (high - low + 1)
    return answers


def calibrate(fn: Callable[[], object], seconds: float) -> int:
    """Smallest power-of-two iteration count whose loop takes at least ``seconds`` (bounded)."""
    iterations = 1
    while iterations < MAX_ITERATIONS:
        if _loop_ns(fn, iterations) >= seconds * 1e9:
            break
        iterations *= 2
    return min(iterations, MAX_ITERATIONS)


def _loop_ns(fn: Callable[[], object], iterations: int) -> int:
    start = time.perf_counter_ns()
    for _ in range(iterations):
        fn()
    return time.perf_counter_ns() - start


def interleaved_ns(
    fns: Mapping[str, Callable[[], object]], iterations: Mapping[str, int], repeats: int
) -> dict[str, list[float]]:
    """Nanoseconds per call, repeat by repeat, timing every function in turn within a repeat.

    Interleaving puts a figure and its baseline under the same machine conditions (a shared VM
    drifts between fast and slow phases), so their per-repeat ratio is steadier than either.
    The cyclic garbage collector is paused, as ``timeit`` does.
    """
    samples: dict[str, list[float]] = {label: [] for label in fns}
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for label, fn in fns.items():
                samples[label].append(_loop_ns(fn, iterations[label]) / iterations[label])
    finally:
        if was_enabled:
            gc.enable()
    return samples


def measure(
    fns: Mapping[str, Callable[[], object]], reference: str, repeats: int, seconds: float
) -> tuple[Timing, ...]:
    iterations = {label: calibrate(fn, seconds) for label, fn in fns.items()}
    samples = interleaved_ns(fns, iterations, repeats)
    ref = samples[reference]
    return tuple(
        Timing(
            label,
            statistics.median(ns) / 1000,
            min(ns) / 1000,
            iterations[label],
            statistics.median(x / r for x, r in zip(ns, ref, strict=True)),
        )
        for label, ns in samples.items()
    )


def _noop() -> None:
    return None


def _build_dict(ids: tuple[str, ...], values: tuple[object, ...]) -> dict[str, object]:
    return dict(zip(ids, values, strict=True))


def _trivial_loop(responses: Mapping[str, object], low: float, high: float) -> float:
    total = 0.0
    for value in responses.values():
        if isinstance(value, int | float) and low <= value <= high:
            total += value
    return total


def _score_and_render(scorer: Scorer, responses: Mapping[str, object]) -> bytes:
    return orjson.dumps(score_dict(scorer.score(responses)))


def bench_instrument(
    definition: InstrumentDefinition, repeats: int, seconds: float
) -> InstrumentFigures:
    scorer = Scorer(definition)
    responses = complete_responses(definition)
    scorer.score(responses)  # fail fast on an invalid payload, before timing anything
    ids, values = tuple(responses), tuple(responses.values())
    low = min(item.response.min for item in definition.items)
    high = max(item.response.max for item in definition.items)
    fns: dict[str, Callable[[], object]] = {
        "scorer": functools.partial(scorer.score, responses),
        "empty call": _noop,
        "build dict": functools.partial(_build_dict, ids, values),
        REFERENCE: functools.partial(_trivial_loop, responses, low, high),
        "score + render JSON": functools.partial(_score_and_render, scorer, responses),
    }
    timings = measure(fns, REFERENCE, repeats, seconds)
    return InstrumentFigures(definition.id, len(responses), timings, TARGET_US.get(definition.id))


def run(
    instruments: tuple[str, ...] = INSTRUMENTS, repeats: int = 7, seconds: float = 0.2
) -> list[InstrumentFigures]:
    catalogue = load_catalogue()
    return [bench_instrument(catalogue.get(i), repeats, seconds) for i in instruments]


def format_figures(figures: InstrumentFigures) -> list[str]:
    lines = [f"{figures.instrument} ({figures.items} items answered)"]
    for t in figures.timings:
        lines.append(
            f"  {t.label:<20} median {t.median_us:8.2f} us  best {t.best_us:8.2f} us"
            f"  x{t.ratio:6.2f} loop  ({t.iterations} iterations)"
        )
    if figures.target_us is not None:
        verdict = "met" if figures.scorer.median_us <= figures.target_us else "NOT met"
        lines.append(f"  target: scorer <= {figures.target_us:g} us: {verdict} (median)")
    return lines


def report(results: list[InstrumentFigures], repeats: int) -> str:
    header = [
        f"Scorer alone: microseconds per administration, median and best of {repeats} "
        f"interleaved repeats; 'x loop' = median per-repeat ratio to '{REFERENCE}'"
    ]
    body = [line for figures in results for line in format_figures(figures)]
    return "\n".join(header + body)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats per figure")
    parser.add_argument("--seconds", type=float, default=0.2, help="minimum duration of one repeat")
    parser.add_argument("--instrument", action="append", help="instrument id (repeatable)")
    return parser.parse_args()


def main() -> int:
    args = _args()
    instruments = tuple(args.instrument) if args.instrument else INSTRUMENTS
    print(report(run(instruments, args.repeats, args.seconds), args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
