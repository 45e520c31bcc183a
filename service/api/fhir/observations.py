"""A score as US Core Observation Screening Assessment resources, in a transaction Bundle.

One Observation per instrument total: category ``survey``, the LOINC code where one exists
(PHQ-9 total 44261-6, GAD-7 total 70274-6, PHQ-2 total 55758-7) and Rapport's score code
system otherwise, ``valueQuantity`` in UCUM ``{score}``, subscales as ``component``s, the
severity band and the clinical cut-off in ``interpretation``, flags (risk items) in
``note``, and ``derivedFrom`` the QuestionnaireResponse. A total that cannot be scored has a
``dataAbsentReason`` instead of a value (us-core-2). The scored QuestionnaireResponse answers
the Questionnaire's read-only score items.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from service.api.fhir.questionnaire import scale_code, scale_link_id
from service.api.fhir.terms import DATA_ABSENT, OBSERVATION_CATEGORY, UCUM, Terms
from service.domain.instruments.model import InstrumentDefinition


def scored_response(
    qr: dict[str, Any], definition: InstrumentDefinition, score: dict[str, Any]
) -> dict[str, Any]:
    scored = copy.deepcopy(qr)
    links = {scale_link_id(definition, s) for s in definition.scales}
    kept = [i for i in scored.get("item", []) if i.get("linkId") not in links]
    for scale in definition.scales:
        value = score["scales"][scale.id]["score"]
        entry: dict[str, Any] = {"linkId": scale_link_id(definition, scale), "text": scale.name}
        if value is not None:
            entry["answer"] = [{"valueDecimal": value}]
        kept.append(entry)
    scored["item"] = kept
    scored["status"] = scored.get("status") or "completed"
    return scored


def observation(
    definition: InstrumentDefinition,
    score: dict[str, Any],
    terms: Terms,
    subject: dict[str, Any],
    response_reference: str,
    effective: str | None,
) -> dict[str, Any]:
    d = definition
    total = score["scales"][d.total_scale]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": {"coding": [scale_code(d, d.total, terms)], "text": f"{d.short_name} total"},
        "subject": subject,
        "derivedFrom": [{"reference": response_reference}],
    }
    if effective:
        resource["effectiveDateTime"] = effective
    if total["score"] is None:
        resource["dataAbsentReason"] = {
            "coding": [{"system": DATA_ABSENT, "code": "unknown"}],
            "text": "Not scorable: too many missing items",
        }
    else:
        resource["valueQuantity"] = _quantity(total["score"])
    interpretation = _interpretation(total, terms)
    if interpretation:
        resource["interpretation"] = interpretation
    components = [
        _component(d, scale_id, scale, terms)
        for scale_id, scale in score["scales"].items()
        if scale_id != d.total_scale
    ]
    if components:
        resource["component"] = components
    notes = [f"{f['code']}: {f['message']}" for f in score.get("flags", [])]
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return resource


def transaction(
    qr: dict[str, Any], definition: InstrumentDefinition, score: dict[str, Any], terms: Terms
) -> dict[str, Any]:
    """The scored QuestionnaireResponse and its Observation, ready for the EHR to post."""
    response_url = f"urn:uuid:{uuid.uuid4()}"
    scored = scored_response(qr, definition, score)
    obs = observation(definition, score, terms, qr["subject"], response_url, qr.get("authored"))
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": response_url,
                "resource": scored,
                "request": {"method": "POST", "url": "QuestionnaireResponse"},
            },
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": obs,
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }


def _quantity(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


def _interpretation(scale: dict[str, Any], terms: Terms) -> list[dict[str, Any]]:
    found = []
    if scale.get("band"):
        found.append(
            {"coding": [{"system": terms.bands, "code": scale["band"]}], "text": scale["band"]}
        )
    if scale.get("clinical") is not None:
        code = "clinical" if scale["clinical"] else "non-clinical"
        found.append(
            {
                "coding": [{"system": terms.interpretation, "code": code}],
                "text": f"{code.replace('-', ' ')} range for the population's cut-off",
            }
        )
    return found


def _component(
    d: InstrumentDefinition, scale_id: str, scale: dict[str, Any], terms: Terms
) -> dict[str, Any]:
    component: dict[str, Any] = {
        "code": {"coding": [scale_code(d, d.scale(scale_id), terms)], "text": scale["name"]}
    }
    if scale["score"] is None:
        component["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "unknown"}]}
    else:
        component["valueQuantity"] = _quantity(scale["score"])
    interpretation = _interpretation(scale, terms)
    if interpretation:
        component["interpretation"] = interpretation
    return component
