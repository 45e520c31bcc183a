"""Domain results to JSON-ready dicts.

The score endpoint is the hot path, so it renders plain dicts and serialises them with
orjson instead of validating a response model per request; a test checks every rendered
result against ``ScoreResultOut`` so the OpenAPI contract cannot drift from what is sent.
"""

from __future__ import annotations

from typing import Any

from service.domain.scoring.result import ScoreResult


def score_result(result: ScoreResult) -> dict[str, Any]:
    p = result.provenance
    return {
        "instrument": result.instrument,
        "total": result.total,
        "band": result.band,
        "clinical": result.clinical,
        "scales": {
            s.id: {
                "name": s.name,
                "score": s.score,
                "metric": s.metric.value,
                "mean": s.mean,
                "band": s.band,
                "clinical": s.clinical,
                "answered": s.answered,
                "missing": list(s.missing),
                "prorated": s.prorated,
                "rule": {
                    "max_missing": s.rule.max_missing,
                    "prorate": s.rule.prorate,
                    "source": s.rule.source,
                },
            }
            for s in result.scales
        },
        "flags": [
            {
                "code": f.code,
                "message": f.message,
                "items": list(f.items),
                "scale": f.scale,
                "source": f.source,
            }
            for f in result.flags
        ],
        "prorated": result.prorated,
        "missing": list(result.missing),
        "criteria": [
            {"id": c.id, "met": c.met, "description": c.description, "source": c.source}
            for c in result.criteria
        ],
        "provenance": {
            "definition_id": p.definition_id,
            "definition_version": p.definition_version,
            "scorer_version": p.scorer_version,
            "population": p.population.value,
            "population_defaulted": p.population_defaulted,
        },
    }
