"""Storing a QuestionnaireResponse: reading the body, checking whom it names, and answering
the create as FHIR says (Location, ETag, ``Prefer: return``, conditional create).

A subject or author that is given must be the patient and practitioner of the dyad the
response is stored to (an author may also be the patient: a self-report); anything else is
refused with a 422 naming the element, before anything is stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from service.api.fhir import search as s
from service.api.fhir.bundles import base_url
from service.api.fhir.http import fhir, read
from service.api.fhir.records import response_resource
from service.api.fhir.terms import Terms
from service.app.clinical_search import ClinicalSearch, DyadPeople
from service.app.ports import AdministrationRecord
from service.domain.errors import FieldError, InstrumentNotFound, ValidationFailed
from service.domain.instruments.model import InstrumentDefinition
from service.domain.records import Administration, Principal


async def create_answer(
    request: Request, principal: Principal, search: ClinicalSearch,
    definition: InstrumentDefinition, administration: Administration, terms: Terms,
    status: int, people: DyadPeople | None = None,
) -> Response:  # fmt: skip
    """The answer to a create, as FHIR's Prefer: return says (representation by default)."""
    if people is None:
        people = await search.dyad_people(principal, administration.dyad_id)
    found = AdministrationRecord(administration, people.patient, people.practitioner)
    resource = response_resource(found, definition, terms)
    location = f"{base_url(request)}/QuestionnaireResponse/{administration.id}/_history/1"
    wanted = s.prefers(request, "return")
    if wanted == "minimal":
        headers = {"Location": location, "ETag": 'W/"1"'}
        return fhir(None, status, headers)
    if wanted == "operationoutcome":
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational",
                       "diagnostics": f"Stored as QuestionnaireResponse/{administration.id}; "
                       f"its score is Observation/{administration.id}."}],
        }  # fmt: skip
        return fhir(outcome, status, {"Location": location, "ETag": 'W/"1"'})
    return read(resource, status, location)


