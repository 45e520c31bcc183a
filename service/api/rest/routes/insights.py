"""Progress, concordance and calibration."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from service.api.deps import InsightsDep, PrincipalDep
from service.api.rest.problems import ProblemResponses
from service.api.rest.schemas.insights import CalibrationListOut, ConcordanceOut, ProgressOut
from service.app.insight_bodies import calibration_body, concordance_body, progress_body
from service.domain.concordance import DISCORDANCE_NOTE

router = APIRouter(prefix="/v1", responses=ProblemResponses.of(401, 403, 404, 422))


@router.get(
    "/dyads/{dyad_id}/progress",
    response_model=ProgressOut,
    tags=["dyads"],
    summary="Change over sessions for one instrument, and the episode's classification",
    description=(
        "Each point's change is measured from the first scored session, in the instrument's "
        "own direction (a fall is an improvement on PHQ-9, a rise on ORS). Reliable change "
        "uses the definition's published threshold (met at the threshold) or Jacobson-Truax "
        "constants (exceeded). For PHQ-9 and GAD-7, `nhs_talking_therapies` gives the paired "
        "NHS Talking Therapies outcomes (rules in docs/clinical-rules.md)."
    ),
)
async def get_progress(
    dyad_id: uuid.UUID,
    principal: PrincipalDep,
    insights: InsightsDep,
    instrument: Annotated[str, Query(min_length=1, max_length=64, examples=["phq-9"])],
) -> Response:
    body = progress_body(await insights.progress(principal, dyad_id, instrument))
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")


@router.get(
    "/dyads/{dyad_id}/concordance",
    response_model=ConcordanceOut,
    tags=["dyads"],
    summary="Client and therapist alliance ratings compared, session by session",
    description=DISCORDANCE_NOTE,
)
async def get_concordance(
    dyad_id: uuid.UUID,
    principal: PrincipalDep,
    insights: InsightsDep,
    instrument: Annotated[
        str, Query(max_length=64, description="The client form of the pair: wai-sr or haq-ii")
    ] = "wai-sr",
) -> Response:
    body = concordance_body(await insights.concordance(principal, dyad_id, instrument))
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/practitioners/{practitioner_id}/calibration",
    response_model=CalibrationListOut,
    tags=["practitioners"],
    summary="How far a practitioner's alliance ratings sit from their clients'",
    description=(
        "Across all of the practitioner's dyads: the bias (mean client minus therapist) and "
        "spread of the differences, per instrument pair, against the expected offset. "
        + DISCORDANCE_NOTE
    ),
)
async def get_calibration(
    practitioner_id: uuid.UUID, principal: PrincipalDep, insights: InsightsDep
) -> dict[str, Any]:
    items = await insights.calibration(principal, practitioner_id)
    return {
        "practitioner_id": practitioner_id,
        "items": [calibration_body(c) for c in items],
        "note": DISCORDANCE_NOTE,
    }
