"""The GraphQL schema: queries (mutations in mutations.py), each a call to a use case."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import graphql
import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext, Info

from service.api.graphql.arguments import page_size, uuid_arg
from service.api.graphql.context import Context
from service.api.graphql.enums import AlertKindArg, AlertStatusArg, PopulationArg, domain
from service.api.graphql.errors import should_mask
from service.api.graphql.extensions import extensions
from service.api.graphql.guard import Limits
from service.api.graphql.insight_types import Calibration, parse_id
from service.api.graphql.mutations import Mutation
from service.api.graphql.record_types import Alert, Dyad, Patient, Practitioner
from service.api.graphql.resolve import domain_call, domain_value, or_none
from service.api.graphql.scoring_types import (
    Instrument,
    ResponseInput,
    ScoreResult,
    answers_of,
)
from service.app.rendering import score_dict
from service.domain.alerts import AlertKind, AlertStatus
from service.domain.errors import InstrumentNotFound
from service.domain.instruments.model import Population

log = logging.getLogger("rapport.errors")

Ctx = Info[Context, None]
T = TypeVar("T")


@strawberry.type
class Query:
    @strawberry.field
    def instruments(self, info: Ctx) -> list[Instrument]:
        return [Instrument.of(d) for d in info.context.services.instruments.list()]

    @strawberry.field
    def score(
        self,
        info: Ctx,
        instrument: str,
        responses: list[ResponseInput],
        population: PopulationArg | None = None,
    ) -> ScoreResult:
        # Synchronous, as the use case is: no coroutine for graphql-core to await.
        chosen = domain(Population, population)
        scored = domain_value(
            info.context.services.instruments.score, instrument, answers_of(responses), chosen
        )
        return ScoreResult.of(score_dict(scored))

    @strawberry.field
    def instrument(self, info: Ctx, id: str) -> Instrument | None:
        try:
            return Instrument.of(info.context.services.instruments.get(id))
        except InstrumentNotFound:
            return None

    @strawberry.field
    async def patients(self, info: Ctx, first: int = 50, after: str | None = None) -> list[Patient]:
        async def run() -> list[Patient]:
            records = info.context.services.records
            page = await records.patients(info.context.principal, after, page_size(first))
            return [Patient.of(p) for p in page.items]

        return await domain_call(run())

    @strawberry.field
    async def practitioners(
        self, info: Ctx, first: int = 50, after: str | None = None
    ) -> list[Practitioner]:
        async def run() -> list[Practitioner]:
            records = info.context.services.records
            page = await records.practitioners(info.context.principal, after, page_size(first))
            return [Practitioner.of(p) for p in page.items]

        return await domain_call(run())

    @strawberry.field
    async def alert(self, info: Ctx, id: strawberry.ID) -> Alert | None:
        found = await _by_id(
            id, lambda key: info.context.services.alerts.get(info.context.principal, key)
        )
        return Alert.of(found) if found else None

    @strawberry.field
    async def patient(self, info: Ctx, id: strawberry.ID) -> Patient | None:
        found = await _by_id(
            id, lambda key: info.context.services.records.patient(info.context.principal, key)
        )
        return Patient.of(found) if found else None

    @strawberry.field
    async def practitioner(self, info: Ctx, id: strawberry.ID) -> Practitioner | None:
        records = info.context.services.records
        found = await _by_id(id, lambda key: records.practitioner(info.context.principal, key))
        return Practitioner.of(found) if found else None

    @strawberry.field
    async def dyad(self, info: Ctx, id: strawberry.ID) -> Dyad | None:
        found = await _by_id(
            id, lambda key: info.context.services.records.dyad(info.context.principal, key)
        )
        return Dyad.of(found) if found else None

    @strawberry.field
    async def dyads(self, info: Ctx, first: int = 50, after: str | None = None) -> list[Dyad]:
        async def run() -> list[Dyad]:
            records = info.context.services.records
            page = await records.dyads(info.context.principal, after, page_size(first))
            return [Dyad.of(d) for d in page.items]

        return await domain_call(run())

    @strawberry.field
    async def calibration(
        self, info: Ctx, practitioner_id: strawberry.ID
    ) -> list[Calibration] | None:
        insights = info.context.services.insights
        found = await _by_id(
            practitioner_id, lambda key: insights.calibration(info.context.principal, key)
        )
        return None if found is None else [Calibration.of(c) for c in found]

    @strawberry.field
    async def alerts(
        self, info: Ctx, status: AlertStatusArg | None = None, kind: AlertKindArg | None = None,
        dyad_id: strawberry.ID | None = None, first: int = 50, after: str | None = None,
    ) -> list[Alert]:  # fmt: skip
        async def run() -> list[Alert]:
            chosen_status = domain(AlertStatus, status)
            statuses = frozenset({chosen_status}) if chosen_status else None
            chosen = domain(AlertKind, kind)
            dyad = uuid_arg(dyad_id, "dyadId") if dyad_id else None
            page = await info.context.services.alerts.find(
                info.context.principal, after, page_size(first), statuses, chosen, dyad
            )
            return [Alert.of(a) for a in page.items]

        return await domain_call(run())


async def _by_id(id: str, fetch: Callable[[uuid.UUID], Awaitable[T]]) -> T | None:
    """Not an id, not found, or another tenant's: all null, indistinguishably."""
    key = parse_id(id)
    return None if key is None else await or_none(fetch(key))


class RapportSchema(strawberry.Schema):
    """Strawberry's schema, logging only the errors it will mask (the others are the
    client's: a bad document, a domain refusal) and never their arguments."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                log.error(
                    "unexpected error in GraphQL at %s", error.path, exc_info=error.original_error
                )


def build_schema(introspection: bool = False, limits: Limits | None = None) -> RapportSchema:
    """The types and resolvers, run by Strawberry with the limits of guard.py, the caches
    and error masking of extensions.py, introspection refused unless asked for."""
    # The guard reads the schema's types as graphql-core builds them from the SDL.
    types = graphql.build_schema(str(strawberry.Schema(query=Query, mutation=Mutation)))
    return RapportSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions(types, limits or Limits(), introspection),
    )
