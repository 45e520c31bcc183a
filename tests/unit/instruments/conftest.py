"""Shared helpers for the per-instrument test vectors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

import pytest

from service.domain.instruments.catalogue import load_catalogue
from service.domain.instruments.model import InstrumentDefinition
from service.domain.scoring.result import ScoreResult
from service.domain.scoring.scorer import Scorer

ScoreFn = Callable[..., ScoreResult]


@cache
def _scorer(instrument_id: str) -> Scorer:
    return Scorer(load_catalogue().get(instrument_id))


def definition(instrument_id: str) -> InstrumentDefinition:
    return _scorer(instrument_id).definition


def score(
    instrument_id: str, responses: Mapping[str, object], population: str | None = None
) -> ScoreResult:
    return _scorer(instrument_id).score(responses, population)


def answers(values: list[float], first: int = 1) -> dict[str, object]:
    """Responses keyed by item number: answers([1, 2]) == {"1": 1, "2": 2}."""
    return {str(i): v for i, v in enumerate(values, start=first)}


def flag_codes(result: ScoreResult) -> list[str]:
    return [f.code for f in result.flags]


def scale(result: ScoreResult, scale_id: str) -> float | None:
    return next(s.score for s in result.scales if s.id == scale_id)


@pytest.fixture
def score_fn() -> ScoreFn:
    return score
