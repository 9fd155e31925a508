from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.routing.config_schemas import RoutingDocument
from app.routing.replay_core import StaffingComparison
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
    based_on: Annotated[int, Field(ge=0, le=2_147_483_647)] | None = Field(
        None,
        description="The version this document was edited from: 409 `version_conflict` if"
        " another version has been published since. Null: publish whatever is in force.",
    )


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


# ---------------------------------------------------------------- replay before publishing

REPLAY_MAX_DAYS = 31
REPLAY_MAX_SEEDS = 10


class ReplayRequest(BaseModel):
    """A replay of a recorded period, as ``contactd simulate --replay`` runs it: the
    configuration in force first (the fidelity check), then the candidate, if any."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "document": {"queues": {"support": {"priority_boost_per_minute": 2}}},
                    "agents_delta": {"support": 2},
                    "seeds": 3,
                }
            ]
        },
    )

    document: RoutingDocument | None = Field(
        None, description="The candidate routing document; null: the one in force."
    )
    agents_delta: dict[
        Annotated[str, Field(min_length=1, max_length=64)], Annotated[int, Field(ge=-1000, le=1000)]
    ] = Field({}, description="Agents added to (or taken from) each queue's recorded staffing.")
    start: datetime | None = Field(None, description="Default: seven days before `end`.")
    end: datetime | None = Field(None, description="Default: now.")
    seeds: Annotated[int, Field(ge=1, le=REPLAY_MAX_SEEDS)] = 5


class ReplayFigures(BaseModel):
    """A queue's figures; replayed ones are means over the seeds, with their spread."""

    model_config = ConfigDict(extra="allow")

    offered: float | None = None
    handled: float | None = None
    abandoned: float | None = None
    service_level: float | None = None
    asa_seconds: float | None = None
    occupancy: float | None = None
    spread: dict[str, float | None] | None = None


class ReplayVerdict(BaseModel):
    verdict: Literal["faithful", "not faithful"]
    problems: list[str]


class ReplayGroup(BaseModel):
    """One queue (``queue`` set) or one grade group: recorded, faithful replay, candidate."""

    model_config = ConfigDict(extra="allow")

    queue: str | None = None
    recorded: dict[str, float | None]
    replayed: ReplayFigures
    fidelity: ReplayVerdict
    candidate: ReplayFigures | None = None
    difference: ReplayFigures | None = Field(
        None, description="candidate − faithful replay (never − recorded)."
    )
    longer_than_recorded_worst: float | None = Field(
        None, description="Contacts per seed that would wait longer than their queue's worst."
    )
    erlang_c: StaffingComparison | None = Field(
        None, description="Erlang C beside the agents delta for the queue, hour by hour."
    )


class ReplayPatience(BaseModel):
    """The Kaplan–Meier estimate of a queue's patience on one channel."""

    queue: str
    channel: str
    abandoned: int
    censored: int
    median_seconds: float | None
    survival: list[tuple[float, float]]


class ReplayCandidate(BaseModel):
    routing_config: Literal["in force", "candidate"]
    agents_delta: dict[str, int]
    value_rules: Literal["in force", "candidate"]
    regraded: int
    regrades: list[dict[str, Any]]


class ReplayReportOut(BaseModel):
    """``contactd simulate --replay --json``'s document (docs/routing.md)."""

    period: tuple[datetime, datetime]
    contacts: int
    agents: int
    config: str
    seeds: list[int]
    faithful: bool
    patience: list[ReplayPatience]
    queues: list[ReplayGroup]
    grades: dict[str, ReplayGroup]
    candidate: ReplayCandidate | None = None
