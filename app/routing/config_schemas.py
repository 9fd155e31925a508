"""The routing configuration document: versioned data that drives the routing engine.

Operators edit one JSON document (global rules plus a policy per queue); every publish is a
new version, and rolling back publishes an older document again. ``to_core`` turns the
validated document into the engine's plain dataclasses.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.routing.core import model as core
from app.routing.hours import BusinessHours
from app.skills.schemas import SkillLevel, SkillName
from app.validation import LocalTime, known_timezone

Channel = Literal["voice", "email", "chat"]
Seconds = Annotated[float, Field(ge=0, le=7 * 86_400)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def known_holiday_country(value: str | None) -> str | None:
    """The upper-cased country code if the ``holidays`` package has its calendar."""
    if value is None:
        return None
    import holidays

    if value.upper() not in holidays.list_supported_countries():
        raise ValueError(f"no holiday calendar for '{value}'")
    return value.upper()


class Step(BaseModel):
    """After ``after_seconds`` in the queue: relax or widen who may take the contact."""

    model_config = ConfigDict(extra="forbid")

    after_seconds: Seconds
    lower_min_level_by: Annotated[int, Field(ge=0, le=4)] = 0
    add_skills: list[SkillLevel] = []
    drop_skills: list[SkillName] = []
    overflow_queues: list[str] = []
    action: Literal["none", "callback", "voicemail"] = "none"


class Hours(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timezone": "Asia/Shanghai",
                    "weekly": {
                        d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
                    },
                    "holiday_country": "CN",
                    "closed_action": "voicemail",
                }
            ]
        },
    )

    timezone: str = "Asia/Shanghai"
    weekly: dict[
        Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[LocalTime, LocalTime]]
    ]
    holiday_country: str | None = Field(default=None, description="ISO country code, e.g. CN, US.")
    closed_days: list[date] = []
    open_days: list[date] = []
    closed_action: Literal["voicemail", "callback", "message"] = "message"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("weekly")
    @classmethod
    def _spans_ordered(
        cls, weekly: dict[str, list[tuple[time, time]]]
    ) -> dict[str, list[tuple[time, time]]]:
        for day, spans in weekly.items():
            for start, end in spans:
                if start >= end:
                    raise ValueError(f"{day}: {start} is not before {end}")
        return weekly

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        return known_holiday_country(value)

    def to_core(self) -> BusinessHours:
        return BusinessHours(
            timezone=self.timezone,
            weekly={WEEKDAYS.index(day) + 1: tuple(spans) for day, spans in self.weekly.items()},
            holiday_country=self.holiday_country,
            closed_days=frozenset(self.closed_days),
            open_days=frozenset(self.open_days),
        )


ValueTag = Annotated[
    str,
    Field(
        pattern=r"^(vip|grade:[PGSB]|class:(key|major|normal)|status:[a-z_]+|segment:[a-z0-9][a-z0-9_-]{0,63})$"
    ),
]
Points = Annotated[int, Field(ge=-100, le=100)]


class ValuePriority(BaseModel):
    """Priority points by the customer's value; a contact gets the sum of what applies."""

    model_config = ConfigDict(extra="forbid")

    vip: Points = 10
    grades: dict[Literal["P", "G", "S", "B"], Points] = {"P": 6, "G": 3}
    value_classes: dict[Literal["key", "major", "normal"], Points] = {"key": 4, "major": 2}
    statuses: dict[
        Literal["graded", "new", "no_sale", "dormant", "prospect", "blocked"], Points
    ] = {}
    segments: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")], Points] = {}

    def points_by_tag(self) -> dict[str, int]:
        points = {"vip": self.vip}
        points.update({f"grade:{k}": v for k, v in self.grades.items()})
        points.update({f"class:{k}": v for k, v in self.value_classes.items()})
        points.update({f"status:{k}": v for k, v in self.statuses.items()})
        points.update({f"segment:{k}": v for k, v in self.segments.items()})
        return {tag: v for tag, v in points.items() if v}


class ValueSkills(BaseModel):
    """Contacts whose customer carries any of ``when_any`` need ``skills`` as well."""

    model_config = ConfigDict(extra="forbid")

    when_any: list[ValueTag] = Field(min_length=1)
    skills: list[SkillLevel] = Field(min_length=1)


class QueuePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: list[SkillLevel] = []
    strategy: Literal["longest_idle", "least_occupied", "most_skilled", "round_robin"] = (
        "longest_idle"
    )
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    priority_boost_per_minute: Annotated[float, Field(ge=0, le=100)] = 0.0
    steps: list[Step] = []
    preferred_agent_seconds: Seconds = 0.0
    wrap_up_seconds: Seconds = 0.0
    reject_cooldown_seconds: Seconds = 60.0
    short_abandon_seconds: Seconds = 5.0
    value_skills: list[ValueSkills] = []
    hours: Hours | None = None

    @field_validator("steps")
    @classmethod
    def _steps_in_time_order(cls, steps: list[Step]) -> list[Step]:
        times = [s.after_seconds for s in steps]
        if times != sorted(times):
            raise ValueError("steps must be listed in order of after_seconds")
        return steps


class RoutingDocument(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "offer_timeout_seconds": {"voice": 20, "chat": 30, "email": 120},
                    "max_missed_offers": 3,
                    "value_priority": {"vip": 10, "grades": {"P": 6, "G": 3}},
                    "cross_channel_blocks": {"voice": ["chat", "email"]},
                    "queues": {
                        "support": {
                            "skills": [{"skill": "support", "level": 3}],
                            "priority_boost_per_minute": 1,
                            "value_skills": [
                                {
                                    "when_any": ["grade:P", "vip"],
                                    "skills": [{"skill": "senior", "level": 1}],
                                }
                            ],
                            "steps": [
                                {
                                    "after_seconds": 60,
                                    "lower_min_level_by": 1,
                                    "drop_skills": ["senior"],
                                }
                            ],
                            "wrap_up_seconds": 30,
                        }
                    },
                }
            ]
        },
    )

    offer_timeout_seconds: dict[Channel, Annotated[float, Field(gt=0, le=3600)]] = {
        "voice": 20.0,
        "chat": 30.0,
        "email": 120.0,
    }
    max_missed_offers: Annotated[int, Field(ge=1, le=100)] = 3
    value_priority: ValuePriority = ValuePriority()
    cross_channel_blocks: dict[Channel, list[Channel]] = {"voice": ["chat", "email"]}
    not_ready_reasons: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]] = [
        "break",
        "lunch",
        "training",
        "meeting",
        "coaching",
        "offline_work",
        "technical_issue",
    ]
    queues: dict[str, QueuePolicy] = {}

    @model_validator(mode="after")
    def _every_channel_has_a_timeout(self) -> RoutingDocument:
        defaults: dict[Channel, float] = {"voice": 20.0, "chat": 30.0, "email": 120.0}
        self.offer_timeout_seconds = {**defaults, **self.offer_timeout_seconds}
        return self

    def skill_names(self) -> set[str]:
        names: set[str] = set()
        for policy in self.queues.values():
            names.update(s.skill for s in policy.skills)
            for rule in policy.value_skills:
                names.update(s.skill for s in rule.skills)
            for step in policy.steps:
                names.update(s.skill for s in step.add_skills)
                names.update(step.drop_skills)
        return names

    def queue_references(self) -> set[str]:
        names = set(self.queues)
        for policy in self.queues.values():
            for step in policy.steps:
                names.update(step.overflow_queues)
        return names


def _requirements(levels: list[SkillLevel]) -> tuple[core.SkillRequirement, ...]:
    return tuple(core.SkillRequirement(s.skill, s.level) for s in levels)


def _step_to_core(step: Step) -> core.EscalationStep:
    return core.EscalationStep(
        after_seconds=step.after_seconds,
        lower_min_level_by=step.lower_min_level_by,
        add_skills=_requirements(step.add_skills),
        drop_skills=tuple(step.drop_skills),
        overflow_queues=tuple(step.overflow_queues),
        action=core.StepAction(step.action),
    )


def to_core(document: RoutingDocument, version: int) -> core.RoutingConfig:
    queues = {
        name: core.QueueConfig(
            name=name,
            skills=_requirements(policy.skills),
            strategy=core.Strategy(policy.strategy),
            priority=policy.priority,
            priority_boost_per_minute=policy.priority_boost_per_minute,
            steps=tuple(_step_to_core(step) for step in policy.steps),
            preferred_agent_seconds=policy.preferred_agent_seconds,
            wrap_up_seconds=policy.wrap_up_seconds,
            reject_cooldown_seconds=policy.reject_cooldown_seconds,
            short_abandon_seconds=policy.short_abandon_seconds,
            value_skills=tuple(
                core.ValueSkillRule(frozenset(rule.when_any), _requirements(rule.skills))
                for rule in policy.value_skills
            ),
        )
        for name, policy in document.queues.items()
    }
    return core.RoutingConfig(
        queues=queues,
        offer_timeout_seconds={str(k): v for k, v in document.offer_timeout_seconds.items()},
        max_missed_offers=document.max_missed_offers,
        value_priority=document.value_priority.points_by_tag(),
        cross_channel_blocks={k: tuple(v) for k, v in document.cross_channel_blocks.items()},
        version=version,
    )
