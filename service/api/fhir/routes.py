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

import uuid
from datetime import datetime
from typing import Annotated, Any

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
from service.api.fhir.bundles import searchset
from service.api.fhir.capability import SUPPORT, capability_statement
from service.api.fhir.flags import flag
from service.api.fhir.http import fhir, read, versioned
from service.api.fhir.observations import transaction
from service.api.fhir.outcome import FhirRoute, operation_outcome
from service.api.fhir.questionnaire import questionnaire
from service.api.fhir.storing import (
    as_resource,
    authored_at,
    check_people,
    conditional_identifier,
    create_answer,
    definition_of,
    extension_value,
    external_id_of,
    extract_input,
    person_named,
    qr_identifier,
    read_body,
)
from service.api.fhir.terms import Terms
from service.app.administrations import NewAdministration
from service.app.clinical_search import ClinicalSearch
from service.app.rendering import score_dict
from service.domain.alerts import AlertStatus
from service.domain.errors import FieldError, NotFound, ValidationFailed

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
    qr = extract_input(await read_body(request))
    definition = definition_of(qr, instruments.list(), terms)
    person_named(qr, "subject", required=True)
    values = item_values(qr, definition, terms)
    score = score_dict(instruments.score(definition.id, values, None))
    return fhir(transaction(qr, definition, score, values, terms))


@router.post(
    "/QuestionnaireResponse",
    status_code=201,
    summary="Store a QuestionnaireResponse as an administration",
    responses={200: {"description": "Conditional create (If-None-Exist): the existing match"}},
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
    qr = as_resource(await read_body(request), "QuestionnaireResponse")
    definition = definition_of(qr, instruments.list(), terms)
    subject = person_named(qr, "subject", required=True) or {}
    author = person_named(qr, "author", required=False)
    values = item_values(qr, definition, terms)
    search = ClinicalSearch(services.transact)
    conditional = conditional_identifier(if_none_exist)
    if conditional is not None:
        existing = await search.stored_under(principal, conditional)
        if existing is not None:
            return await create_answer(request, principal, search, definition, existing, terms, 200)
    dyad_id = dyad or extension_value(qr, terms.dyad_extension, "valueString", uuid.UUID)
    if dyad_id is None:
        dyad_id = (
            await services.records.dyad_of_pair(
                principal, external_id_of(subject, "subject"), external_id_of(author, "author")
            )
        ).id
    people = await search.dyad_people(principal, dyad_id)
    check_people(people, subject, author)
    number = session or extension_value(qr, terms.session_extension, "valueInteger", int)
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
            completed_at=authored_at(qr),
        ),
        idempotency_key,
        # The identifier's key lives in a namespace of its own (issue 16, item 8).
        fhir_identifier=conditional or qr_identifier(qr),
    )  # fmt: skip
    # A retry (the same identifier, Idempotency-Key or If-None-Exist) stored nothing new: 200
    # with what the first stored, as a conditional create that found its match answers.
    status = 200 if submitted.replayed else 201
    return await create_answer(
        request, principal, search, definition, submitted.administration, terms, status, people
    )


@router.get("/Flag/{alert_id}", summary="An alert as a Flag")
async def read_flag(
    alert_id: str, request: Request, principal: PrincipalDep, alerts: AlertsDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    s.parse(request, {})
    try:
        parsed = uuid.UUID(alert_id)
    except ValueError:
        raise NotFound("No Flag has that id.") from None  # refused, and audited, as 404
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
