from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.skills.schemas import SkillLevel

Trigger = Literal["birthday", "after_sale", "vip_expiry", "vip_granted", "dormant", "holiday"]
Channel = Literal["email", "call"]
Purpose = Literal["service", "marketing"]
Outcome = Literal["pending", "emailed", "called", "suppressed", "failed", "skipped"]
Grade = Literal["P", "G", "S", "B"]
ValueClass = Literal["key", "major", "normal"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
WallClock = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="Local wall-clock time HH:MM (CONTACTD_TIMEZONE)", examples=["10:00"]),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AudienceDoc(_Strict):
    """Every filter given must hold; none at all is every customer."""

    grades: Annotated[list[Grade], Field(max_length=4)] = []
    segments: Annotated[list[Name], Field(max_length=20)] = []
    value_classes: Annotated[list[ValueClass], Field(max_length=3)] = []
    vip_only: bool = False


class TemplateText(_Strict):
    """Subject (email) and body (the email's text, or the agent's call script)."""

    subject: Annotated[str, StringConstraints(max_length=200)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class Templates(_Strict):
    zh_cn: TemplateText = Field(alias="zh-CN")
    en: TemplateText

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CareRuleOut(BaseModel):
    key: str
    trigger: Trigger
    offset_days: int
    audience: AudienceDoc
    channel: Channel
    purpose: Purpose
    templates: Templates
    queue: str | None
    skills: list[SkillLevel]
    priority: int | None
    send_time: WallClock
    enabled: bool
    updated_at: datetime


class CareRuleUpdate(_Strict):
    """The fields to change; those left out keep their value."""

    offset_days: Annotated[int, Field(ge=-366, le=3660)] | None = None
    audience: AudienceDoc | None = None
    channel: Channel | None = None
    purpose: Purpose | None = None
    templates: Templates | None = None
    queue: Name | None = None
    skills: Annotated[list[SkillLevel], Field(max_length=10)] | None = None
    priority: Annotated[int, Field(ge=0, le=100)] | None = None
    send_time: WallClock | None = None
    enabled: bool | None = None

    def send_time_of_day(self) -> time | None:
        return None if self.send_time is None else time.fromisoformat(self.send_time)


class CareTouchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_key: str
    customer_id: int
    occurrence: str
    day: date
    due_at: datetime
    outcome: Outcome
    reason: str | None
    contact_id: int | None
    rendered: dict[str, str | None] | None
    created_at: datetime
    acted_at: datetime | None


class PlannedTouchOut(BaseModel):
    rule_key: str
    customer_id: int
    occurrence: str


class CareRunOut(BaseModel):
    """A day run by hand: what the rules plan (dry run), or what was created and done."""

    date: date
    dry_run: bool
    planned: int
    created: int
    touches: list[PlannedTouchOut] = Field(description="The planned touches (first 1000).")
    outcomes: dict[str, int] = {}
