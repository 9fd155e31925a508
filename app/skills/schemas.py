from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.validation import lower_stripped

SkillName = Annotated[
    str,
    BeforeValidator(lower_stripped),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$"),
]
Level = Annotated[int, Field(ge=1, le=5, description="Proficiency 1 (novice) to 5 (expert).")]


class SkillCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "mandarin", "kind": "language", "description": "普通话"}]
        }
    )

    name: SkillName
    kind: Literal["general", "language"] = "general"
    description: Annotated[str, Field(max_length=500)] = ""


class SkillUpdate(BaseModel):
    kind: Literal["general", "language"] | None = None
    description: Annotated[str, Field(max_length=500)] | None = None


class SkillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    description: str


class SkillLevel(BaseModel):
    """A skill at a proficiency: what an agent has, or the least a contact needs."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"skill": "mandarin", "level": 4}]})

    skill: SkillName
    level: Level
