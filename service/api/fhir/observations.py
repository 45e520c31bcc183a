"""A score as US Core 6.1.0 Observation Screening Assessment resources.

One Observation per administration for the instrument total: ``meta.profile`` the US Core
profile, category ``survey``, the total's LOINC code where one exists (PHQ-9 44261-6, GAD-7
70274-6, PHQ-2 55758-7) and Rapport's score code system otherwise, always with a display;
``subject`` the Patient, ``performer`` whoever answered (the Patient for self-report, the
Practitioner for therapist forms), ``valueQuantity`` in UCUM ``{score}`` (or a
``dataAbsentReason`` when not scorable: us-core-2), subscales as ``component``s, the severity
band and the clinical cut-off in ``interpretation``, flags in ``note``, and ``derivedFrom``
the QuestionnaireResponse.

Item results are member Observations (``hasMember``) only where the instrument's licence
allows reproducing its items (``licence.item_text_allowed``: the PHQ and GAD families);
elsewhere the total stands alone. US Core's screening-assessment category slice is bound to
codes for SDOH, functional, disability and cognitive status, none of which a mental-health
score is, so it is left out (it is optional).

Ids of stored Observations derive from the administration: ``<administration id>`` for the
total and ``<administration id>-<item id>`` for a member.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from service.api.fhir.questionnaire import answer_options, scale_code, scale_link_id
from service.api.fhir.terms import (
    DATA_ABSENT,
    LOINC,
    OBSERVATION_CATEGORY,
    UCUM,
    US_CORE_SCREENING,
    Terms,
)
from service.domain.instruments.model import InstrumentDefinition, Item, ResponseType

SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}


@dataclass(frozen=True, slots=True)
class Context:
    """Who and when an Observation is about, and how it names itself and its source."""

    subject: dict[str, Any]
    performer: dict[str, Any] | None
    derived_from: str  # a reference to the QuestionnaireResponse
    effective: str | None
    ids: str | None = None  # the administration id when stored; None for $extract


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


def publishes_items(definition: InstrumentDefinition) -> bool:
    return definition.licence.item_text_allowed


def observations(
    definition: InstrumentDefinition,
    score: dict[str, Any],
    responses: dict[str, Any],
    terms: Terms,
    context: Context,
    members: bool = True,
) -> list[tuple[str, dict[str, Any]]]:
    """The total and (unless ``members`` is False) its members, each with its reference
    (``Observation/<id>`` when stored, a ``urn:uuid`` otherwise). The total comes first and
    names its members in ``hasMember`` either way."""
    answered = (
        [item for item in definition.items if item.id in responses]
        if publishes_items(definition)
        else []
    )
    references = [(_reference(context, item.id), item) for item in answered]
    total = observation(definition, score, terms, context)
    if references:
        total["hasMember"] = [{"reference": ref} for ref, _ in references]
    built = [(_reference(context, None), total)]
    if members:
        built += [
            (ref, item_observation(definition, item, responses[item.id], terms, context))
            for ref, item in references
        ]
    return built


def observation(
    definition: InstrumentDefinition, score: dict[str, Any], terms: Terms, context: Context
) -> dict[str, Any]:
    d = definition
    total = score["scales"][d.total_scale]
    resource = _base(context, None)
    resource["code"] = {"coding": [scale_code(d, d.total, terms)], "text": f"{d.short_name} total"}
    _context(resource, context)
    if total["score"] is None:
        resource["dataAbsentReason"] = {
            "coding": [{"system": DATA_ABSENT, "code": "unknown", "display": "Unknown"}],
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


def item_observation(
    definition: InstrumentDefinition, item: Item, value: Any, terms: Terms, context: Context
) -> dict[str, Any]:
    """One answered item: its LOINC code and answer code where LOINC has them."""
    resource = _base(context, item.id)
    text = item.text if item.text and publishes_items(definition) else item.label
    coding = (
        {"system": LOINC, "code": item.loinc, "display": text}
        if item.loinc
        else {"system": terms.items, "code": f"{definition.id}-{item.id}", "display": text}
    )
    resource["code"] = {"coding": [coding], "text": text}
    _context(resource, context)
    option = None
    if item.response.type is ResponseType.INTEGER:
        option = next(
            (o["valueCoding"] for o in answer_options(item, terms)
             if o["valueCoding"].get("system") == LOINC
             and str(o["valueCoding"]["code"]) and _option_value(item, o) == value),
            None,
        )  # fmt: skip
    if option is not None:
        resource["valueCodeableConcept"] = {"coding": [option], "text": option.get("display")}
    else:
        resource["valueQuantity"] = _quantity(value)
    return resource


def transaction(
    qr: dict[str, Any], definition: InstrumentDefinition, score: dict[str, Any],
    responses: dict[str, Any], terms: Terms,
) -> dict[str, Any]:  # fmt: skip
    """$extract's answer: the scored QuestionnaireResponse and its Observations, ready for
    the EHR to post (never executed here)."""
    response_url = f"urn:uuid:{uuid.uuid4()}"
    scored = scored_response(qr, definition, score)
    performer = qr.get("author") if definition.respondent.value == "therapist" else None
    context = Context(
        subject=qr["subject"],
        performer=performer or (qr["subject"] if definition.respondent.value == "client" else None),
        derived_from=response_url,
        effective=qr.get("authored"),
    )
    entries = [
        {
            "fullUrl": response_url,
            "resource": scored,
            "request": {"method": "POST", "url": "QuestionnaireResponse"},
        }
    ]
    for reference, resource in observations(definition, score, responses, terms, context):
        entries.append(
            {
                "fullUrl": reference,
                "resource": resource,
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _reference(context: Context, item_id: str | None) -> str:
    if context.ids is None:
        return f"urn:uuid:{uuid.uuid4()}"
    return f"Observation/{observation_id(context.ids, item_id)}"


def observation_id(administration_id: str, item_id: str | None) -> str:
    return administration_id if item_id is None else f"{administration_id}-{item_id}"


def _base(context: Context, item_id: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation"}
    if context.ids is not None:
        resource["id"] = observation_id(context.ids, item_id)
    resource["meta"] = {"profile": [US_CORE_SCREENING]}
    resource["status"] = "final"
    resource["category"] = [copy.deepcopy(SURVEY)]
    return resource


def _context(resource: dict[str, Any], context: Context) -> None:
    resource["subject"] = context.subject
    if context.effective:
        resource["effectiveDateTime"] = context.effective
    if context.performer:
        resource["performer"] = [context.performer]
    resource["derivedFrom"] = [{"reference": context.derived_from}]


def _option_value(item: Item, option: dict[str, Any]) -> int:
    weight = int(option["extension"][0]["valueDecimal"])
    r = item.response
    return int(r.min + r.max - weight) if item.reverse else weight


def _quantity(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"}


def _interpretation(scale: dict[str, Any], terms: Terms) -> list[dict[str, Any]]:
    found = []
    if scale.get("band"):
        found.append(
            {
                "coding": [
                    {"system": terms.bands, "code": scale["band"], "display": scale["band"]}
                ],
                "text": scale["band"],
            }
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
