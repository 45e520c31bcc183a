"""/fhir/R4: a thin adapter over the same use cases as REST.

Storing a QuestionnaireResponse (documented mapping, docs/fhir.md):
- patient: ``subject.identifier.value`` is the EHR identifier given to ``POST /v1/patients``;
- practitioner: ``author.identifier.value`` likewise;
- dyad: the ``dyad`` query parameter, else the ``dyad-id`` extension on the response, else
  the one dyad pairing that patient and practitioner;
- session: the ``session`` query parameter, else the ``session-number`` extension;
- completed_at: ``authored``; idempotency: the ``Idempotency-Key`` header, else the
  response's ``identifier.value``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from service.api.deps import (
    AdministrationsDep,
    AlertsDep,
    InstrumentsDep,
    PrincipalDep,
    RecordsDep,
    ServicesDep,
)
from service.api.fhir.answers import item_values
from service.api.fhir.capability import capability_statement
from service.api.fhir.flags import flag
from service.api.fhir.observations import transaction
from service.api.fhir.outcome import FhirRoute, operation_outcome
from service.api.fhir.questionnaire import questionnaire
from service.api.fhir.terms import FHIR_JSON, Terms
from service.app.administrations import NewAdministration
from service.app.rendering import score_dict
from service.domain.alerts import AlertStatus
from service.domain.errors import FieldError, InstrumentNotFound, ValidationFailed
from service.domain.instruments.model import InstrumentDefinition

router = APIRouter(prefix="/fhir/R4", tags=["fhir"], route_class=FhirRoute)
RESOURCE_BODY = {"requestBody": {"required": True, "content": {FHIR_JSON: {}}}}  # see api/openapi
RELEASED = "2026-11-26"


def _fhir(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type=FHIR_JSON)


def _terms(services: Any) -> Terms:
    return Terms(services.settings.fhir_canonical_base)


@router.get("/metadata", summary="CapabilityStatement")
async def metadata(services: ServicesDep) -> Response:
    return _fhir(capability_statement(_terms(services), RELEASED))


@router.get("/Questionnaire/{instrument_id}", summary="An instrument as a Questionnaire")
async def read_questionnaire(
    instrument_id: str, _principal: PrincipalDep, instruments: InstrumentsDep, services: ServicesDep
) -> Response:
    return _fhir(questionnaire(instruments.get(instrument_id), _terms(services)))


@router.get("/Questionnaire", summary="Search Questionnaires by canonical url")
async def search_questionnaires(
    _principal: PrincipalDep,
    instruments: InstrumentsDep,
    services: ServicesDep,
    url: Annotated[str | None, Query(max_length=500)] = None,
    version: Annotated[str | None, Query(max_length=50)] = None,
) -> Response:
    terms = _terms(services)
    found = [
        questionnaire(d, terms)
        for d in instruments.list()
        if (url is None or terms.questionnaire(d.id) == url.split("|")[0])
        and (version is None or d.version == version)
    ]
    return _fhir(_searchset(found))


@router.post(
    "/QuestionnaireResponse/$extract",
    summary="Score a QuestionnaireResponse into Observations, without storing",
    openapi_extra=RESOURCE_BODY,
)
async def extract(
    request: Request, _principal: PrincipalDep, instruments: InstrumentsDep, services: ServicesDep
) -> Response:
    terms = _terms(services)
    qr = await _resource(request, "QuestionnaireResponse")
    definition = _definition_of(qr, instruments.list(), terms)
    _require_subject(qr)
    values = item_values(qr, definition, terms)
    score = score_dict(instruments.score(definition.id, values, None))
    return _fhir(transaction(qr, definition, score, terms))


@router.post(
    "/QuestionnaireResponse",
    status_code=201,
    summary="Store a QuestionnaireResponse as an administration; answer with its Bundle",
    openapi_extra=RESOURCE_BODY,
)
async def create_response(
    request: Request,
    principal: PrincipalDep,
    instruments: InstrumentsDep,
    records: RecordsDep,
    administrations: AdministrationsDep,
    services: ServicesDep,
    dyad: Annotated[uuid.UUID | None, Query()] = None,
    session: Annotated[int | None, Query(ge=1)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Response:
    terms = _terms(services)
    qr = await _resource(request, "QuestionnaireResponse")
    definition = _definition_of(qr, instruments.list(), terms)
    subject = _require_subject(qr)
    values = item_values(qr, definition, terms)
    dyad_id = dyad or _extension(qr, terms.dyad_extension, "valueString", uuid.UUID)
    if dyad_id is None:
        author = _identifier(qr.get("author"), "author")
        dyad_id = (await records.dyad_of_pair(principal, subject, author)).id
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
    submitted = await administrations.submit(
        principal,
        NewAdministration(
            dyad_id=dyad_id, instrument=definition.id, session=number, responses=values,
            completed_at=_authored(qr),
        ),
        idempotency_key,
        fhir_identifier=_qr_identifier(qr),  # its own key namespace (issue 16, item 8)
    )  # fmt: skip
    bundle = transaction(qr, definition, submitted.body["score"], terms)
    return _fhir(bundle, 201)


@router.get("/Flag/{alert_id}", summary="An alert as a Flag")
async def read_flag(
    alert_id: uuid.UUID, principal: PrincipalDep, alerts: AlertsDep, services: ServicesDep
) -> Response:
    alert = await alerts.get(principal, alert_id)
    [(found, patient)] = await alerts.with_patients(principal, [alert])
    return _fhir(flag(found, patient, _terms(services)))


@router.get("/Flag", summary="Search alerts as Flags")
async def search_flags(
    principal: PrincipalDep,
    alerts: AlertsDep,
    services: ServicesDep,
    status: Annotated[str | None, Query(pattern="^(active|inactive)$")] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=200)] = 50,
) -> Response:
    wanted = {
        "active": frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED}),
        "inactive": frozenset({AlertStatus.RESOLVED}),
        None: None,
    }[status]
    page = await alerts.find(principal, None, count, wanted)
    terms = _terms(services)
    pairs = await alerts.with_patients(principal, page.items)
    return _fhir(_searchset([flag(a, p, terms) for a, p in pairs]))


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
    include_in_schema=False,
)
async def unsupported(path: str) -> Response:
    return operation_outcome(404, f"Rapport's FHIR face does not support '{path}'.")


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "resource": r,
                "search": {"mode": "match"},
                "fullUrl": f"{r['resourceType']}/{r['id']}",
            }
            for r in resources
        ],
    }


async def _resource(request: Request, kind: str) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ValidationFailed(
            "The body is not valid JSON.", (FieldError("body", "malformed-json", "Send JSON."),)
        ) from None
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


def _identifier(reference: Any, where: str) -> str:
    value = (
        (reference or {}).get("identifier", {}).get("value")
        if isinstance(reference, dict)
        else None
    )
    if not isinstance(value, str) or not value:
        raise ValidationFailed(
            f"The response's {where} has no identifier.",
            (FieldError(f"QuestionnaireResponse.{where}", "required", "Give identifier.value."),),
        )
    return value


def _require_subject(qr: dict[str, Any]) -> str:
    return _identifier(qr.get("subject"), "subject")


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


def _qr_identifier(qr: dict[str, Any]) -> str | None:
    """identifier.value; the use case validates it and makes it a key of its own namespace."""
    identifier = qr.get("identifier")
    value = identifier.get("value") if isinstance(identifier, dict) else None
    return value if isinstance(value, str) and value else None


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
