"""FHIR read and search over the stored record: QuestionnaireResponse, Observation, Patient,
Practitioner (docs/fhir.md). Each search is parsed strictly (service/api/fhir/search.py),
resolved to one indexed query of the record (service/store/queries/clinical_search.py) and
audited like every other read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from service.api.deps import InstrumentsDep, PrincipalDep, ServicesDep, services_of
from service.api.fhir import search as s
from service.api.fhir.bundles import searchset
from service.api.fhir.http import fhir, read
from service.api.fhir.outcome import FhirRoute, operation_outcome
from service.api.fhir.questionnaire import scale_code
from service.api.fhir.records import (
    ENTERED_IN_ERROR,
    observation_resources,
    patient_resource,
    practitioner_resource,
    response_resource,
)
from service.api.fhir.terms import OBSERVATION_CATEGORY, Terms
from service.app.clinical_search import ClinicalSearch
from service.app.pagination import decode_cursor
from service.app.ports import AdministrationRecord, AdministrationSearch
from service.domain.errors import NotFound, ValidationFailed
from service.domain.records import Principal

router = APIRouter(tags=["fhir"], route_class=FhirRoute)  # included by routes.py
_PEOPLE = {"patient": frozenset({"identifier"}), "subject": frozenset({"identifier"})}
_PAGED: dict[str, frozenset[str]] = {"_count": frozenset(), "_sort": frozenset()}
SEARCH_PARAMS: dict[str, dict[str, frozenset[str]]] = {
    "QuestionnaireResponse": {
        **_PEOPLE, "authored": frozenset(), "questionnaire": frozenset(),
        "status": frozenset(), **_PAGED,
    },
    "Observation": {
        **_PEOPLE, "code": frozenset(), "date": frozenset(), "category": frozenset(),
        "status": frozenset(), **_PAGED,
    },
    "Patient": {"identifier": frozenset(), "_count": frozenset()},
    "Practitioner": {"identifier": frozenset(), "_count": frozenset()},
}  # fmt: skip
_STATUS = {"QuestionnaireResponse": "completed", "Observation": "final"}
_DATE = {"QuestionnaireResponse": "authored", "Observation": "date"}


async def get_search(request: Request) -> ClinicalSearch:
    return ClinicalSearch(services_of(request).transact)


SearchDep = Annotated[ClinicalSearch, Depends(get_search)]


def _terms(services: Any) -> Terms:
    return Terms(services.settings.fhir_canonical_base)


def _no_params(request: Request) -> None:
    s.parse(request, {})


# Patient and Practitioner -------------------------------------------------------------------


@router.get("/Patient/{patient_id}", summary="A patient, by Rapport id")
async def read_patient(
    patient_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    _no_params(request)
    patient = await services.records.patient(principal, _uuid(patient_id, "Patient"))
    return read(patient_resource(patient, _terms(services)))


@router.get("/Practitioner/{practitioner_id}", summary="A practitioner, by Rapport id")
async def read_practitioner(
    practitioner_id: str, request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    _no_params(request)
    found = await services.records.practitioner(principal, _uuid(practitioner_id, "Practitioner"))
    return read(practitioner_resource(found, _terms(services)))


@router.get("/Patient/{patient_id}/_history/{version}", summary="vread")
async def vread_patient(
    patient_id: str, version: str, request: Request, principal: PrincipalDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    _only_version(version, "Patient", patient_id)
    return await read_patient(patient_id, request, principal, services)


@router.get("/Practitioner/{practitioner_id}/_history/{version}", summary="vread")
async def vread_practitioner(
    practitioner_id: str, version: str, request: Request, principal: PrincipalDep,
    services: ServicesDep,
) -> Response:  # fmt: skip
    _only_version(version, "Practitioner", practitioner_id)
    return await read_practitioner(practitioner_id, request, principal, services)


@router.get("/Patient", summary="Find a patient by the EHR's identifier")
async def search_patients(
    request: Request, principal: PrincipalDep, services: ServicesDep, reads: SearchDep
) -> Response:
    params = s.parse(request, SEARCH_PARAMS["Patient"])
    value = _identifier_value(params, "identifier")
    terms = _terms(services)
    if value is None:  # every patient, a page at a time
        page = await services.records.patients(principal, list_cursor(params), s.count(params))
        resources = [patient_resource(p, terms) for p in page.items]
        return fhir(searchset(request, "Patient", resources, params, page.next_cursor))
    found = await reads.patient_by_external_id(principal, value)
    resources = [patient_resource(found, terms)] if found else []
    return fhir(searchset(request, "Patient", resources, params))


@router.get("/Practitioner", summary="Find a practitioner by the EHR's identifier")
async def search_practitioners(
    request: Request, principal: PrincipalDep, services: ServicesDep, reads: SearchDep
) -> Response:
    params = s.parse(request, SEARCH_PARAMS["Practitioner"])
    value = _identifier_value(params, "identifier")
    terms = _terms(services)
    if value is None:
        page = await services.records.practitioners(principal, list_cursor(params), s.count(params))
        resources = [practitioner_resource(p, terms) for p in page.items]
        return fhir(searchset(request, "Practitioner", resources, params, page.next_cursor))
    found = await reads.practitioner_by_external_id(principal, value)
    resources = [practitioner_resource(found, terms)] if found else []
    return fhir(searchset(request, "Practitioner", resources, params))


# QuestionnaireResponse and Observation ------------------------------------------------------


@router.get("/QuestionnaireResponse/{response_id}", summary="A stored response")
async def read_response(
    response_id: str, request: Request, principal: PrincipalDep, instruments: InstrumentsDep,
    services: ServicesDep, reads: SearchDep,
) -> Response:  # fmt: skip
    _no_params(request)
    if response_id == "$extract":  # an operation, not an id: it takes POST
        return operation_outcome(
            405, "$extract takes POST.", code="not-supported", headers={"Allow": "POST"}
        )
    found = await reads.administration(principal, _uuid(response_id, "QuestionnaireResponse"))
    definition = instruments.get(found.administration.instrument)
    return read(response_resource(found, definition, _terms(services)))


@router.get("/Observation/{observation_id}", summary="A score, or one of its item results")
async def read_observation(
    observation_id: str, request: Request, principal: PrincipalDep, instruments: InstrumentsDep,
    services: ServicesDep, reads: SearchDep,
) -> Response:  # fmt: skip
    _no_params(request)
    administration_id = _uuid(observation_id[:36], "Observation")
    found = await reads.administration(principal, administration_id)
    definition = instruments.get(found.administration.instrument)
    for resource in observation_resources(found, definition, _terms(services)):
        if resource["id"] == observation_id:
            return read(resource)
    raise NotFound(f"No Observation {observation_id}.")


@router.get("/QuestionnaireResponse/{response_id}/_history/{version}", summary="vread")
async def vread_response(
    response_id: str, version: str, request: Request, principal: PrincipalDep,
    instruments: InstrumentsDep, services: ServicesDep, reads: SearchDep,
) -> Response:  # fmt: skip
    _only_version(version, "QuestionnaireResponse", response_id)
    return await read_response(response_id, request, principal, instruments, services, reads)


@router.get("/Observation/{observation_id}/_history/{version}", summary="vread")
async def vread_observation(
    observation_id: str, version: str, request: Request, principal: PrincipalDep,
    instruments: InstrumentsDep, services: ServicesDep, reads: SearchDep,
) -> Response:  # fmt: skip
    _only_version(version, "Observation", observation_id)
    return await read_observation(observation_id, request, principal, instruments, services, reads)


@router.get("/QuestionnaireResponse", summary="Search stored responses")
async def search_responses(
    request: Request, principal: PrincipalDep, instruments: InstrumentsDep,
    services: ServicesDep, reads: SearchDep,
) -> Response:  # fmt: skip
    return await _search(request, principal, instruments, services, reads, "QuestionnaireResponse")


@router.get("/Observation", summary="Search scores (the totals' Observations)")
async def search_observations(
    request: Request, principal: PrincipalDep, instruments: InstrumentsDep,
    services: ServicesDep, reads: SearchDep,
) -> Response:  # fmt: skip
    return await _search(request, principal, instruments, services, reads, "Observation")


async def _search(
    request: Request, principal: Principal, instruments: Any, services: Any,
    reads: ClinicalSearch, kind: str,
) -> Response:  # fmt: skip
    params = s.parse(request, SEARCH_PARAMS[kind])
    terms = _terms(services)
    date_name = _DATE[kind]
    limit = s.count(params)
    descending = s.descending(params, date_name)
    when = s.dates(params, date_name)
    cursor = s.decode_cursor(params)
    after = _after(cursor, descending)
    catalogue = instruments.list()
    chosen = (
        _by_code(params, catalogue, terms)
        if kind == "Observation"
        else _by_questionnaire(params, catalogue, terms)
    )
    voided = _voided_wanted(params, _STATUS[kind])
    nothing = (
        when.empty
        or (chosen is not None and not chosen)
        or voided == "none"
        or (kind == "Observation" and not _category_matches(params))
    )
    patient_id: uuid.UUID | None = None
    if not nothing:
        nothing, patient_id = await patient_of(params, reads, principal)
    found: list[AdministrationRecord] = []
    if not nothing:
        found = await reads.administrations(
            principal,
            AdministrationSearch(
                limit=limit, patient_id=patient_id, instruments=chosen, since=when.since,
                before=when.before, descending=descending, after=after,
                voided=None if voided == "either" else voided == "voided",
            ),
        )  # fmt: skip
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        last = found[-1].administration
        next_cursor = s.encode_cursor(
            [last.completed_at.isoformat(), str(last.id), "desc" if descending else "asc"]
        )
    resources = []
    for record in found:
        definition = instruments.get(record.administration.instrument)
        if kind == "Observation":
            resources.append(observation_resources(record, definition, terms, members=False)[0])
        else:
            resources.append(response_resource(record, definition, terms))
    return fhir(searchset(request, kind, resources, params, next_cursor))


def _after(cursor: Any, descending: bool) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        when, last, order = cursor
        parsed = (datetime.fromisoformat(when), uuid.UUID(last))
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or order != ("desc" if descending else "asc"):
        raise s.SearchRefused("_cursor", "This _cursor belongs to another search.")
    return parsed


def _by_code(params: s.Params, catalogue: Any, terms: Terms) -> frozenset[str] | None:
    """Instruments whose total has one of the codes asked for (each ``code`` ANDed)."""
    chosen: frozenset[str] | None = None
    for options in s.tokens(params, "code"):
        matching = frozenset(
            d.id
            for d in catalogue
            for system, code in options
            if code == scale_code(d, d.total, terms)["code"]
            and system in (None, scale_code(d, d.total, terms)["system"])
        )
        chosen = matching if chosen is None else chosen & matching
    return chosen


def _by_questionnaire(params: s.Params, catalogue: Any, terms: Terms) -> frozenset[str] | None:
    chosen: frozenset[str] | None = None
    for _, value in params.all("questionnaire"):
        matching = set()
        for option in value.split(","):
            url, _, version = option.partition("|")
            matching |= {
                d.id
                for d in catalogue
                if url in (terms.questionnaire(d.id), f"Questionnaire/{d.id}")
                and version in ("", d.version)
            }
        chosen = frozenset(matching) if chosen is None else chosen & matching
    return chosen


def _voided_wanted(params: s.Params, status: str) -> str:
    """Which records the status parameter admits: "either", "voided" (entered-in-error),
    "counted" (``status``, the type's status of a record not voided) or "none"."""
    wanted = {"counted", "voided"}
    for options in s.tokens(params, "status"):
        codes = {code for _, code in options}
        admitted = {"counted"} if status in codes else set()
        if ENTERED_IN_ERROR in codes:
            admitted.add("voided")
        wanted &= admitted
    return "either" if len(wanted) == 2 else next(iter(wanted), "none")


def _category_matches(params: s.Params) -> bool:
    return all(
        any(code == "survey" and system in (None, OBSERVATION_CATEGORY) for system, code in options)
        for options in s.tokens(params, "category")
    )


async def patient_of(
    params: s.Params, reads: ClinicalSearch, principal: Principal,
    names: tuple[str, ...] = ("patient", "subject"),
) -> tuple[bool, uuid.UUID | None]:  # fmt: skip
    """(matches nothing, the patient's id or None for any) from ``patient`` and ``subject``."""
    ids: set[uuid.UUID | None] = set()
    for name in names:
        for modifier, value in params.all(name):
            if modifier == "identifier":
                _, bar, code = value.partition("|")
                found = await reads.patient_by_external_id(principal, code if bar else value)
                ids.add(found.id if found else None)
            else:
                ids.add(s.reference_id(value, "Patient"))
    if not ids:
        return False, None
    if None in ids or len(ids) > 1:
        return True, None
    return False, ids.pop()


def _identifier_value(params: s.Params, name: str) -> str | None:
    value = params.one(name)
    if value is None:
        return None
    _, bar, code = value.partition("|")
    return code if bar else value


def list_cursor(params: s.Params) -> str | None:
    """The ``_cursor`` of a list ordered by id (the REST API's cursors), checked."""
    cursor = params.one("_cursor")
    try:
        decode_cursor(cursor)
    except ValidationFailed:
        raise s.SearchRefused("_cursor", "This _cursor was not issued by this server.") from None
    return cursor


def _uuid(value: str, kind: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"No {kind} {value}.") from None


def _only_version(version: str, kind: str, resource_id: str) -> None:
    if version != "1":
        raise NotFound(f"{kind} {resource_id} has no version {version}.")
