from __future__ import annotations

from pydantic import BaseModel

from app.skills.schemas import SkillLevel


class AgentOut(BaseModel):
    id: int
    username: str
    display_name: str
    team: str | None
    is_active: bool
    capacity: dict[str, int]
    skills: list[SkillLevel]
