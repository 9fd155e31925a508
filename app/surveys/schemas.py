"""What the CSAT endpoints take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Score = Annotated[int, Field(ge=1, le=5, strict=True)]
COMMENT_MAX_CHARS = 2000
Comment = Annotated[str | None, Field(default=None, max_length=COMMENT_MAX_CHARS)]
GroupBy = Literal["agent", "queue", "grade", "channel"]


class CsatAnswerIn(BaseModel):
    """``POST /csat/{token}`` as JSON (the page posts the same fields form-encoded)."""

    model_config = ConfigDict(extra="forbid")

    score: Score
    comment: Comment = None


class CsatOut(BaseModel):
    """A contact's survey: offered, and answered once ``score`` is set."""

    contact_id: int
    channel: str
    agent_id: int | None
    queue: str | None
    grade: str | None
    score: int | None
    comment: str | None
    offered_at: datetime
    answered_at: datetime | None
    expires_at: datetime
    case_id: int | None = Field(
        default=None, description="The complaint case a low score opened or reopened."
    )


class CsatRecorded(BaseModel):
    """The answer of ``POST /csat/{token}``."""

    contact_id: int
    score: int
    answered_at: datetime


class CsatFiguresOut(BaseModel):
    group: str = Field(description="Agent user id, queue name, grade or channel; `none`.")
    offered: int
    responses: int
    average: float | None
    satisfied_pct: float | None = Field(description="Share of responses scoring 4-5, in %.")
    response_rate_pct: float | None = Field(description="Responses / offered, in %.")


class CsatReport(BaseModel):
    group_by: GroupBy
    from_: datetime | None = Field(alias="from", serialization_alias="from")
    to: datetime | None
    rows: list[CsatFiguresOut]

    model_config = ConfigDict(populate_by_name=True)
