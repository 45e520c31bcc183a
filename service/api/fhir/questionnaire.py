"""An instrument definition as a canonical, versioned FHIR R4 Questionnaire.

linkIds are stable: the item's LOINC code where the definition has one (PHQ-9, PHQ-2,
GAD-7), otherwise the item number. Likert items are ``choice`` items whose answerOptions
carry their score in the itemWeight extension; reverse-keyed items carry the reversed
weight (CORE-10 items 2 and 3: 4 for "not at all"), so a renderer that sums weights gets
the instrument's score. Visual-analogue items are ``decimal`` items bounded by minValue and
maxValue. Each scale is a read-only item the scored QuestionnaireResponse answers. Item
wording appears only where the licence allows; otherwise the neutral label stands in.
"""

from __future__ import annotations

from typing import Any

from service.api.fhir.terms import (
    ITEM_WEIGHT,
    LOINC,
    LOINC_DISPLAY,
    MAX_VALUE,
    MIN_VALUE,
    SDC_QUESTIONNAIRE,
    Terms,
)
from service.domain.instruments.model import (
    InstrumentDefinition,
    Item,
    ResponseType,
    Scale,
)


def link_id(item: Item) -> str:
    return item.loinc or item.id


def scale_link_id(definition: InstrumentDefinition, scale: Scale) -> str:
    return scale.loinc or f"{definition.id}-{scale.id}"


def answer_options(item: Item, terms: Terms) -> list[dict[str, Any]]:
    r = item.response
    labels = {o.value: o for o in r.options}
    options = []
    for value in range(int(r.min), int(r.max) + 1):
        option = labels.get(value)
        weight = (r.min + r.max - value) if item.reverse else value
        coding: dict[str, Any] = (
            {"system": LOINC, "code": option.code, "display": option.label}
            if option is not None and option.code
            else {"system": terms.answers, "code": str(value)}
        )
        if option is not None and "display" not in coding:
            coding["display"] = option.label
        options.append(
            {
                "valueCoding": coding,
                "extension": [{"url": ITEM_WEIGHT, "valueDecimal": weight}],
            }
        )
    return options


def questionnaire(definition: InstrumentDefinition, terms: Terms) -> dict[str, Any]:
    d = definition
    items: list[dict[str, Any]] = []
    for item in d.items:
        entry: dict[str, Any] = {
            "linkId": link_id(item),
            "text": item.text if item.text and d.licence.item_text_allowed else item.label,
            "required": False,
        }
        if item.loinc:
            entry["code"] = [{"system": LOINC, "code": item.loinc}]
        if item.response.type is ResponseType.INTEGER:
            entry["type"] = "choice"
            entry["answerOption"] = answer_options(item, terms)
        else:
            entry["type"] = "decimal"
            entry["extension"] = [
                {"url": MIN_VALUE, "valueDecimal": item.response.min},
                {"url": MAX_VALUE, "valueDecimal": item.response.max},
            ]
        items.append(entry)
    for scale in d.scales:
        items.append(
            {
                "linkId": scale_link_id(d, scale),
                "text": f"{scale.name} ({scale.aggregation.value})",
                "type": "decimal",
                "readOnly": True,
                "code": [scale_code(d, scale, terms)],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": d.id,
        # SDC's base Questionnaire profile (SDC 3.0.0, the R4 release): canonical url and
        # version, coded items, answerOptions with itemWeight. Not the observation-extract
        # profile: Rapport extracts by its own definitions, not by item extensions.
        "meta": {"profile": [SDC_QUESTIONNAIRE]},
        "url": terms.questionnaire(d.id),
        "version": d.version,
        "name": _name(d.short_name),
        "title": d.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": d.description,
        "copyright": f"{d.licence.name}. {d.licence.summary}",
        "item": items,
    }
    if d.loinc_panel:
        resource["code"] = [{"system": LOINC, "code": d.loinc_panel}]
    return resource


def scale_code(d: InstrumentDefinition, scale: Scale, terms: Terms) -> dict[str, Any]:
    if scale.loinc:
        display = LOINC_DISPLAY.get(scale.loinc, f"{d.short_name} {scale.name}")
        return {"system": LOINC, "code": scale.loinc, "display": display}
    return {"system": terms.scores, "code": f"{d.id}-{scale.id}", "display": scale.name}


def _name(short_name: str) -> str:
    """A computer-friendly name: FHIR wants it to start with a capital letter."""
    cleaned = "".join(ch for ch in short_name.title() if ch.isalnum())
    return cleaned if cleaned[:1].isupper() else f"Q{cleaned}"
