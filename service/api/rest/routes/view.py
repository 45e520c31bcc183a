"""View links and the dyad page they open.

``POST /v1/dyads/{id}/view-links`` (scope read) signs a link to one dyad's page, valid at
most 15 minutes; ``GET /view/{token}`` serves the page to whoever holds the link (an EHR's
iframe), checked and audited on every use (service.app.view_links).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from service.api.charts.alliance import alliance_chart
from service.api.charts.cache import DRAWINGS, chart_key
from service.api.charts.progress import progress_chart
from service.api.charts.render import to_svg
from service.api.charts.spec import Chart
from service.api.deps import ChartsDep, ViewLinksDep, scoped, services_of
from service.api.page.render import STYLESHEET, dyad_page, refused_page, security_headers
from service.api.rest.problems import ProblemResponses
from service.app.charts import ChartData
from service.app.view_links import MAX_SECONDS, Viewer
from service.domain.errors import Forbidden, NotFound
from service.domain.records import Principal, Scope

router = APIRouter(responses=ProblemResponses.of(401, 403, 404, 422))
HTML = "text/html; charset=utf-8"


class ViewLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in: int = Field(
        default=MAX_SECONDS, ge=1, le=MAX_SECONDS,
        description="Seconds the link stays valid: at most 900 (15 minutes), the default",
    )  # fmt: skip


class ViewLinkOut(BaseModel):
    url: str = Field(description="The page's address: open it in an iframe; it is read-only")
    expires_at: datetime


@router.post(
    "/v1/dyads/{dyad_id}/view-links",
    status_code=201,
    response_model=ViewLinkOut,
    tags=["dyads"],
    summary="A signed, read-only link to the dyad's page, for an EHR to embed",
    description=(
        "The page shows the progress and alliance charts, the latest scores, the open alerts "
        "in plain words and the concordance summary. The link opens that dyad alone, lasts "
        "at most 15 minutes, is audited on every use and dies when the API key that created "
        "it is revoked. Embedding origins come from `RAPPORT_FRAME_ANCESTORS`."
    ),
)
async def create_view_link(
    dyad_id: uuid.UUID, request: Request, links: ViewLinksDep,
    principal: Annotated[Principal, scoped(Scope.READ, "view-link.create")],
    body: ViewLinkIn | None = None,
) -> ViewLinkOut:  # fmt: skip
    seconds = (body or ViewLinkIn()).expires_in
    link = await links.create(principal, dyad_id, seconds)
    return ViewLinkOut(url=str(request.url_for("view_page", token=link.token)),
                       expires_at=link.expires_at)  # fmt: skip


@router.get("/view/page.css", include_in_schema=False)
async def view_stylesheet() -> Response:
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/view/{token}", include_in_schema=False, name="view_page")
async def view_page(
    token: str, request: Request, links: ViewLinksDep, charts: ChartsDep
) -> Response:
    headers = security_headers(services_of(request).settings.frame_ancestors)
    stylesheet = str(request.url_for("view_stylesheet").path)
    try:
        viewer = await links.open(token)
    except (NotFound, Forbidden) as refused:
        status = 404 if isinstance(refused, NotFound) else 403
        return Response(
            refused_page(refused.detail, stylesheet), status, headers=headers, media_type=HTML
        )
    html = await _page(viewer, charts, stylesheet)
    return Response(html, headers=headers, media_type=HTML)


def _drawn(tenant_id: uuid.UUID, chart: Callable[[], Chart], name: str) -> str:
    """The chart's SVG for the page, unless remembered (service.api.charts.cache)."""
    made = chart()
    key = chart_key(tenant_id, f"page-svg-{name}", made)
    return DRAWINGS.drawn_text(key, lambda: to_svg(made, name))


async def _page(viewer: Viewer, charts: ChartData, stylesheet: str) -> str:
    principal, dyad_id = viewer.principal, viewer.dyad_id
    overview = await charts.overview(principal, dyad_id)
    progress_svg = alliance_svg = concordance = None
    if overview.outcome_instrument is not None:
        progress = await charts.progress(principal, dyad_id, overview.outcome_instrument)
        progress_svg = await run_in_threadpool(
            _drawn, principal.tenant_id, lambda: progress_chart(progress), "progress"
        )
    if overview.alliance_instrument is not None:
        alliance = await charts.alliance(principal, dyad_id, overview.alliance_instrument)
        alliance_svg = await run_in_threadpool(
            _drawn, principal.tenant_id, lambda: alliance_chart(alliance), "alliance"
        )
        concordance = alliance.concordance
    return dyad_page(
        dyad_id=str(dyad_id), expires_at=viewer.expires_at, stylesheet=stylesheet,
        overview=overview, progress_svg=progress_svg, alliance_svg=alliance_svg,
        concordance=concordance,
    )  # fmt: skip
