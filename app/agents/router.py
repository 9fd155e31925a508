from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.agents import service
from app.agents.schemas import AgentOut
from app.auth.dependencies import SupervisorUser
from app.dependencies import SessionDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.skills.schemas import SkillLevel

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


@router.get("", response_model=Page[AgentOut], summary="List agents with their skills")
async def list_agents(
    session: SessionDep,
    _: SupervisorUser,
    page: Annotated[PageParams, Depends(page_params)],
    skill: str | None = None,
    team: str | None = None,
) -> Page[AgentOut]:
    rows = await service.list_agents(
        session, after_id=cursor_id(page), limit=page.limit, skill=skill, team=team
    )
    users, next_cursor = page_by_id(rows, page.limit, lambda u: u.id)
    skills = await service.skills_of(session, [u.id for u in users])
    return Page(
        items=[service.agent_out(u, skills.get(u.id, [])) for u in users], next_cursor=next_cursor
    )


@router.get("/{agent_id}", response_model=AgentOut, summary="One agent with skills")
async def get_agent(session: SessionDep, _: SupervisorUser, agent_id: int) -> AgentOut:
    user = await service.get_agent_user(session, agent_id)
    skills = await service.skills_of(session, [agent_id])
    return service.agent_out(user, skills.get(agent_id, []))


@router.put("/{agent_id}/skills", response_model=AgentOut, summary="Replace an agent's skills")
async def set_agent_skills(
    session: SessionDep, supervisor: SupervisorUser, agent_id: int, skills: list[SkillLevel]
) -> AgentOut:
    return await service.set_agent_skills(session, agent_id, skills, actor_id=supervisor.id)
