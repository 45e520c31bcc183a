"""Charts of a dyad's progress and alliance, and of a practitioner's calibration.

Each chart comes as SVG, PNG, or its Vega-Lite specification (``.vl.json``) for an EHR that
draws its own. The data come from the same use cases as ``/progress``, ``/concordance`` and
``/calibration``, with the same scopes, tenancy and audit; rendering (about as long as a
database read) runs in the thread pool so the event loop keeps serving.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from service.api.charts.alliance import alliance_chart
from service.api.charts.cache import DRAWINGS, chart_key
from service.api.charts.cache import key as cache_key
from service.api.charts.calibration import calibration_chart
from service.api.charts.progress import progress_chart
from service.api.charts.render import to_png, to_svg
from service.api.charts.spec import Chart
from service.api.deps import ChartsDep, PrincipalDep
from service.api.rest.problems import ProblemResponses
from service.domain.errors import FieldError, ValidationFailed
from service.domain.records import Principal

router = APIRouter(prefix="/v1", responses=ProblemResponses.of(401, 403, 404, 422))

SVG, PNG, VEGA_LITE = "image/svg+xml", "image/png", "application/json"
FORMATS: dict[str, tuple[str, dict[str, Any]]] = {
    "svg": (SVG, {"type": "string", "description": "An SVG document with <title> and <desc>"}),
    "png": (PNG, {"type": "string", "format": "binary"}),
    "vl.json": (
        VEGA_LITE,
        {"type": "object", "additionalProperties": True,
         "description": "A Vega-Lite specification (its $schema names the version), data inline"},
    ),
}  # fmt: skip
NO_STORE = {"Cache-Control": "no-store"}  # patient data: never kept by a shared cache
ClientForm = Annotated[
    str, Query(max_length=64, description="The client form of the pair: wai-sr or haq-ii")
]


async def rendered(
    principal: Principal, extension: str, chart: Callable[[], Chart], *data: object
) -> Response:
    """The chart in ``extension``'s format, made and drawn in the thread pool unless
    remembered (service.api.charts.cache): keyed by ``data`` when given (a chart altair
    builds afresh), else by the chart's specification (one filled from its template)."""
    media, _ = FORMATS[extension]
    draw, tenant_id = DRAWS[extension], principal.tenant_id

    def drawn() -> str | bytes:
        if data:
            return DRAWINGS.drawn(cache_key(tenant_id, extension, *data), lambda: draw(chart()))
        made = chart()
        return DRAWINGS.drawn(chart_key(tenant_id, extension, made), lambda: draw(made))

    body = await run_in_threadpool(drawn)
    return Response(body, media_type=media, headers=NO_STORE)


DRAWS: dict[str, Callable[[Chart], str | bytes]] = {
    "svg": to_svg, "png": to_png, "vl.json": lambda chart: orjson.dumps(chart.spec),
}  # fmt: skip


def nothing_to_draw(what: str) -> ValidationFailed:
    return ValidationFailed(
        f"There is nothing to draw yet: {what}.", (FieldError("instrument", "no-data", what),)
    )


def _responses(extension: str) -> dict[int | str, dict[str, Any]]:
    media, schema = FORMATS[extension]
    return {200: {"description": "The chart", "content": {media: {"schema": schema}}}}


def _register(
    path: str, name: str, tag: str, summary: str, description: str,
    build: Callable[[str], Callable[..., Awaitable[Response]]],
) -> None:  # fmt: skip
    for extension in FORMATS:
        router.add_api_route(
            f"{path}.{extension}", build(extension), methods=["GET"], tags=[tag],
            name=f"{name}_{extension.replace('.', '_')}", summary=f"{summary} ({extension})",
            description=description, response_class=Response,
            responses=_responses(extension),
        )  # fmt: skip


def _progress(extension: str) -> Callable[..., Awaitable[Response]]:
    async def chart(
        dyad_id: uuid.UUID, principal: PrincipalDep, charts: ChartsDep,
        instrument: Annotated[str, Query(min_length=1, max_length=64, examples=["phq-9"])],
    ) -> Response:  # fmt: skip
        data = await charts.progress(principal, dyad_id, instrument)
        if not any(p.total is not None for p in data.view.progress.points):
            raise nothing_to_draw(f"the dyad has no scored {data.definition.short_name}")
        return await rendered(principal, extension, lambda: progress_chart(data))

    return chart


def _alliance(extension: str) -> Callable[..., Awaitable[Response]]:
    async def chart(
        dyad_id: uuid.UUID, principal: PrincipalDep, charts: ChartsDep,
        instrument: ClientForm = "wai-sr",
    ) -> Response:  # fmt: skip
        data = await charts.alliance(principal, dyad_id, instrument)
        if not any(p.total is not None for p in (*data.client, *data.therapist)):
            form = data.concordance.client_form
            raise nothing_to_draw(f"the dyad has no scored {form.short_name} of either side")
        return await rendered(principal, extension, lambda: alliance_chart(data))

    return chart


def _calibration(extension: str) -> Callable[..., Awaitable[Response]]:
    async def chart(
        practitioner_id: uuid.UUID, principal: PrincipalDep, charts: ChartsDep,
        instrument: ClientForm = "wai-sr",
    ) -> Response:  # fmt: skip
        data = await charts.calibration(principal, practitioner_id, instrument)
        if not data.calibration.per_dyad:
            raise nothing_to_draw(
                f"the practitioner has no session rated on both {data.client_form.short_name} forms"
            )
        c = data.client_form
        return await rendered(
            principal, extension, lambda: calibration_chart(data), "calibration", c.id,
            c.version, data.practitioner_id, data.calibration,
        )  # fmt: skip

    return chart


_register(
    "/dyads/{dyad_id}/charts/progress", "get_progress_chart", "charts",
    "Chart of an instrument's totals by session",
    "Totals by session against the instrument's severity bands, the clinical cut-off for "
    "the patient's population and the reliable-change band around the first session; "
    "points marked by reliable change, alerts marked at their session. 422 `no-data` when "
    "the dyad has no scored administration of the instrument.",
    _progress,
)  # fmt: skip
_register(
    "/dyads/{dyad_id}/charts/alliance", "get_alliance_chart", "charts",
    "Chart of the client's and the therapist's alliance ratings by session",
    "Both totals of a paired form on one axis, discordant sessions marked, ruptures of the "
    "client's series and their repairs marked. Discordance is descriptive, not a validated "
    "predictor of outcome. 422 when the instrument is not the client form of a pair, or "
    "when neither form was scored.",
    _alliance,
)  # fmt: skip
_register(
    "/practitioners/{practitioner_id}/charts/calibration", "get_calibration_chart", "charts",
    "Chart of a practitioner's alliance calibration, dyad by dyad",
    "Each dyad's mean client-minus-therapist difference with its 95 % interval, against "
    "zero and the expected offset. 422 when the instrument is not the client form of a "
    "pair, or when no session was rated on both forms.",
    _calibration,
)  # fmt: skip
