"""Liveness and readiness, for container orchestrators and load balancers."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from service.api.deps import ServicesDep
from service.api.rest.problems import ProblemResponses, problem
from service.store import migrate

router = APIRouter(tags=["health"])
log = logging.getLogger("rapport.health")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: the database answers and its schema is at the migration head",
    responses=ProblemResponses.of(503),
)
async def readyz(services: ServicesDep) -> Readiness | Response:
    head = migrate.head_revision()
    try:
        current = await services.database.read(migrate.current_revision)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("readiness check: database unreachable: %s", type(exc).__name__)
        return problem(503, "database-unavailable", "Not ready", "The database is unreachable.")
    if current != head:
        detail = f"The database schema is at {current or 'no revision'}; expected {head}."
        return problem(503, "migrations-pending", "Not ready", detail)
    return Readiness(status="ready", database="ok", migration=head)
