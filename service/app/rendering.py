"""Domain results as JSON-ready dicts, the one shape every adapter and the store share.

A stored administration keeps its score in exactly this shape, so what an EHR reads back
is what it was sent. The REST score endpoint is a hot path: it serialises these dicts with
orjson instead of validating a response model per request, and a test checks every rendered
result against the published response models so the contract cannot drift.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import datetime
from typing import Any

from service.domain.instruments.model import Respondent
from service.domain.records import Administration
from service.domain.scoring.result import ScoreResult


def record_fields(record: Any) -> dict[str, Any]:
    """A record (a domain dataclass: patient, practitioner, dyad, alert...) as every adapter
    shows it: ids as strings, enums by their value, everything else as it is, never the
    tenant. REST's response models and GraphQL's types are both built from this one mapping
    (each taking the fields it publishes), so the two faces cannot drift apart."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        if field.name == "tenant_id":
            continue
        value = getattr(record, field.name)
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        fields[field.name] = value
    return fields


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


def administration_of(body: dict[str, Any], tenant_id: uuid.UUID) -> Administration:
    """The administration ``administration_body`` rendered: how a replayed answer, kept in
    that shape for idempotent retries, is handed back to each adapter as a record."""
    return Administration(
        id=uuid.UUID(body["id"]), tenant_id=tenant_id, dyad_id=uuid.UUID(body["dyad_id"]),
        session=body["session"], instrument=body["instrument"],
        instrument_version=body["instrument_version"], respondent=Respondent(body["respondent"]),
        completed_at=datetime.fromisoformat(body["completed_at"]),
        created_at=datetime.fromisoformat(body["created_at"]),
        responses=body["responses"], score=body["score"],
    )  # fmt: skip
