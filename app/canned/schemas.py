from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["zh-CN", "en"]
Shortcut = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Team = Annotated[str, Field(min_length=1, max_length=100)]


class CannedReplyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "shortcut": "tracking",
                    "language": "zh-CN",
                    "title": "物流查询",
                    "body": "您好，您的包裹已发出，物流单号是：",
                    "team": "support-cn",
                }
            ]
        },
    )

    shortcut: Shortcut
    language: Language
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=4000)]
    team: Team | None = Field(
        None, description="Null: every team. A supervisor with a team may only give theirs."
    )


class CannedReplyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: Shortcut | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=4000)] | None = None


class CannedReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    language: Language
    title: str
    body: str
    team: str | None
    updated_at: datetime
