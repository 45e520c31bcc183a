"""REST bodies for webhooks and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.domain.webhooks import Delivery, Webhook

Event = Literal["alert.raised", "alert.acknowledged", "alert.resolved"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000,
        description="Where deliveries are POSTed; its host must be in "
        "RAPPORT_WEBHOOK_ALLOWED_HOSTS",
        examples=["https://ehr.example.org/rapport-events"],
    )
    events: list[Event] = Field(min_length=1, max_length=3)


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[Event]
    created_at: datetime

    @classmethod
    def of(cls, w: Webhook) -> WebhookOut:
        return cls(
            id=w.id, url=w.url, events=sorted(e.value for e in w.events), created_at=w.created_at
        )


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(
        description="The Standard Webhooks signing secret (whsec_...): shown only in this answer"
    )


class WebhookPage(BaseModel):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="Also the webhook-id header, the same on every try")
    webhook_id: uuid.UUID
    event: Event
    dyad_id: uuid.UUID
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id, webhook_id=d.webhook_id, event=d.event_type.value, dyad_id=d.dyad_id,
            status=d.status.value, attempts=d.attempts, next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code, last_error=d.last_error,
            created_at=d.created_at, delivered_at=d.delivered_at,
        )  # fmt: skip


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
