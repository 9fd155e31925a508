"""What the cases API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.cases.core.states import State
from app.cases.settings_schemas import Calendar, CaseType, Name, PriorityName, SlaPolicy

Origin = Literal["agent", "csat", "email", "chat", "voice", "api", "system"]
NoteKind = Literal["internal", "reply"]
Subject = Annotated[str, Field(max_length=500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(_Strict):
    customer_id: int
    type: Name
    subject: Subject = ""
    priority: PriorityName = "normal"
    origin: Origin = "api"
    owner_id: int | None = None
    queue: Annotated[str | None, Field(max_length=64)] = None
    contact_ids: Annotated[list[int], Field(max_length=50)] = Field(
        default=[], description="Contacts to link at once (they belong to the customer)."
    )


class CaseUpdate(_Strict):
    """Fields left out stay; ``owner_id``/``queue`` null clears them."""

    state: State | None = None
    priority: PriorityName | None = None
    owner_id: int | None = None
    queue: Annotated[str | None, Field(max_length=64)] = None
    reason: Annotated[str | None, Field(max_length=64)] = None


class NoteIn(_Strict):
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    kind: NoteKind = Field(
        default="internal", description="`reply`: the agent answered the customer (a response)."
    )


class LinkIn(_Strict):
    contact_id: int


class SlaClockOut(BaseModel):
    """One SLA target of a case (its latest cycle for ``next_response``)."""

    state: Literal["running", "paused", "stopped"]
    cycle: int
    due_at: datetime | None = Field(description="Past or projected; null while paused.")
    warn_at: datetime | None
    breached: bool = Field(description="This target was missed (any cycle).")
    elapsed_fraction: float
    allowed_minutes: float
    remaining_minutes: float
    stopped_at: datetime | None


class CaseOut(BaseModel):
    id: int
    customer_id: int
    type: str
    state: State
    priority: PriorityName
    origin: Origin
    subject: str
    owner_id: int | None
    queue: str | None
    policy: str | None
    contact_ids: list[int]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: dict[str, SlaClockOut | None]
    breached: bool = Field(description="Any SLA target of the case was missed.")


class NoteOut(BaseModel):
    id: int
    case_id: int
    author_id: int | None
    kind: NoteKind
    body: str
    created_at: datetime


class CaseEventOut(BaseModel):
    id: int
    kind: str
    occurred_at: datetime
    actor_id: int | None
    data: dict[str, Any]
    note: NoteOut | None = None


class SettingsOut(BaseModel):
    version: int
    types: list[CaseType]
    reopen_days: float
    calendars: dict[str, Calendar]
    default_calendar: str
    queue_calendars: dict[str, str]
    policies: list[SlaPolicy]


class TypesIn(_Strict):
    types: Annotated[list[CaseType], Field(min_length=1)]
    reopen_days: Annotated[float, Field(gt=0, le=365)] | None = None


class CalendarsIn(_Strict):
    calendars: dict[Name, Calendar]
    default_calendar: Name = "default"
    queue_calendars: dict[Annotated[str, Field(min_length=1, max_length=64)], Name] = {}


class PoliciesIn(_Strict):
    policies: list[SlaPolicy]


class CaseSlaNotice(BaseModel):
    """What an SLA alarm says about a case (the supervisor's and the agent's frames)."""

    level: Literal["warning", "breach"]
    event_id: int | None = Field(description="The ``sla_warning`` / ``sla_breach`` event.")
    case_id: int
    customer_id: int
    case_type: str
    target: Literal["first_response", "next_response", "resolution"]
    cycle: int
    due_at: str  # ISO 8601
    queue: str | None
    priority: str
    escalated: dict[str, Any] | None = None


class PopCase(BaseModel):
    """An open case in the screen-pop, with its SLA state: ``breached`` (a target missed)
    and the next due instant of a running target (null: none running, e.g. pending)."""

    id: int
    type: str
    state: State
    priority: str
    subject: str
    owner_id: int | None
    queue: str | None
    created_at: datetime
    breached: bool
    next_due_at: datetime | None
    next_due_target: str | None
