"""/v1/patients and /v1/practitioners."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, status

from service.api.deps import PrincipalDep, RecordsDep, scoped
from service.api.rest.problems import ProblemResponses
from service.api.rest.routes.params import DEFAULT_PAGE, Cursor, Limit
from service.api.rest.schemas.records import (
    PatientCreate,
    PatientOut,
    PatientPage,
    PractitionerCreate,
    PractitionerOut,
    PractitionerPage,
)
from service.app.records import NewPatient, NewPractitioner
from service.domain.instruments.model import Population
from service.domain.records import Principal, Scope

router = APIRouter(prefix="/v1", responses=ProblemResponses.of(401, 403))


@router.post(
    "/patients",
    status_code=status.HTTP_201_CREATED,
    response_model=PatientOut,
    tags=["patients"],
    summary="Register a patient by the EHR's identifier",
    responses=ProblemResponses.of(409, 422),
)
async def create_patient(
    body: PatientCreate,
    principal: Annotated[Principal, scoped(Scope.WRITE, "patient.create")],
    records: RecordsDep,
) -> PatientOut:
    population = Population(body.population) if body.population else None
    patient = await records.create_patient(principal, NewPatient(body.external_id, population))
    return PatientOut.of(patient)


@router.get(
    "/patients/{patient_id}",
    response_model=PatientOut,
    tags=["patients"],
    summary="One patient",
    responses=ProblemResponses.of(404, 422),
)
async def get_patient(
    patient_id: uuid.UUID, principal: PrincipalDep, records: RecordsDep
) -> PatientOut:
    return PatientOut.of(await records.patient(principal, patient_id))


@router.get(
    "/patients",
    response_model=PatientPage,
    tags=["patients"],
    summary="The tenant's patients, oldest first",
    responses=ProblemResponses.of(422),
)
async def list_patients(
    principal: PrincipalDep, records: RecordsDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
) -> PatientPage:
    page = await records.patients(principal, cursor, limit)
    return PatientPage(items=[PatientOut.of(p) for p in page.items], next_cursor=page.next_cursor)


@router.post(
    "/practitioners",
    status_code=status.HTTP_201_CREATED,
    response_model=PractitionerOut,
    tags=["practitioners"],
    summary="Register a practitioner by the EHR's identifier",
    responses=ProblemResponses.of(409, 422),
)
async def create_practitioner(
    body: PractitionerCreate,
    principal: Annotated[Principal, scoped(Scope.WRITE, "practitioner.create")],
    records: RecordsDep,
) -> PractitionerOut:
    new = NewPractitioner(body.external_id, body.display_name)
    return PractitionerOut.of(await records.create_practitioner(principal, new))


@router.get(
    "/practitioners/{practitioner_id}",
    response_model=PractitionerOut,
    tags=["practitioners"],
    summary="One practitioner",
    responses=ProblemResponses.of(404, 422),
)
async def get_practitioner(
    practitioner_id: uuid.UUID, principal: PrincipalDep, records: RecordsDep
) -> PractitionerOut:
    return PractitionerOut.of(await records.practitioner(principal, practitioner_id))


@router.get(
    "/practitioners",
    response_model=PractitionerPage,
    tags=["practitioners"],
    summary="The tenant's practitioners, oldest first",
    responses=ProblemResponses.of(422),
)
async def list_practitioners(
    principal: PrincipalDep, records: RecordsDep, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
) -> PractitionerPage:
    page = await records.practitioners(principal, cursor, limit)
    return PractitionerPage(
        items=[PractitionerOut.of(p) for p in page.items], next_cursor=page.next_cursor
    )
