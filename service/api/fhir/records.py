"""Stored records as FHIR resources: Patient, Practitioner and the QuestionnaireResponse of
an administration.

Rapport keeps people by the EHR's identifier only, so Patient and Practitioner are minimal:
their id and that identifier (and a practitioner's display name when given). A stored
response is rebuilt from its administration (the answers as the Questionnaire's answer
codings, and the scores in its read-only score items): the id of the QuestionnaireResponse
is the administration's id, as is the id of the Observation of its total.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.api.fhir.http import versioned
from service.api.fhir.observations import Context, observations, scored_response
from service.api.fhir.questionnaire import answer_options, link_id
from service.api.fhir.terms import Terms
from service.app.ports import AdministrationRecord
from service.domain.instruments.model import InstrumentDefinition, Item, Respondent, ResponseType
from service.domain.records import Administration, Patient, Practitioner

# The status of a response, and of its Observations, once its administration was voided.
ENTERED_IN_ERROR = "entered-in-error"


def patient_resource(patient: Patient, terms: Terms) -> dict[str, Any]:
    resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [{"system": terms.patient_ids, "value": patient.external_id}],
        "active": True,
    }
    return versioned(resource, 1, patient.created_at)


def practitioner_resource(practitioner: Practitioner, terms: Terms) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(practitioner.id),
        "identifier": [{"system": terms.practitioner_ids, "value": practitioner.external_id}],
        "active": True,
    }
    if practitioner.display_name:
        resource["name"] = [{"text": practitioner.display_name}]
    return versioned(resource, 1, practitioner.created_at)


def patient_reference(patient: Patient, terms: Terms) -> dict[str, Any]:
    return {
        "reference": f"Patient/{patient.id}",
        "identifier": {"system": terms.patient_ids, "value": patient.external_id},
    }


def practitioner_reference(practitioner: Practitioner, terms: Terms) -> dict[str, Any]:
    return {
        "reference": f"Practitioner/{practitioner.id}",
        "identifier": {"system": terms.practitioner_ids, "value": practitioner.external_id},
    }


def performer(found: AdministrationRecord, terms: Terms) -> dict[str, Any]:
    """Who answered: the patient for a self-report, the practitioner for a therapist form."""
    if found.administration.respondent is Respondent.THERAPIST:
        return practitioner_reference(found.practitioner, terms)
    return patient_reference(found.patient, terms)


def response_resource(
    found: AdministrationRecord, definition: InstrumentDefinition, terms: Terms
) -> dict[str, Any]:
    a = found.administration
    items = [
        {"linkId": link_id(item), "answer": [_answer(item, a.responses[item.id], terms)]}
        for item in definition.items
        if item.id in a.responses
    ]
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(a.id),
        "extension": [
            {"url": terms.dyad_extension, "valueString": str(a.dyad_id)},
            {"url": terms.session_extension, "valueInteger": a.session},
        ],
        "questionnaire": f"{terms.questionnaire(a.instrument)}|{a.instrument_version}",
        "status": "completed" if a.voided is None else ENTERED_IN_ERROR,
        "subject": patient_reference(found.patient, terms),
        "authored": a.completed_at.isoformat(),
        "author": performer(found, terms),
        "item": items,
    }
    return versioned(scored_response(qr, definition, a.score), *_version(a))


def observation_resources(
    found: AdministrationRecord, definition: InstrumentDefinition, terms: Terms,
    members: bool = True,
) -> list[dict[str, Any]]:  # fmt: skip
    """The total's Observation first, then (unless ``members`` is False) its members."""
    a = found.administration
    context = Context(
        subject=patient_reference(found.patient, terms),
        performer=performer(found, terms),
        derived_from=f"QuestionnaireResponse/{a.id}",
        effective=a.completed_at.isoformat(),
        ids=str(a.id),
    )
    resources = [
        resource
        for _, resource in observations(definition, a.score, a.responses, terms, context, members)
    ]
    for resource in resources if a.voided is not None else ():
        resource["status"] = ENTERED_IN_ERROR
    return [versioned(resource, *_version(a)) for resource in resources]


def _version(a: Administration) -> tuple[int, datetime]:
    """Version 1 as stored; version 2 once voided (entered in error)."""
    return (1, a.created_at) if a.voided is None else (2, a.voided.at)


def _answer(item: Item, value: Any, terms: Terms) -> dict[str, Any]:
    if item.response.type is ResponseType.INTEGER and isinstance(value, int):
        for option in answer_options(item, terms):
            weight = int(option["extension"][0]["valueDecimal"])
            r = item.response
            if (int(r.min + r.max - weight) if item.reverse else weight) == value:
                return {"valueCoding": option["valueCoding"]}
    if isinstance(value, int):
        return {"valueInteger": value}
    return {"valueDecimal": value}
