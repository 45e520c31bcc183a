"""Domain results as JSON-ready dicts, the one shape every adapter and the store share.

A stored administration keeps its score in exactly this shape, so what an EHR reads back
is what it was sent. The REST score endpoint is a hot path: it serialises these dicts with
orjson instead of validating a response model per request, and a test checks every rendered
result against the published response models so the contract cannot drift.
"""

from __future__ import annotations

from typing import Any

from service.domain.records import Administration
from service.domain.scoring.result import ScoreResult


def score_dict(result: ScoreResult) -> dict[str, Any]:
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


def administration_body(a: Administration) -> dict[str, Any]:
    return {
        "id": str(a.id),
        "dyad_id": str(a.dyad_id),
        "session": a.session,
        "instrument": a.instrument,
        "instrument_version": a.instrument_version,
        "respondent": a.respondent.value,
        "completed_at": a.completed_at.isoformat(),
        "created_at": a.created_at.isoformat(),
        "responses": a.responses,
        "score": a.score,
        "status": a.status.value,
        "superseded_by": None if a.superseded_by is None else str(a.superseded_by),
        "void": None
        if a.voided is None
        else {"at": a.voided.at.isoformat(), "by": a.voided.by, "reason": a.voided.reason},
    }
