"""/v1/alerts: list, read, acknowledge and resolve."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import AlertsDep, PrincipalDep, scoped
from service.api.rest.problems import ProblemResponses
from service.api.rest.routes.params import DEFAULT_PAGE, Cursor, Limit
from service.api.rest.schemas.alerts import AlertOut, AlertPage, AlertTransition, Kind, Status
from service.domain.alerts import AlertKind, AlertStatus
from service.domain.records import Principal, Scope

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=ProblemResponses.of(401, 403))


@router.get(
    "",
    response_model=AlertPage,
    summary="Alerts raised when administrations were stored, oldest first",
    responses=ProblemResponses.of(422),
)
async def list_alerts(
    principal: PrincipalDep,
    alerts: AlertsDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
    status: Annotated[Status | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    dyad_id: Annotated[uuid.UUID | None, Query()] = None,
) -> AlertPage:
    page = await alerts.find(
        principal, cursor, limit,
        frozenset({AlertStatus(status)}) if status else None,
        AlertKind(kind) if kind else None, dyad_id,
    )  # fmt: skip
    return AlertPage(items=[AlertOut.of(a) for a in page.items], next_cursor=page.next_cursor)


@router.get(
    "/{alert_id}",
    response_model=AlertOut,
    summary="One alert with its evidence",
    responses=ProblemResponses.of(404, 422),
)
async def get_alert(alert_id: uuid.UUID, principal: PrincipalDep, alerts: AlertsDep) -> AlertOut:
    return AlertOut.of(await alerts.get(principal, alert_id))


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertOut,
    summary="Acknowledge an open alert (who, when and a note are recorded)",
    responses=ProblemResponses.of(404, 409, 422),
)
async def acknowledge_alert(
    alert_id: uuid.UUID,
    body: AlertTransition,
    principal: Annotated[Principal, scoped(Scope.WRITE, "alert.acknowledge")],
    alerts: AlertsDep,
) -> AlertOut:
    changed = await alerts.transition(
        principal, alert_id, AlertStatus.ACKNOWLEDGED, body.note, body.actor
    )
    return AlertOut.of(changed)


@router.post(
    "/{alert_id}/resolve",
    response_model=AlertOut,
    summary="Resolve an open or acknowledged alert",
    responses=ProblemResponses.of(404, 409, 422),
)
async def resolve_alert(
    alert_id: uuid.UUID,
    body: AlertTransition,
    principal: Annotated[Principal, scoped(Scope.WRITE, "alert.resolve")],
    alerts: AlertsDep,
) -> AlertOut:
    changed = await alerts.transition(
        principal, alert_id, AlertStatus.RESOLVED, body.note, body.actor
    )
    return AlertOut.of(changed)
