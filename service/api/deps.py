"""Typed dependencies shared by every adapter: services, the caller, and who they are.

GraphQL and FHIR contexts are built from these same functions, so authentication and tenant
resolution run through identical code whatever the protocol.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from service.api.refusals import remember_principal
from service.app.administrations import Administrations
from service.app.alerting import Alerts
from service.app.auth import require
from service.app.charts import ChartData
from service.app.insights import Insights
from service.app.instruments import InstrumentService
from service.app.records import Records
from service.app.view_links import ViewLinks
from service.bootstrap import Services
from service.domain.records import Principal, Scope


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


async def get_charts(request: Request) -> ChartData:
    return services_of(request).charts


async def get_view_links(request: Request) -> ViewLinks:
    return services_of(request).view_links


class ApiKey(HTTPBearer):
    """The caller's API key: a dependency that returns its ``Principal``.

    One dependency does what used to take three (the bearer scheme, authentication and the
    scope check): FastAPI's per-request cost is per dependency, and on the busiest routes it
    cost more than the work (bench/README.md). It is FastAPI's ``HTTPBearer`` (its own
    reading of the header replaced) so that OpenAPI documents the bearer scheme on every
    route that uses it. With a scope, a key
    without it is refused (403, audited) before the body is validated.
    """

    def __init__(self, scope: Scope | None = None, action: str = "") -> None:
        super().__init__(
            scheme_name="HTTPBearer",
            description="A Rapport API key: `rapport create-api-key --tenant NAME`.",
            auto_error=False,
        )
        self._scope = scope
        self._action = action

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        services = services_of(request)
        principal = await services.authenticator.authenticate(request.headers.get("authorization"))
        remember_principal(request, principal)  # for auditing a later refusal
        if self._scope is not None:
            await require(services.transact, principal, self._scope, self._action)
        return principal


ServicesDep = Annotated[Services, Depends(get_services)]
InstrumentsDep = Annotated[InstrumentService, Depends(get_instruments)]
RecordsDep = Annotated[Records, Depends(get_records)]
AdministrationsDep = Annotated[Administrations, Depends(get_administrations)]
InsightsDep = Annotated[Insights, Depends(get_insights)]
AlertsDep = Annotated[Alerts, Depends(get_alerts)]
ChartsDep = Annotated[ChartData, Depends(get_charts)]
ViewLinksDep = Annotated[ViewLinks, Depends(get_view_links)]
PrincipalDep = Annotated[Principal, Depends(ApiKey())]


def scoped(scope: Scope, action: str) -> Any:
    """The caller, refused (403, audited) unless its key has ``scope``: for write routes,
    as ``principal: Annotated[Principal, scoped(Scope.WRITE, "patient.create")]``."""
    return Depends(ApiKey(scope, action))
