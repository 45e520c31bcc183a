"""/fhir/R4: a thin adapter over the same use cases as REST.

Storing a QuestionnaireResponse (documented mapping, docs/fhir.md):
- patient: ``subject`` (``Patient/<id>`` or ``identifier.value`` = the EHR identifier given
  to ``POST /v1/patients``); practitioner: ``author`` likewise;
- dyad: the ``dyad`` query parameter, else the ``dyad-id`` extension on the response, else
  the one dyad pairing that patient and practitioner; a subject or author that is given must
  be the dyad's patient and practitioner (or, for an author, its patient), else 422;
- session: the ``session`` query parameter, else the ``session-number`` extension;
- completed_at: ``authored``; idempotency: the ``Idempotency-Key`` header, else the
  response's identifier; ``If-None-Exist: identifier=system|value`` is a conditional create.

Read and search of the stored record are in service/api/fhir/reads.py.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from service.api.deps import (
    AdministrationsDep,
    AlertsDep,
    InstrumentsDep,
    PrincipalDep,
    ServicesDep,
)
from service.api.fhir import reads
from service.api.fhir import search as s
from service.api.fhir.answers import item_values
from service.api.fhir.bundles import base_url, searchset
from service.api.fhir.capability import SUPPORT, capability_statement
from service.api.fhir.flags import flag
from service.api.fhir.http import fhir, read, versioned
from service.api.fhir.observations import transaction
from service.api.fhir.outcome import FhirRoute, operation_outcome
from service.api.fhir.questionnaire import questionnaire
from service.api.fhir.records import response_resource
from service.api.fhir.terms import Terms
from service.app.administrations import NewAdministration
from service.app.clinical_search import ClinicalSearch, DyadPeople
from service.app.ports import AdministrationRecord
from service.app.rendering import score_dict
from service.domain.alerts import AlertStatus
from service.domain.errors import FieldError, InstrumentNotFound, ValidationFailed
from service.domain.instruments.model import InstrumentDefinition, Respondent
from service.domain.records import Administration, Principal

router = APIRouter(prefix="/fhir/R4", tags=["fhir"], route_class=FhirRoute)
RESOURCE_BODY = {"requestBody": {"required": True, "content": {"application/fhir+json": {}}}}
RELEASED = "2026-11-26"
_RELEASED_AT = datetime.fromisoformat(f"{RELEASED}T00:00:00+00:00")
_MAX_KEY = 255


def _terms(services: Any) -> Terms:
    return Terms(services.settings.fhir_canonical_base)


@router.get("/metadata", summary="CapabilityStatement")
async def metadata(request: Request, services: ServicesDep) -> Response:
    s.parse(request, {"mode": frozenset()})
    return fhir(capability_statement(_terms(services), RELEASED))


@router.get("/Questionnaire/{instrument_id}", summary="An instrument as a Questionnaire")
async def read_questionnaire(
    instrument_id: str, request: Request, _principal: PrincipalDep, instruments: InstrumentsDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    s.parse(request, {})
    resource = questionnaire(instruments.get(instrument_id), _terms(services))
    return read(versioned(resource, 1, _RELEASED_AT))


@router.get("/Questionnaire", summary="Search Questionnaires by canonical url")
async def search_questionnaires(
    request: Request, _principal: PrincipalDep, instruments: InstrumentsDep, services: ServicesDep
) -> Response:
    params = s.parse(request, {"url": frozenset(), "version": frozenset()})
    url, version = params.one("url"), params.one("version")
    if url is not None and "|" in url:
        url, _, version = url.partition("|")
    terms = _terms(services)
    found = [
        versioned(questionnaire(d, terms), 1, _RELEASED_AT)
        for d in instruments.list()
        if (url is None or terms.questionnaire(d.id) == url)
        and (version is None or d.version == version)
    ]
    return fhir(searchset(request, "Questionnaire", found, params))


@router.post(
    "/QuestionnaireResponse/$extract",
    summary="Score a QuestionnaireResponse into Observations, without storing",
    openapi_extra=RESOURCE_BODY,
)
async def extract(
    request: Request, _principal: PrincipalDep, instruments: InstrumentsDep, services: ServicesDep
) -> Response:
    s.parse(request, {})
    terms = _terms(services)
    qr = _extract_input(await _body(request))
    definition = _definition_of(qr, instruments.list(), terms)
    _person(qr, "subject", required=True)
    values = item_values(qr, definition, terms)
    score = score_dict(instruments.score(definition.id, values, None))
    return fhir(transaction(qr, definition, score, values, terms))


@router.post(
    "/QuestionnaireResponse",
    status_code=201,
    summary="Store a QuestionnaireResponse as an administration",
    openapi_extra=RESOURCE_BODY,
)
async def create_response(
    request: Request,
    principal: PrincipalDep,
    instruments: InstrumentsDep,
    administrations: AdministrationsDep,
    services: ServicesDep,
    dyad: Annotated[uuid.UUID | None, Query()] = None,
    session: Annotated[int | None, Query(ge=1)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
    if_none_exist: Annotated[str | None, Header(alias="If-None-Exist", max_length=600)] = None,
) -> Response:
    s.parse(request, {"dyad": frozenset(), "session": frozenset()})
    terms = _terms(services)
    qr = _resource(await _body(request), "QuestionnaireResponse")
    definition = _definition_of(qr, instruments.list(), terms)
    subject = _person(qr, "subject", required=True) or {}
    author = _person(qr, "author", required=False)
    values = item_values(qr, definition, terms)
    search = ClinicalSearch(services.transact)
    conditional = _conditional_key(if_none_exist)
    if conditional is not None:
        existing = await search.stored_under(principal, conditional)
        if existing is not None:
            return await _created(request, principal, search, definition, existing, terms, 200)
    dyad_id = dyad or _extension(qr, terms.dyad_extension, "valueString", uuid.UUID)
    if dyad_id is None:
        dyad_id = (
            await services.records.dyad_of_pair(
                principal, _external_id(subject, "subject"), _external_id(author, "author")
            )
        ).id
    people = await search.dyad_people(principal, dyad_id)
    _check_people(people, subject, author)
    number = session or _extension(qr, terms.session_extension, "valueInteger", int)
    if number is None:
        raise ValidationFailed(
            "Name the session.",
            (
                FieldError(
                    "session", "missing-session", "Use ?session= or the session-number extension."
                ),
            ),
        )
    key = conditional or idempotency_key or _qr_identifier(qr)
    submitted = await administrations.submit(
        principal,
        NewAdministration(
            dyad_id=dyad_id, instrument=definition.id, session=number, responses=values,
            completed_at=_authored(qr),
        ),
        key,
    )  # fmt: skip
    status = 200 if submitted.replayed and conditional is not None else 201
    return await _created(request, principal, search, definition, submitted.body, terms, status,
                          people)  # fmt: skip


@router.get("/Flag/{alert_id}", summary="An alert as a Flag")
async def read_flag(
    alert_id: str, request: Request, principal: PrincipalDep, alerts: AlertsDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    s.parse(request, {})
    try:
        parsed = uuid.UUID(alert_id)
    except ValueError:
        return operation_outcome(404, f"No Flag {alert_id}.")
    alert = await alerts.get(principal, parsed)
    [(found, patient)] = await alerts.with_patients(principal, [alert])
    return read(flag(found, patient, _terms(services)))


@router.get("/Flag", summary="Search alerts as Flags")
async def search_flags(
    request: Request, principal: PrincipalDep, alerts: AlertsDep, services: ServicesDep
) -> Response:
    params = s.parse(
        request,
        {"status": frozenset(), "patient": frozenset({"identifier"}), "_count": frozenset()},
    )
    wanted: set[AlertStatus] | None = None
    for options in s.tokens(params, "status"):
        chosen = set()
        for _, code in options:
            if code not in ("active", "inactive"):
                raise s.SearchRefused("status", "Flag status is active or inactive.")
            chosen |= (
                {AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED}
                if code == "active"
                else {AlertStatus.RESOLVED}
            )
        wanted = chosen if wanted is None else wanted & chosen
    count = s.count(params)
    cursor = reads.list_cursor(params)
    search = ClinicalSearch(services.transact)
    nothing, patient_id = await reads.patient_of(params, search, principal, ("patient",))
    statuses = frozenset(wanted) if wanted is not None else None
    terms = _terms(services)
    if nothing or wanted == set():
        return fhir(searchset(request, "Flag", [], params))
    if patient_id is not None:
        page = await search.alerts_of_patient(principal, patient_id, cursor, count, statuses)
    else:
        page = await alerts.find(principal, cursor, count, statuses)
    pairs = await alerts.with_patients(principal, page.items)
    resources = [flag(a, p, terms) for a, p in pairs]
    return fhir(searchset(request, "Flag", resources, params, page.next_cursor))


router.include_router(reads.router)


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def unsupported(path: str, request: Request) -> Response:
    """405 with Allow for an interaction a known type does not support; 404 otherwise."""
    parts = path.strip("/").split("/")
    support = SUPPORT.get(parts[0])
    if support is None:
        return operation_outcome(404, f"Rapport's FHIR face does not support '{parts[0]}'.")
    level = "type" if len(parts) == 1 else "instance" if len(parts) == 2 else None
    allow = support.allow(level) if level and not parts[-1].startswith("$") else []
    if parts[-1] == "$extract" and len(parts) == 2:
        allow = ["POST"]
    if not allow:
        return operation_outcome(
            404, f"Rapport's FHIR face does not support '{path}'.", code="not-supported"
        )
    return operation_outcome(
        405,
        f"{request.method} is not supported on {path}; allowed: {', '.join(allow)}.",
        code="not-supported",
        headers={"Allow": ", ".join(allow)},
    )


# Creating -----------------------------------------------------------------------------------


async def _created(
    request: Request, principal: Principal, search: ClinicalSearch,
    definition: InstrumentDefinition, body: dict[str, Any], terms: Terms, status: int,
    people: DyadPeople | None = None,
) -> Response:  # fmt: skip
    """The answer to a create, as FHIR's Prefer: return says (representation by default)."""
    administration = _administration(principal, body)
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


