from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from app.users.models import Role
from app.validation import lower_stripped

Username = Annotated[
    str,
    BeforeValidator(lower_stripped),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$"),
]
Capacity = dict[
    Annotated[str, StringConstraints(pattern="^(voice|email|chat)$")],
    Annotated[int, Field(ge=0, le=50)],
]


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "li.na",
                    "display_name": "李娜",
                    "role": "agent",
                    "password": "correct horse battery",
                    "team": "support-cn",
                    "capacity": {"voice": 1, "chat": 3, "email": 5},
                }
            ]
        }
    )

    username: Username
    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    role: Role = Role.AGENT
    password: Annotated[str, Field(min_length=8, max_length=200)]
    email: str | None = None
    team: str | None = None
    capacity: Capacity | None = None


class UserUpdate(BaseModel):
    display_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    role: Role | None = None
    password: Annotated[str, Field(min_length=8, max_length=200)] | None = None
    email: str | None = None
    team: str | None = None
    is_active: bool | None = None
    capacity: Capacity | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    email: str | None
    team: str | None
    is_active: bool
    capacity: dict[str, int]
    created_at: datetime

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: str) -> Role:
        return Role(value)
