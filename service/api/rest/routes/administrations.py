"""/v1/administrations: read one, and void one entered in error."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from service.api.deps import PrincipalDep, scoped, services_of
from service.api.rest.problems import ProblemResponses
from service.api.rest.schemas.records import AdministrationOut, VoidIn
from service.app.corrections import Corrections
from service.app.rendering import administration_body
from service.domain.records import Principal, Scope

router = APIRouter(
    prefix="/v1/administrations", tags=["administrations"], responses=ProblemResponses.of(401, 403)
)


async def get_corrections(request: Request) -> Corrections:
    return services_of(request).corrections


CorrectionsDep = Annotated[Corrections, Depends(get_corrections)]


@router.get(
    "/{administration_id}",
    response_model=AdministrationOut,
    summary="One administration: answers, score, and its status (final, superseded or voided)",
    responses=ProblemResponses.of(404, 422),
)
async def get_administration(
    administration_id: uuid.UUID, principal: PrincipalDep, corrections: CorrectionsDep
) -> Response:
    found = await corrections.get(principal, administration_id)
    return Response(orjson.dumps(administration_body(found)), media_type="application/json")


@router.post(
    "/{administration_id}/void",
    response_model=AdministrationOut,
    summary="Void an administration entered in error: kept, shown as entered-in-error, left "
    "out of progress, concordance, calibration and alerts; alerts it raised are resolved",
    responses=ProblemResponses.of(404, 422),
)
async def void_administration(
    administration_id: uuid.UUID,
    body: VoidIn,
    principal: Annotated[Principal, scoped(Scope.WRITE, "administration.void")],
    corrections: CorrectionsDep,
) -> Response:
    voided = await corrections.void(principal, administration_id, body.reason)
    return Response(orjson.dumps(administration_body(voided)), media_type="application/json")
