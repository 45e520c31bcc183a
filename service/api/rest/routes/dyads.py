"""/v1/dyads and their administrations."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, status
from starlette.responses import Response

from service.api.deps import AdministrationsDep, PrincipalDep, RecordsDep, scoped
from service.api.rest.problems import ProblemResponses
from service.api.rest.routes.params import DEFAULT_PAGE, Cursor, Limit
from service.api.rest.schemas.records import (
    AdministrationCreate,
    AdministrationOut,
    AdministrationPage,
    DyadCreate,
    DyadOut,
    DyadPage,
)
from service.app.administrations import NewAdministration
from service.app.records import NewDyad
from service.app.rendering import administration_body
from service.domain.instruments.model import Population, Respondent
from service.domain.records import Principal, Scope

router = APIRouter(prefix="/v1/dyads", tags=["dyads"], responses=ProblemResponses.of(401, 403))

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retries with the same key and body return the original response; "
        "nothing is stored twice. The same key with another body is refused (422).",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DyadOut,
    summary="Pair a patient with a practitioner for an episode of care",
    responses=ProblemResponses.of(422),
)
async def create_dyad(
    body: DyadCreate,
    principal: Annotated[Principal, scoped(Scope.WRITE, "dyad.create")],
    records: RecordsDep,
) -> DyadOut:
    new = NewDyad(body.patient_id, body.practitioner_id, body.started_on, body.ended_on)
    return DyadOut.of(await records.create_dyad(principal, new))


@router.get(
    "/{dyad_id}",
    response_model=DyadOut,
    summary="One dyad",
    responses=ProblemResponses.of(404, 422),
)
async def get_dyad(dyad_id: uuid.UUID, principal: PrincipalDep, records: RecordsDep) -> DyadOut:
    return DyadOut.of(await records.dyad(principal, dyad_id))


@router.get(
    "",
    response_model=DyadPage,
    summary="The tenant's dyads, oldest first",
    responses=ProblemResponses.of(422),
)
async def list_dyads(
    principal: PrincipalDep,
    records: RecordsDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
    patient_id: Annotated[uuid.UUID | None, Query()] = None,
    practitioner_id: Annotated[uuid.UUID | None, Query()] = None,
) -> DyadPage:
    page = await records.dyads(principal, cursor, limit, patient_id, practitioner_id)
    return DyadPage(items=[DyadOut.of(d) for d in page.items], next_cursor=page.next_cursor)


@router.post(
    "/{dyad_id}/administrations",
    status_code=status.HTTP_201_CREATED,
    response_model=AdministrationOut,
    summary="Store a completed questionnaire and return its score",
    description=(
        "Scores and stores one administration. The session is created when first named. "
        "Send an `Idempotency-Key` so that retries never store twice."
    ),
    responses=ProblemResponses.of(404, 422),
)
async def submit_administration(
    dyad_id: uuid.UUID,
    body: AdministrationCreate,
    principal: Annotated[Principal, scoped(Scope.WRITE, "administration.create")],
    administrations: AdministrationsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    new = NewAdministration(
        dyad_id=dyad_id,
        instrument=body.instrument,
        session=body.session,
        responses=body.responses,
        respondent=Respondent(body.respondent) if body.respondent else None,
        completed_at=body.completed_at,
        population=Population(body.population) if body.population else None,
    )
    submitted = await administrations.submit(principal, new, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if submitted.replayed else None
    return Response(
        orjson.dumps(submitted.body),
        status_code=submitted.status_code,
        media_type="application/json",
        headers=headers,
    )


@router.get(
    "/{dyad_id}/administrations",
    response_model=AdministrationPage,
    summary="The dyad's administrations, oldest first",
    responses=ProblemResponses.of(404, 422),
)
async def list_administrations(
    dyad_id: uuid.UUID,
    principal: PrincipalDep,
    administrations: AdministrationsDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
    instrument: Annotated[
        str | None, Query(max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    ] = None,
) -> Response:
    page = await administrations.find(principal, dyad_id, cursor, limit, instrument)
    body = {
        "items": [administration_body(a) for a in page.items],
        "next_cursor": page.next_cursor,
    }
    return Response(orjson.dumps(body), media_type="application/json")