def _administration(principal: Principal, body: dict[str, Any]) -> Administration:
    return Administration(
        id=uuid.UUID(body["id"]), tenant_id=principal.tenant_id,
        dyad_id=uuid.UUID(body["dyad_id"]), session=body["session"],
        instrument=body["instrument"], instrument_version=body["instrument_version"],
        respondent=Respondent(body["respondent"]),
        completed_at=datetime.fromisoformat(body["completed_at"]),
        responses=body["responses"], score=body["score"],
        created_at=datetime.fromisoformat(body["created_at"]),
    )  # fmt: skip


def _conditional_key(header: str | None) -> str | None:
    """``If-None-Exist: identifier=system|value`` as the key the response is stored under."""
    if header is None:
        return None
    pairs = parse_qsl(header.lstrip("?"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "identifier" or not pairs[0][1]:
        raise s.SearchRefused(
            "If-None-Exist", "If-None-Exist takes one parameter: identifier=system|value."
        )
    system, bar, value = pairs[0][1].partition("|")
    return _key(system if bar else None, value if bar else system)


def _qr_identifier(qr: dict[str, Any]) -> str | None:
    identifier = qr.get("identifier")
    value = identifier.get("value") if isinstance(identifier, dict) else None
    if not isinstance(value, str) or not value:
        return None
    system = identifier.get("system") if isinstance(identifier, dict) else None
    return _key(system if isinstance(system, str) and system else None, value)


def _key(system: str | None, value: str) -> str:
    """An identifier as an idempotency key: ``fhir-qr:`` and the value (``system|value``
    when the system is given); a digest when that would not fit the key's column."""
    key = f"fhir-qr:{system}|{value}" if system else f"fhir-qr:{value}"
    if len(key) > _MAX_KEY:
        key = f"fhir-qr#{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _check_people(
    people: DyadPeople, subject: dict[str, Any], author: dict[str, Any] | None
) -> None:
    """A subject or author that is given must be the dyad's: never file answers under
    another patient than the one they name."""
    errors = []
    if not _names(subject, "Patient", str(people.patient.id), people.patient.external_id):
        errors.append(
            FieldError(
                "QuestionnaireResponse.subject", "wrong-patient",
                "The subject is not the patient of the dyad the response is stored to.",
            )
        )  # fmt: skip
    if author is not None and not (
        _names(author, "Practitioner", str(people.practitioner.id), people.practitioner.external_id)
        or _names(author, "Patient", str(people.patient.id), people.patient.external_id)
    ):
        errors.append(
            FieldError(
                "QuestionnaireResponse.author", "wrong-author",
                "The author is neither the practitioner nor the patient of the dyad.",
            )
        )  # fmt: skip
    if errors:
        raise ValidationFailed("The response names other people than its dyad's.", tuple(errors))


def _names(reference: dict[str, Any], kind: str, rapport_id: str, external_id: str) -> bool:
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


def _person(qr: dict[str, Any], where: str, *, required: bool) -> dict[str, Any] | None:
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


def _external_id(reference: dict[str, Any] | None, where: str) -> str:
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


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ValidationFailed(
            "The body is not valid JSON.", (FieldError("body", "malformed-json", "Send JSON."),)
        ) from None


def _extract_input(body: Any) -> dict[str, Any]:
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
    return _resource(body, "QuestionnaireResponse")


def _resource(body: Any, kind: str) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != kind:
        raise ValidationFailed(
            f"Expected a {kind}.",
            (FieldError("resourceType", "wrong-resource", f"resourceType must be {kind}."),),
        )
    return body


def _definition_of(
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


def _extension(qr: dict[str, Any], url: str, key: str, kind: Any) -> Any:
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


def _authored(qr: dict[str, Any]) -> datetime | None:
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
