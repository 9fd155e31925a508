"""The cases settings document: case types, the reopen period, business calendars and SLA
policies, as versioned data (``case_settings_versions``; the highest version is in force,
version 0 is the defaults below). ``to_core`` turns it into the pure core's dataclasses."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.cases.core import calendar as cal
from app.cases.core.policy import Escalation, Policy
from app.cases.core.sla import Targets
from app.routing.config_schemas import WEEKDAYS, known_holiday_country
from app.validation import known_timezone

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
QueueName = Annotated[str, Field(min_length=1, max_length=64)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
Minutes = Annotated[float, Field(gt=0, le=366 * 24 * 60)]
PriorityName = Literal["low", "normal", "high", "urgent"]
Grade = Literal["P", "G", "S", "B"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseType(_Strict):
    name: Name
    label: dict[str, Annotated[str, Field(min_length=1, max_length=100)]] = {}


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Calendar(_Strict):
    """Weekly opening spans (``"24:00"`` is the day's end), a time zone, public holidays of
    ``holiday_country`` (None: none) and days closed or opened by hand."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timezone": "Asia/Shanghai",
                    "weekly": {d: [["09:00", "18:00"]] for d in WEEKDAYS[:5]},
                    "holiday_country": "CN",
                    "closed_days": ["2026-12-31"],
                }
            ]
        },
    )

    timezone: str = "Asia/Shanghai"
    weekly: dict[Weekday, list[tuple[ClockTime, ClockTime]]]
    holiday_country: str | None = "CN"
    closed_days: list[date] = []
    open_days: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return known_holiday_country(value)

    @field_validator("weekly")
    @classmethod
    def _spans(
        cls, weekly: dict[Weekday, list[tuple[str, str]]]
    ) -> dict[Weekday, list[tuple[str, str]]]:
        for day, spans in weekly.items():
            minutes = sorted((_minute(a), _minute(b)) for a, b in spans)
            for (start, end), following in zip(minutes, [*minutes[1:], None], strict=True):
                if start >= end:
                    raise ValueError(f"{day}: a span must start before it ends")
                if following is not None and following[0] < end:
                    raise ValueError(f"{day}: spans overlap")
        if not any(weekly.values()):
            raise ValueError("a calendar must open on at least one weekday")
        return weekly

    def to_core(self) -> cal.WorkCalendar:
        return cal.WorkCalendar(
            timezone=self.timezone,
            weekly={
                WEEKDAYS.index(day) + 1: tuple(sorted((_minute(a), _minute(b)) for a, b in spans))
                for day, spans in self.weekly.items()
            },
            holiday_country=self.holiday_country,
            closed_days=frozenset(self.closed_days),
            open_days=frozenset(self.open_days),
        )


class EscalationIn(_Strict):
    queue: QueueName | None = Field(default=None, description="Move the case to this queue.")
    priority: PriorityName | None = Field(default=None, description="Raise it to this priority.")


class SlaPolicy(_Strict):
    """Targets in business minutes of the case's calendar; null: no such target. Matches a
    case by ``case_type``, ``vip`` and ``grade`` (null: any); the most specific wins."""

    name: Name
    case_type: Name | None = None
    grade: Grade | None = None
    vip: bool | None = None
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    warn_percent: Annotated[int, Field(ge=1, le=99)] = 80
    escalate_on_breach: EscalationIn | None = None

    def to_core(self) -> Policy:
        def span(minutes: float | None) -> timedelta | None:
            return None if minutes is None else timedelta(minutes=minutes)

        escalation = self.escalate_on_breach
        return Policy(
            name=self.name,
            targets=Targets(
                first_response=span(self.first_response_minutes),
                next_response=span(self.next_response_minutes),
                resolution=span(self.resolution_minutes),
                warn_fraction=self.warn_percent / 100,
            ),
            case_type=self.case_type,
            grade=self.grade,
            vip=self.vip,
            escalation=None
            if escalation is None
            else Escalation(queue=escalation.queue, priority=escalation.priority),
        )


