"""The problem+json body (RFC 9457), declared once for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    pointer: str | None = Field(default=None, description="JSON pointer into the request body")
    parameter: str | None = Field(default=None, description="Offending path or query parameter")
    item: str | None = Field(default=None, description="Offending item id, for responses")
    code: str
    detail: str


class Problem(BaseModel):
    type: str = Field(description="urn:rapport:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code")
    errors: list[FieldProblem] | None = None
    existing_id: str | None = Field(
        default=None, description="On 409: the id of the record that already exists"
    )