def conditional_identifier(header: str | None) -> str | None:
    """``If-None-Exist: identifier=system|value``: the identifier the response is stored
    under (``identifier_of`` spells it; the use case makes it an idempotency key)."""
    if header is None:
        return None
    pairs = parse_qsl(header.lstrip("?"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "identifier" or not pairs[0][1]:
        raise s.SearchRefused(
            "If-None-Exist", "If-None-Exist takes one parameter: identifier=system|value."
        )
    system, bar, value = pairs[0][1].partition("|")
    return identifier_of(system if bar else None, value if bar else system)


def qr_identifier(qr: dict[str, Any]) -> str | None:
    identifier = qr.get("identifier")
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not isinstance(value, str) or not value:
        return None
    system = identifier.get("system") if isinstance(identifier, dict) else None
    return identifier_of(system if isinstance(system, str) and system else None, value)


def identifier_of(system: str | None, value: str) -> str:
    """A response's identifier as one string, ``system|value`` when the system is given.
    The use case checks it by the one rule for strings that reach the database and stores
    it as an idempotency key of its own namespace (service/domain/text.py)."""
    return f"{system}|{value}" if system else value


def check_people(
    people: DyadPeople, subject: dict[str, Any], author: dict[str, Any] | None
) -> None:
    """A subject or author that is given must be the dyad's: never file answers under
    another patient than the one they name."""
    errors = []
    if not names_person(subject, "Patient", str(people.patient.id), people.patient.external_id):
        errors.append(
            FieldError(
                "QuestionnaireResponse.subject", "wrong-patient",
                "The subject is not the patient of the dyad the response is stored to.",
            )
        )  # fmt: skip
    if author is not None and not (
        names_person(
            author, "Practitioner", str(people.practitioner.id), people.practitioner.external_id
        )
        or names_person(author, "Patient", str(people.patient.id), people.patient.external_id)
    ):
        errors.append(
            FieldError(
                "QuestionnaireResponse.author", "wrong-author",
                "The author is neither the practitioner nor the patient of the dyad.",
            )
        )  # fmt: skip
    if errors:
        raise ValidationFailed("The response names other people than its dyad's.", tuple(errors))


def names_person(reference: dict[str, Any], kind: str, rapport_id: str, external_id: str) -> bool:
    """Whether every way the reference names someone names this person."""
    claims = 0
    literal = reference.get("reference")
    if isinstance(literal, str) and literal:
        claims += 1
        if s.reference_id(literal, kind) != uuid.UUID(rapport_id) or (
            "/" not in literal and reference.get("type") not in (None, kind)
        ):
            return False
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value") is not None:
        claims += 1
        if reference.get("type") not in (None, kind) or identifier.get("value") != external_id:
            return False
    return claims > 0


def person_named(qr: dict[str, Any], where: str, *, required: bool) -> dict[str, Any] | None:
    """The subject or author reference: it names someone by a reference or an identifier."""
    reference = qr.get(where)
    if reference is None and not required:
        return None
    literal = reference.get("reference") if isinstance(reference, dict) else None
    identifier = reference.get("identifier") if isinstance(reference, dict) else None
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not (isinstance(literal, str) and literal) and not (isinstance(value, str) and value):
        raise ValidationFailed(
            f"The response's {where} names nobody.",
            (
                FieldError(
                    f"QuestionnaireResponse.{where}", "required",
                    "Give reference (Patient/<id>) or identifier.value.",
                ),
            ),
        )  # fmt: skip
    assert isinstance(reference, dict)
    return reference


def external_id_of(reference: dict[str, Any] | None, where: str) -> str:
    identifier = (reference or {}).get("identifier")
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not isinstance(value, str) or not value:
        raise ValidationFailed(
            f"Without a dyad, the response's {where} needs an identifier.",
            (
                FieldError(
                    f"QuestionnaireResponse.{where}", "required",
                    "Give identifier.value, or name the dyad (?dyad= or the dyad-id extension).",
                ),
            ),
        )  # fmt: skip
    return value


# Reading the body ---------------------------------------------------------------------------


async def read_body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ValidationFailed(
            "The body is not valid JSON.", (FieldError("body", "malformed-json", "Send JSON."),)
        ) from None


def extract_input(body: Any) -> dict[str, Any]:
    """$extract's input: the QuestionnaireResponse itself, or SDC's Parameters form with a
    ``questionnaire-response`` parameter holding it."""
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        given = [
            p for p in body.get("parameter") or []
            if isinstance(p, dict) and p.get("name") == "questionnaire-response"
        ]  # fmt: skip
        if len(given) != 1 or not isinstance(given[0].get("resource"), dict):
            raise ValidationFailed(
                "Parameters must hold one questionnaire-response resource.",
                (
                    FieldError(
                        "Parameters.parameter", "missing-parameter",
                        "Give one parameter named questionnaire-response with a resource.",
                    ),
                ),
            )  # fmt: skip
        body = given[0]["resource"]
    return as_resource(body, "QuestionnaireResponse")


def as_resource(body: Any, kind: str) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != kind:
        raise ValidationFailed(
            f"Expected a {kind}.",
            (FieldError("resourceType", "wrong-resource", f"resourceType must be {kind}."),),
        )
    return body


def definition_of(
    qr: dict[str, Any], catalogue: list[InstrumentDefinition], terms: Terms
) -> InstrumentDefinition:
    canonical = qr.get("questionnaire")
    if not isinstance(canonical, str) or not canonical:
        raise ValidationFailed(
            "The response names no questionnaire.",
            (
                FieldError(
                    "QuestionnaireResponse.questionnaire", "required", "Give the canonical url."
                ),
            ),
        )
    url, _, version = canonical.partition("|")
    for d in catalogue:
        if url in (terms.questionnaire(d.id), f"Questionnaire/{d.id}"):
            if version and version != d.version:
                raise ValidationFailed(
                    f"{d.short_name} version {version} is not available.",
                    (
                        FieldError(
                            "QuestionnaireResponse.questionnaire",
                            "unknown-version",
                            f"Available: {d.version}.",
                        ),
                    ),
                )
            return d
    raise InstrumentNotFound(url)


def extension_value(qr: dict[str, Any], url: str, key: str, kind: Any) -> Any:
    for extension in qr.get("extension", []) or []:
        if isinstance(extension, dict) and extension.get("url") == url and key in extension:
            try:
                return kind(extension[key])
            except (TypeError, ValueError):
                raise ValidationFailed(
                    "A Rapport extension has a bad value.",
                    (
                        FieldError(
                            f"QuestionnaireResponse.extension('{url}')", "invalid", "Bad value."
                        ),
                    ),
                ) from None
    return None


def authored_at(qr: dict[str, Any]) -> datetime | None:
    authored = qr.get("authored")
    if authored is None:
        return None
    try:
        when = datetime.fromisoformat(str(authored).replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValidationFailed(
            "authored must be a dateTime with a timezone.",
            (FieldError("QuestionnaireResponse.authored", "invalid", "e.g. 2026-11-26T10:00:00Z"),),
        )
    return when
