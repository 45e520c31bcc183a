"""Progress, concordance and calibration as every face publishes them: one mapping.

REST answers these bodies as they are (``service/api/rest/routes/insights.py``; their
pydantic models describe them in the OpenAPI document, and tests hold real bodies to those
models); GraphQL builds its types from the same bodies, reshaping only where its schema
lists what REST keys by name (``service/api/graphql/insight_types.py``). So a field added to
a view reaches both faces through one place, and the two cannot drift apart.

Plain JSON-ready values, not validated models: a long episode has hundreds of per-session
objects, and building them as models cost more than the statistics (bench/insights.py).
Numbers published as floats are floats here (JSON would otherwise write ``3`` for ``3.0``);
timestamps stay ``datetime`` (REST writes them with ``orjson.OPT_UTC_Z``).
"""

from __future__ import annotations

from typing import Any

from service.app.insights import Calibration, ConcordanceView, ProgressView
from service.domain.concordance import DISCORDANCE_NOTE, RULE_VERSION, Agreement


def progress_body(view: ProgressView) -> dict[str, Any]:
    p = view.progress
    rc = p.reliable_change
    nhs = view.nhs_talking_therapies
    return {
        "dyad_id": str(view.dyad_id),
        "instrument": p.instrument,
        "direction": p.direction.value,
        "population": view.population.value,
        "points": [
            {
                "administration_id": str(x.administration_id),
                "session": x.session,
                "completed_at": x.completed_at,
                "total": _number(x.total),
                "change": _number(x.change),
                "reliable_change": x.reliable_change.value if x.reliable_change else None,
                "clinical": x.clinical,
            }
            for x in p.points
        ],
        "classification": p.classification.value,
        "reason": p.reason,
        "started_clinical": p.started_clinical,
        "reliable_change_rule": {
            "minimum_change": float(rc.minimum_change), "threshold": _number(rc.threshold),
            "z": float(rc.z), "source": rc.source,
        }
        if rc
        else None,
        "clinical_cutoff": {
            "method": p.cutoff.method, "value": float(p.cutoff.value),
            "comparison": p.cutoff.comparison.value, "source": p.cutoff.source,
        }
        if p.cutoff
        else None,
        "nhs_talking_therapies": {
            "applicable": nhs.applicable, "reason": nhs.reason,
            "first_session": nhs.first_session, "last_session": nhs.last_session,
            "caseness_first": nhs.caseness_first, "caseness_last": nhs.caseness_last,
            "recovery": nhs.recovery, "reliable_improvement": nhs.reliable_improvement,
            "reliable_deterioration": nhs.reliable_deterioration,
            "reliable_recovery": nhs.reliable_recovery,
            "deterioration_rule": nhs.deterioration_rule.value,
            "rules_version": nhs.rules_version,
        }
        if nhs
        else None,
    }  # fmt: skip


def agreement_body(a: Agreement) -> dict[str, Any]:
    return {
        "n": a.n, "bias": a.bias, "sd": a.sd, "lower_limit": a.lower_limit,
        "upper_limit": a.upper_limit, "correlation": a.correlation,
        "convergence_slope": a.convergence_slope, "converging": a.converging,
    }  # fmt: skip


def concordance_body(view: ConcordanceView) -> dict[str, Any]:
    r = view.rule
    return {
        "dyad_id": str(view.dyad_id),
        "instrument": view.client_form.id,
        "therapist_instrument": view.therapist_form.id,
        "sessions": [
            {
                "session": p.session,
                "client": p.client,
                "therapist": p.therapist,
                "difference": p.difference,
                "direction": p.direction.value,
                "discordant": p.discordant,
                "client_administration_id": str(p.client_administration),
                "therapist_administration_id": str(p.therapist_administration),
                "subscales": {
                    name: {"client": c, "therapist": t, "difference": d}
                    for name, c, t, d in p.subscales
                },
            }
            for p in view.sessions
        ],
        "summary": agreement_body(view.summary),
        "subscales": {name: agreement_body(a) for name, a in view.subscales.items()},
        "rule": {
            "version": RULE_VERSION,
            "expected_offset": r.expected_offset,
            "bound": round(r.bound, 6),
            "z": r.z,
            "se_difference": round(r.se_difference, 6),
            "source": r.source,
        },
        "note": DISCORDANCE_NOTE,
    }


def calibration_body(c: Calibration) -> dict[str, Any]:
    return {
        "instrument": c.client_form, "therapist_instrument": c.therapist_form,
        "dyads": c.dyads, "pairs": c.pairs, "bias": c.bias, "spread": c.spread,
        "expected_offset": c.expected_offset, "tendency": c.tendency,
        "per_dyad": {str(k): v for k, v in c.per_dyad.items()},
    }  # fmt: skip


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


__all__ = ["agreement_body", "calibration_body", "concordance_body", "progress_body"]
