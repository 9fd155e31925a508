from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.routing.config_schemas import RoutingDocument
from app.skills.schemas import SkillLevel


class ContactCreate(BaseModel):
    """A contact from an integration that is not one of the built-in channels."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "chat",
                    "queue": "support",
                    "customer_id": 42,
                    "priority": 5,
                    "skills": [{"skill": "mandarin", "level": 3}],
                    "attributes": {"order_no": "58213"},
                }
            ]
        },
    )

    channel: Literal["voice", "email", "chat"]
    queue: str
    customer_id: int | None = None
    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    skills: list[SkillLevel] | None = None
    attributes: dict[str, Any] = {}
    subject: Annotated[str, Field(max_length=1000)] | None = None
    preferred_agent_id: int | None = None


class RoutingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    skills: list[SkillLevel] | None = None
    queue: str | None = None


class TransferRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"to_queue": "billing"}]}
    )

    to_queue: str | None = None
    to_agent_id: int | None = None


class EndRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposition: Annotated[str, Field(max_length=64)] | None = None


class AgentStateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"state": "not_ready", "reason": "lunch"}]}
    )

    state: Literal["available", "not_ready", "offline"]
    reason: Annotated[str, Field(max_length=64)] | None = None


class CommandResult(BaseModel):
    """What the router said about a request: applied, refused (an error), or still pending."""

    status: Literal["applied", "pending"]
    request_id: int | None = Field(description="The routing request; null when none was needed.")


class CallbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"number": "138 0013 8000"}]}
    )

    number: Annotated[str, Field(max_length=64)]


class RoutingEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    occurred_at: datetime
    agent_id: int | None
    payload: dict[str, Any]


class ConfigPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: RoutingDocument
    comment: Annotated[str, Field(max_length=500)] = ""


class ConfigVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    author_id: int | None
    comment: str
    rolled_back_from: int | None
    created_at: datetime


class ConfigVersionDetail(ConfigVersionOut):
    document: RoutingDocument


class WaitingOut(BaseModel):
    contact_id: int
    queue: str
    channel: str
    position: int
    waited_seconds: float
    expected_wait_seconds: float | None = Field(
        description="null: unknown (nobody who can take it is logged in and free to)"
    )
    effective_priority: float
    step: int


class PositionOut(BaseModel):
    contact_id: int
    queue: str
    status: str
    position: int
    expected_wait_seconds: float | None = Field(
        description="null: unknown (nobody who can take it is logged in and free to)"
    )


class AgentPresenceOut(BaseModel):
    agent_id: int
    state: str
    reason: str | None
    free_capacity: dict[str, int]
    offered: list[int]
    assigned: list[int]
