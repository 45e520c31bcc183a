"""/v1/audit-events: a tenant reads its own audit trail (scope ``audit``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from service.api.deps import ServicesDep, scoped
from service.api.rest.problems import ProblemResponses
from service.api.rest.routes.params import DEFAULT_PAGE, Cursor, Limit
from service.api.rest.schemas.audit import AuditEventOut, AuditEventPage
from service.app import audit_trail
from service.domain.records import Principal, Scope

router = APIRouter(
    prefix="/v1/audit-events", tags=["audit"], responses=ProblemResponses.of(401, 403)
)


@router.get(
    "",
    response_model=AuditEventPage,
    summary="The tenant's audit events, oldest first (needs the 'audit' scope)",
    responses=ProblemResponses.of(422),
)
async def list_audit_events(
    principal: Annotated[Principal, scoped(Scope.AUDIT, "audit-event.list")],
    services: ServicesDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
    object_type: Annotated[
        str | None, Query(max_length=32, description="e.g. patient, dyad, administration")
    ] = None,
    object_id: Annotated[str | None, Query(max_length=64, description="The object's id")] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Events at or after this instant")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Events before this instant")] = None,
) -> AuditEventPage:
    page = await audit_trail.page(
        services.transact, principal, cursor, limit, object_type, object_id, since, until
    )
    return AuditEventPage(
        items=[AuditEventOut.of(e) for e in page.items], next_cursor=page.next_cursor
    )
