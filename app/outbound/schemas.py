"""Outbound calls over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.skills.schemas import SkillLevel

SCRIPT_MAX = 4000


class OutboundCallIn(BaseModel):
    """A call to place to a customer, routed to an agent of ``queue`` who previews it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 31,
                    "queue": "support",
                    "purpose": "service",
                    "script": "您好，这里是客服中心，关于您的订单… / Hello, about your order…",
                    "origin": "api",
                    "ref": "ticket:5821",
                }
            ]
        },
    )

    customer_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    queue: Annotated[str, Field(min_length=1, max_length=64)]
    purpose: Literal["service", "marketing"]
    script: Annotated[str, Field(max_length=SCRIPT_MAX)] | None = None
    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    skills: list[SkillLevel] | None = None
    origin: Literal["api", "care", "campaign", "callback"] = "api"
    ref: Annotated[str, Field(max_length=255)] | None = None


class OutboundAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    state: Literal["scheduled", "started", "done", "suppressed", "cancelled"]
    due_at: datetime
    started_at: datetime | None
    contact_id: int | None
    disposition: str | None


class OutboundCallOut(BaseModel):
    id: int
    customer_id: int
    queue: str
    purpose: str
    origin: str
    ref: str | None
    state: Literal["active", "done", "suppressed"]
    outcome: str | None = Field(
        description="The last disposition, `exhausted` (tries used up), a suppression reason."
    )
    created_at: datetime
    attempts: list[OutboundAttemptOut]
