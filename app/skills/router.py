from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, status

from app.auth.dependencies import AdminUser, AgentUser
from app.dependencies import SessionDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.skills import service
from app.skills.schemas import SkillCreate, SkillOut, SkillUpdate

router = APIRouter(prefix="/api/v1/skills", tags=["skills"])


@router.get("", response_model=Page[SkillOut], summary="List skills")
async def list_skills(
    session: SessionDep,
    _: AgentUser,
    page: Annotated[PageParams, Depends(page_params)],
    kind: Literal["general", "language"] | None = None,
) -> Page[SkillOut]:
    rows = await service.list_skills(session, after_id=cursor_id(page), limit=page.limit, kind=kind)
    items, next_cursor = page_by_id(rows, page.limit, lambda s: s.id)
    return Page(items=[SkillOut.model_validate(s) for s in items], next_cursor=next_cursor)


@router.post(
    "", response_model=SkillOut, status_code=status.HTTP_201_CREATED, summary="Create a skill"
)
async def create_skill(session: SessionDep, _: AdminUser, data: SkillCreate) -> SkillOut:
    return SkillOut.model_validate(await service.create_skill(session, data))


@router.get("/{skill_id}", response_model=SkillOut, summary="One skill")
async def get_skill(session: SessionDep, _: AgentUser, skill_id: int) -> SkillOut:
    return SkillOut.model_validate(await service.get_skill(session, skill_id))


@router.patch("/{skill_id}", response_model=SkillOut, summary="Change a skill")
async def update_skill(
    session: SessionDep, _: AdminUser, skill_id: int, data: SkillUpdate
) -> SkillOut:
    return SkillOut.model_validate(await service.update_skill(session, skill_id, data))
