"""Typed dependencies shared by every adapter: services, the caller, and who they are.

GraphQL and FHIR contexts are built from these same functions, so authentication and tenant
resolution run through identical code whatever the protocol.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.app.administrations import Administrations
from service.app.alerting import Alerts
from service.app.auth import require
from service.app.insights import Insights
from service.app.instruments import InstrumentService
from service.app.records import Records
from service.bootstrap import Services
from service.domain.records import Principal, Scope

bearer = HTTPBearer(
    auto_error=False,
    description="A Rapport API key: `rapport create-api-key --tenant NAME`.",
)


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Dependencies are ``async def`` although they do no I/O: FastAPI runs a plain ``def``
# dependency in the thread pool, which cost more than the scoring itself (bench/README.md).
async def get_services(request: Request) -> Services:
    return services_of(request)


async def get_instruments(request: Request) -> InstrumentService:
    return services_of(request).instruments


async def get_records(request: Request) -> Records:
    return services_of(request).records


async def get_administrations(request: Request) -> Administrations:
    return services_of(request).administrations


async def get_insights(request: Request) -> Insights:
    return services_of(request).insights


async def get_alerts(request: Request) -> Alerts:
    return services_of(request).alerts


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    authorization = request.headers.get("authorization")
    return await services_of(request).authenticator.authenticate(authorization)


ServicesDep = Annotated[Services, Depends(get_services)]
InstrumentsDep = Annotated[InstrumentService, Depends(get_instruments)]
RecordsDep = Annotated[Records, Depends(get_records)]
AdministrationsDep = Annotated[Administrations, Depends(get_administrations)]
InsightsDep = Annotated[Insights, Depends(get_insights)]
AlertsDep = Annotated[Alerts, Depends(get_alerts)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_scope(scope: Scope, action: str) -> Any:
    """A route dependency that refuses (403, audited) before the body is even parsed."""

    async def check(request: Request, principal: PrincipalDep) -> None:
        await require(services_of(request).transact, principal, scope, action)

    return Depends(check)
