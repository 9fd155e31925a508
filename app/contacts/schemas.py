from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["voice", "email", "chat"]
ContactState = Literal[
    "new",
    "ivr",
    "queued",
    "offered",
    "assigned",
    "wrap_up",
    "ended",
    "abandoned",
    "transferred_out",
]


class ContactEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    occurred_at: datetime
    agent_id: int | None
    actor_id: int | None
    payload: dict[str, Any]


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    direction: str
    state: str
    customer_id: int | None
    customer_match: str
    queue_id: int | None
    agent_id: int | None
    priority: int
    required_skills: list[Any]
    routing_step: int
    provider: str | None
    provider_ref: str | None
    subject: str | None
    attributes: dict[str, Any]
    value_tags: list[str] | None = Field(
        default=None, description="The customer's value when the contact arrived: grade:P, vip..."
    )
    disposition: str | None
    recording_url: str | None
    created_at: datetime
    queued_at: datetime | None
    offered_at: datetime | None
    offer_deadline: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wrap_up_ended_at: datetime | None
    abandoned_at: datetime | None


class ContactDetail(ContactOut):
    events: list[ContactEventOut]
