"""/v1/instruments: the catalogue, and stateless scoring."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from service.api.deps import ApiKey, InstrumentsDep
from service.api.rest.problems import ProblemResponses
from service.api.rest.schemas.instruments import InstrumentDetail, InstrumentList, InstrumentSummary
from service.api.rest.schemas.scoring import ScoreRequest, ScoreResultOut
from service.app.rendering import score_dict

router = APIRouter(
    prefix="/v1/instruments",
    tags=["instruments"],
    dependencies=[Depends(ApiKey())],
    responses=ProblemResponses.of(401),
)

InstrumentId = Annotated[
    str, Path(description="Lowercase slug, e.g. phq-9", examples=["phq-9"], max_length=64)
]


@router.get("", response_model=InstrumentList, summary="List the instrument catalogue")
async def list_instruments(instruments: InstrumentsDep) -> InstrumentList:
    return InstrumentList(items=[InstrumentSummary.of(d) for d in instruments.list()])


@router.get(
    "/{instrument_id}",
    response_model=InstrumentDetail,
    summary="One instrument's full definition: items, scales, rules and their sources",
    responses=ProblemResponses.of(404, 422),
)
async def get_instrument(
    instrument_id: InstrumentId, instruments: InstrumentsDep
) -> InstrumentDetail:
    return InstrumentDetail.of(instruments.get(instrument_id))


@router.post(
    "/{instrument_id}/score",
    response_model=ScoreResultOut,
    summary="Score responses without storing anything",
    description=(
        "Scores one administration. Out-of-range values, unknown items, wrong types and "
        "fractional answers to whole-number items are rejected with 422, naming every "
        "offending item. Too many missing items is not an error: the result has null "
        "scores and a `not-scorable` flag saying why."
    ),
    responses=ProblemResponses.of(404, 422),
)
async def score(
    instrument_id: InstrumentId, body: ScoreRequest, instruments: InstrumentsDep
) -> Response:
    result = instruments.score(instrument_id, body.responses, body.population)
    return Response(orjson.dumps(score_dict(result)), media_type="application/json")
