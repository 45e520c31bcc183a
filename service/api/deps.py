"""Typed dependencies shared by every adapter (REST now; GraphQL and FHIR build on them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.app.instruments import InstrumentService
from service.bootstrap import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_instruments(request: Request) -> InstrumentService:
    return get_services(request).instruments


ServicesDep = Annotated[Services, Depends(get_services)]
InstrumentsDep = Annotated[InstrumentService, Depends(get_instruments)]
