"""Webhooks: what an EHR subscribes to, what each event says, and when a delivery is retried.

Events follow the Standard Webhooks specification (standardwebhooks.com): a JSON body
``{"type", "timestamp", "data"}``, signed by the sender. The data carry identifiers, kinds
and links, never answers or scores: a webhook tells the EHR that something happened and
where to read it with its own credentials.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from service.domain.alerts import Alert
from service.domain.errors import FieldError, ValidationFailed


class EventType(StrEnum):
    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_RESOLVED = "alert.resolved"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not yet accepted by the receiver; retried until it is, or fails
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every try failed: nothing more is sent unless redelivered


@dataclass(frozen=True, slots=True)
class Webhook:
    id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    events: frozenset[EventType]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: uuid.UUID  # also the webhook-id header: the same on every try of one delivery
    tenant_id: uuid.UUID
    webhook_id: uuid.UUID
    event_type: EventType
    dyad_id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how long a delivery is tried: ``base`` doubled after each failure, at
    most ``cap`` apart, ``attempts`` tries in all."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    attempts: int = 10

    def after(self, failures: int, now: datetime) -> datetime | None:
        """When to try again after ``failures`` failed tries; None once they are used up."""
        if failures >= self.attempts:
            return None
        wait: timedelta = min(self.cap, self.base * 2 ** (failures - 1))
        return now + wait


def webhook_url(value: str, allowed_hosts: frozenset[str]) -> str:
    """A receiver's URL, refused unless http(s) to a host the operator allowed."""
    parts = urlsplit(value)
    problem = None
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(value) > 2000:
        problem = "must be an http or https URL of at most 2,000 characters"
    elif parts.username or parts.password:
        problem = "must not carry credentials"
    elif parts.hostname.lower() not in allowed_hosts:
        problem = (
            f"names host '{parts.hostname}', which is not in RAPPORT_WEBHOOK_ALLOWED_HOSTS"
            if allowed_hosts
            else "cannot be used: no host is allowed (the operator sets "
            "RAPPORT_WEBHOOK_ALLOWED_HOSTS)"
        )
    if problem is not None:
        raise ValidationFailed(
            f"The webhook URL {problem}.", (FieldError("url", "invalid-url", problem),)
        )
    return value


def event_types(values: list[str]) -> frozenset[EventType]:
    known = {e.value for e in EventType}
    unknown = [v for v in values if v not in known]
    if not values or unknown:
        detail = f"Unknown events: {', '.join(unknown)}." if unknown else "Name at least one."
        raise ValidationFailed(
            f"{detail} Events: {', '.join(sorted(known))}.",
            (FieldError("events", "invalid-events", detail),),
        )
    return frozenset(EventType(v) for v in values)


def alert_payload(event: EventType, alert: Alert, at: datetime) -> dict[str, Any]:
    """The event's body: identifiers, kinds and links only, never answers or scores."""
    return {
        "type": event.value,
        "timestamp": at.isoformat(),
        "data": {
            "alert_id": str(alert.id),
            "dyad_id": str(alert.dyad_id),
            "kind": alert.kind.value,
            "severity": alert.severity.value,
            "status": alert.status.value,
            "links": {
                "alert": f"/v1/alerts/{alert.id}",
                "dyad_alerts": f"/v1/alerts?dyad_id={alert.dyad_id}",
            },
        },
    }
