from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.models import AgentSkill
from app.agents.schemas import AgentOut
from app.contacts.events import record
from app.errors import InvalidInput, NotFound
from app.routing import inbox
from app.skills.models import Skill
from app.skills.schemas import SkillLevel
from app.skills.service import skill_ids_by_name
from app.users.models import Role, User


async def skills_of(session: AsyncSession, user_ids: list[int]) -> dict[int, list[SkillLevel]]:
    """Every listed agent's skills in one query, sorted by skill name."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(AgentSkill.user_id, Skill.name, AgentSkill.proficiency)
        .join(Skill, Skill.id == AgentSkill.skill_id)
        .where(AgentSkill.user_id.in_(user_ids))
        .order_by(AgentSkill.user_id, Skill.name)
    )
    skills: dict[int, list[SkillLevel]] = defaultdict(list)
    for user_id, name, level in rows:
        skills[user_id].append(SkillLevel(skill=name, level=level))
    return skills


def agent_out(user: User, skills: list[SkillLevel]) -> AgentOut:
    return AgentOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        team=user.team,
        is_active=user.is_active,
        capacity=user.capacity,
        skills=skills,
    )


async def get_agent_user(session: AsyncSession, agent_id: int) -> User:
    user = await session.get(User, agent_id)
    if user is None or user.role != Role.AGENT.value:
        raise NotFound(f"No agent {agent_id}.", details={"agent_id": agent_id})
    return user


async def list_agents(
    session: AsyncSession, *, after_id: int | None, limit: int, skill: str | None, team: str | None
) -> list[User]:
    query = select(User).where(User.role == Role.AGENT.value).order_by(User.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(User.id > after_id)
    if team is not None:
        query = query.where(User.team == team)
    if skill is not None:
        query = query.where(
            User.id.in_(
                select(AgentSkill.user_id)
                .join(Skill, Skill.id == AgentSkill.skill_id)
                .where(Skill.name == skill)
            )
        )
    return list(await session.scalars(query))


AGENT_CHANGE_KINDS = {"skills": "agent.skills_changed", "capacity": "agent.capacity_changed"}
"""The event each change of an agent's routing attributes is logged as (replays read them)."""


async def record_agent_change(
    session: AsyncSession,
    agent_id: int,
    attribute: str,
    value: dict[str, int],
    previous: dict[str, int],
    actor_id: int | None,
) -> None:
    """Log a change of an agent's ``skills`` or ``capacity`` (value and previous value) and
    hand it to the router, which applies it at once to an agent signed in."""
    if value == previous:
        return
    record(
        session,
        AGENT_CHANGE_KINDS[attribute],
        agent_id=agent_id,
        actor_id=actor_id,
        payload={attribute: value, "previous": previous},
    )
    await inbox.submit(
        session, f"agent.{attribute}", {"agent_id": agent_id, attribute: value}, actor_id=actor_id
    )


async def set_agent_skills(
    session: AsyncSession,
    agent_id: int,
    skills: list[SkillLevel],
    actor_id: int | None = None,
) -> AgentOut:
    user = await get_agent_user(session, agent_id)
    names = [s.skill for s in skills]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInput(
            f"Skill listed twice: {', '.join(duplicated)}.", details={"duplicated": duplicated}
        )
    ids = await skill_ids_by_name(session, names)
    before = (await skills_of(session, [agent_id])).get(agent_id, [])
    await session.execute(delete(AgentSkill).where(AgentSkill.user_id == agent_id))
    session.add_all(
        AgentSkill(user_id=agent_id, skill_id=ids[s.skill], proficiency=s.level) for s in skills
    )
    await session.flush()
    await record_agent_change(
        session,
        agent_id,
        "skills",
        {s.skill: s.level for s in skills},
        {s.skill: s.level for s in before},
        actor_id,
    )
    return agent_out(user, sorted(skills, key=lambda s: s.skill))
