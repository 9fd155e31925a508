from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from app.skills.schemas import SkillLevel
from app.validation import lower_stripped

Channel = Literal["voice", "email", "chat"]
Strategy = Literal["longest_idle", "least_occupied", "most_skilled", "round_robin"]
QueueName = Annotated[
    str,
    BeforeValidator(lower_stripped),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"),
]


def _unique_channels(channels: list[Channel]) -> list[Channel]:
    if not channels:
        raise ValueError("a queue takes at least one channel")
    return sorted(set(channels))


class QueueCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "support",
                    "display_name": "Support 技术支持",
                    "channels": ["voice", "email", "chat"],
                    "required_skills": [{"skill": "support", "level": 2}],
                    "sl_target_percent": 80,
                    "sl_target_seconds": 20,
                    "default_priority": 0,
                    "strategy": "longest_idle",
                }
            ]
        }
    )

    name: QueueName
    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    channels: list[Channel]
    required_skills: list[SkillLevel] = []
    sl_target_percent: Annotated[int, Field(ge=1, le=100)] = 80
    sl_target_seconds: Annotated[int, Field(ge=1, le=86_400)] = 20
    default_priority: Annotated[int, Field(ge=-100, le=100)] = 0
    strategy: Strategy = "longest_idle"

    _channels = field_validator("channels")(_unique_channels)


class QueueUpdate(BaseModel):
    display_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    channels: list[Channel] | None = None
    required_skills: list[SkillLevel] | None = None
    sl_target_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    sl_target_seconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    default_priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    strategy: Strategy | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, channels: list[Channel] | None) -> list[Channel] | None:
        return None if channels is None else _unique_channels(channels)


class QueueOut(BaseModel):
    id: int
    name: str
    display_name: str
    channels: list[str]
    required_skills: list[SkillLevel]
    sl_target_percent: int
    sl_target_seconds: int
    default_priority: int
    strategy: str
    created_at: datetime
