"""Read a QuestionnaireResponse's answers back into an instrument's item values.

Accepts what renderers send: a valueCoding that matches an answerOption (by system and code,
or carrying the option's score in the itemWeight extension or its older name ordinalValue),
or a plain valueInteger / valueDecimal. Every problem is collected with the FHIRPath-like
location of the offending answer, so one OperationOutcome lists them all.
"""

from __future__ import annotations

from typing import Any

from service.api.fhir.questionnaire import link_id, scale_link_id
from service.api.fhir.terms import ITEM_WEIGHT, LOINC, ORDINAL_VALUE, Terms
from service.domain.errors import FieldError, InvalidResponses
from service.domain.instruments.model import InstrumentDefinition, Item, ResponseType


def item_values(
    qr: dict[str, Any], definition: InstrumentDefinition, terms: Terms
) -> dict[str, object]:
    by_link = {link_id(i): i for i in definition.items}
    score_links = {scale_link_id(definition, s) for s in definition.scales}
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    for path, entry in _flatten(qr.get("item", []), "QuestionnaireResponse.item"):
        link = entry.get("linkId")
        if link in score_links:
            continue  # a read-only score item: Rapport computes it
        item = by_link.get(link) if isinstance(link, str) else None
        if item is None:
            errors.append(
                FieldError(
                    path, "unknown-link-id", f"linkId {link!r} is not in {definition.short_name}."
                )
            )
            continue
        answers = entry.get("answer") or []
        if not isinstance(answers, list) or len(answers) > 1:
            errors.append(FieldError(path, "one-answer", "Give at most one answer per item."))
            continue
        if answers:
            value = _value(answers[0], item, terms, f"{path}.answer[0]", errors)
            if value is not None:
                values[item.id] = value
    if errors:
        raise InvalidResponses(
            f"{len(errors)} answer(s) do not fit {definition.short_name}.", tuple(errors)
        )
    return values


def _flatten(items: object, path: str) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(items, list):
        return out
    for index, entry in enumerate(items):
        if not isinstance(entry, dict):
            continue
        here = f"{path}[{index}]"
        if entry.get("item"):
            out.extend(_flatten(entry["item"], f"{here}.item"))  # a group
        if "answer" in entry or not entry.get("item"):
            out.append((here, entry))
    return out


def _value(
    answer: dict[str, Any], item: Item, terms: Terms, path: str, errors: list[FieldError]
) -> object | None:
    if "valueCoding" in answer:
        return _coded(answer["valueCoding"], item, terms, path, errors)
    for key in ("valueInteger", "valueDecimal"):
        if key in answer:
            given: object = answer[key]
            return given
    errors.append(
        FieldError(
            path, "unsupported-answer", "Answer with valueCoding, valueInteger or valueDecimal."
        )
    )
    return None


def _coded(
    coding: Any, item: Item, terms: Terms, path: str, errors: list[FieldError]
) -> int | None:
    if not isinstance(coding, dict) or item.response.type is not ResponseType.INTEGER:
        errors.append(FieldError(path, "not-an-option", "This item takes a number, not a code."))
        return None
    r = item.response
    by_code = {(LOINC, o.code): o.value for o in r.options if o.code}
    by_code.update({(terms.answers, str(v)): v for v in range(int(r.min), int(r.max) + 1)})
    value = by_code.get((str(coding.get("system")), str(coding.get("code"))))
    if value is None and coding.get("system") is None:
        matches = {v for (_, code), v in by_code.items() if code == coding.get("code")}
        value = matches.pop() if len(matches) == 1 else None
    if value is None:
        weight = _weight(coding)
        if weight is not None and weight == int(weight) and r.min <= weight <= r.max:
            value = int(r.min + r.max - weight) if item.reverse else int(weight)
    if value is None:
        errors.append(
            FieldError(
                path,
                "not-an-option",
                f"{coding.get('code')!r} is not one of the item's answerOptions.",
            )
        )
    return value


def _weight(coding: dict[str, Any]) -> float | None:
    for extension in coding.get("extension", []) or []:
        if isinstance(extension, dict) and extension.get("url") in (ITEM_WEIGHT, ORDINAL_VALUE):
            weight = extension.get("valueDecimal", extension.get("valueInteger"))
            if isinstance(weight, int | float) and not isinstance(weight, bool):
                return float(weight)
    return None
