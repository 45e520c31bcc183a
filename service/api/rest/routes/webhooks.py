"""/v1/webhooks: subscriptions to alert events, and what was delivered to them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from service.api.deps import PrincipalDep, scoped, services_of
from service.api.rest.problems import ProblemResponses
from service.api.rest.routes.params import DEFAULT_PAGE, Cursor, Limit
from service.api.rest.schemas.webhooks import (
    CreatedWebhookOut,
    DeliveryOut,
    DeliveryPage,
    WebhookIn,
    WebhookOut,
    WebhookPage,
)
from service.app.webhooks import Webhooks
from service.domain.records import Principal, Scope

router = APIRouter(
    prefix="/v1/webhooks", tags=["webhooks"], responses=ProblemResponses.of(401, 403)
)


async def get_webhooks(request: Request) -> Webhooks:
    return services_of(request).webhooks


WebhooksDep = Annotated[Webhooks, Depends(get_webhooks)]


@router.post(
    "",
    status_code=201,
    response_model=CreatedWebhookOut,
    summary="Subscribe to alert events (the signing secret is shown once, in this answer)",
    responses=ProblemResponses.of(422),
)
async def create_webhook(
    body: WebhookIn,
    principal: Annotated[Principal, scoped(Scope.WRITE, "webhook.create")],
    webhooks: WebhooksDep,
) -> CreatedWebhookOut:
    created = await webhooks.create(principal, body.url, list(body.events))
    return CreatedWebhookOut(**WebhookOut.of(created.webhook).model_dump(), secret=created.secret)


@router.get("", response_model=WebhookPage, summary="The tenant's webhooks, oldest first",
            responses=ProblemResponses.of(422))  # fmt: skip
async def list_webhooks(
    principal: PrincipalDep, webhooks: WebhooksDep, cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> WebhookPage:  # fmt: skip
    page = await webhooks.list(principal, cursor, limit)
    return WebhookPage(items=[WebhookOut.of(w) for w in page.items], next_cursor=page.next_cursor)


@router.get("/{webhook_id}", response_model=WebhookOut, summary="One webhook",
            responses=ProblemResponses.of(404, 422))  # fmt: skip
async def get_webhook(
    webhook_id: uuid.UUID, principal: PrincipalDep, webhooks: WebhooksDep
) -> WebhookOut:
    return WebhookOut.of(await webhooks.get(principal, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="What was sent to a webhook: status, tries and the last answer, oldest first",
    responses=ProblemResponses.of(404, 422),
)
async def list_deliveries(
    webhook_id: uuid.UUID, principal: PrincipalDep, webhooks: WebhooksDep,
    cursor: Cursor = None, limit: Limit = DEFAULT_PAGE,
) -> DeliveryPage:  # fmt: skip
    page = await webhooks.deliveries(principal, webhook_id, cursor, limit)
    return DeliveryPage(items=[DeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send a delivery again (same webhook-id), also after it failed",
    responses=ProblemResponses.of(404, 422),
)
async def redeliver(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    principal: Annotated[Principal, scoped(Scope.WRITE, "webhook-delivery.redeliver")],
    webhooks: WebhooksDep,
) -> DeliveryOut:
    return DeliveryOut.of(await webhooks.redeliver(principal, webhook_id, delivery_id))


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Stop a webhook: nothing more is sent to it, its pending deliveries fail",
    responses=ProblemResponses.of(404, 422),
)
async def delete_webhook(
    webhook_id: uuid.UUID,
    principal: Annotated[Principal, scoped(Scope.WRITE, "webhook.delete")],
    webhooks: WebhooksDep,
) -> Response:
    await webhooks.delete(principal, webhook_id)
    return Response(status_code=204)