WORKDAYS = {d: [("09:00", "18:00")] for d in WEEKDAYS[:5]}
DEFAULT_TYPES = [
    CaseType(name="complaint", label={"en": "Complaint", "zh-CN": "投诉"}),
    CaseType(name="request", label={"en": "Request", "zh-CN": "请求"}),
    CaseType(name="inquiry", label={"en": "Inquiry", "zh-CN": "咨询"}),
    CaseType(name="purchase", label={"en": "Purchase", "zh-CN": "购买"}),
]
DEFAULT_POLICIES = [
    SlaPolicy(
        name="vip-complaint",
        case_type="complaint",
        vip=True,
        first_response_minutes=30,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
        escalate_on_breach=EscalationIn(priority="urgent"),
    ),
    SlaPolicy(
        name="complaint",
        case_type="complaint",
        first_response_minutes=2 * 60,
        next_response_minutes=4 * 60,
        resolution_minutes=3 * 9 * 60,
        escalate_on_breach=EscalationIn(priority="high"),
    ),
    SlaPolicy(
        name="vip",
        vip=True,
        first_response_minutes=60,
        next_response_minutes=2 * 60,
        resolution_minutes=2 * 9 * 60,
    ),
    SlaPolicy(
        name="grade-p",
        grade="P",
        first_response_minutes=2 * 60,
        next_response_minutes=4 * 60,
        resolution_minutes=3 * 9 * 60,
    ),
    SlaPolicy(
        name="standard",
        first_response_minutes=4 * 60,
        next_response_minutes=8 * 60,
        resolution_minutes=5 * 9 * 60,
    ),
]


class CasesSettings(_Strict):
    """Everything configurable about cases, published as one versioned document."""

    types: list[CaseType] = Field(default_factory=lambda: list(DEFAULT_TYPES), min_length=1)
    reopen_days: Annotated[float, Field(gt=0, le=365)] = 7
    calendars: dict[Name, Calendar] = Field(
        default_factory=lambda: {"default": Calendar(weekly=dict(WORKDAYS))}
    )
    default_calendar: Name = "default"
    queue_calendars: dict[QueueName, Name] = Field(
        default={}, description="The calendar of each queue (team); others use the default."
    )
    policies: list[SlaPolicy] = Field(default_factory=lambda: list(DEFAULT_POLICIES))

    @model_validator(mode="after")
    def _consistent(self) -> CasesSettings:
        type_names = [t.name for t in self.types]
        if len(set(type_names)) != len(type_names):
            raise ValueError("case type names must be unique")
        policy_names = [p.name for p in self.policies]
        if len(set(policy_names)) != len(policy_names):
            raise ValueError("policy names must be unique")
        for policy in self.policies:
            if policy.case_type is not None and policy.case_type not in type_names:
                raise ValueError(f"policy {policy.name}: unknown case type '{policy.case_type}'")
        if self.default_calendar not in self.calendars:
            raise ValueError(f"no calendar named '{self.default_calendar}'")
        for queue, name in self.queue_calendars.items():
            if name not in self.calendars:
                raise ValueError(f"queue {queue}: no calendar named '{name}'")
        return self

    @property
    def reopen_within(self) -> timedelta:
        return timedelta(days=self.reopen_days)

    def type_names(self) -> list[str]:
        return [t.name for t in self.types]

    def calendar_name_for(self, queue: str | None) -> str:
        if queue is not None and queue in self.queue_calendars:
            return self.queue_calendars[queue]
        return self.default_calendar

    def calendar_for(self, queue: str | None) -> cal.WorkCalendar:
        return self.calendars[self.calendar_name_for(queue)].to_core()

    def core_policies(self) -> list[Policy]:
        return [p.to_core() for p in self.policies]

    def policy(self, name: str | None) -> SlaPolicy | None:
        return next((p for p in self.policies if p.name == name), None)

    def escalation_queues(self) -> set[str]:
        return {
            p.escalate_on_breach.queue
            for p in self.policies
            if p.escalate_on_breach is not None and p.escalate_on_breach.queue is not None
        }
