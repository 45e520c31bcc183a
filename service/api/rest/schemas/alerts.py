"""REST bodies for alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.app.rendering import record_fields
from service.domain.alerts import Alert

Kind = Literal["risk", "alliance-low", "rupture", "discordance", "deterioration", "not-on-track"]
Status = Literal["open", "acknowledged", "resolved"]


class AlertOut(BaseModel):
    id: uuid.UUID
    dyad_id: uuid.UUID
    kind: Kind
    severity: Literal["low", "medium", "high"]
    status: Status
    rule: str = Field(description="The rule and its version that raised the alert")
    evidence: dict[str, Any] = Field(description="Which administrations and numbers")
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolved_note: str | None
    acknowledged_actor: str | None = Field(
        description="Who acknowledged it in the EHR (as the EHR named them); "
        "acknowledged_by is the API key or client that called"
    )
    resolved_actor: str | None = Field(description="Who resolved it in the EHR")

    @classmethod
    def of(cls, a: Alert) -> AlertOut:
        return cls.model_validate(record_fields(a))


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class AlertTransition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(
        default=None, max_length=2000, pattern=r"^[^\x00]*$", description="Who did what, and why"
    )
    actor: str | None = Field(
        default=None,
        max_length=200,
        description="Who acted in the EHR: its user identifier or a practitioner id (stored "
        "beside the API key or client that called)",
        examples=["ehr-user-4711"],
    )
