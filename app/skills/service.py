from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.skills.models import Skill
from app.skills.schemas import SkillCreate, SkillUpdate


async def skill_ids_by_name(session: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    """Map skill names to ids; an unknown name is a 422 that names it."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = await session.execute(select(Skill.name, Skill.id).where(Skill.name.in_(wanted)))
    found: dict[str, int] = dict(rows.all())
    missing = [name for name in wanted if name not in found]
    if missing:
        raise InvalidInput(
            f"Unknown skill: {', '.join(missing)}.",
            details={"unknown_skills": missing},
            code="unknown_skill",
        )
    return found


async def create_skill(session: AsyncSession, data: SkillCreate) -> Skill:
    if await session.scalar(select(Skill.id).where(Skill.name == data.name)) is not None:
        raise Conflict(f"A skill named '{data.name}' already exists.", details={"name": data.name})
    skill = Skill(name=data.name, kind=data.kind, description=data.description)
    session.add(skill)
    await session.flush()
    return skill


async def get_skill(session: AsyncSession, skill_id: int) -> Skill:
    skill = await session.get(Skill, skill_id)
    if skill is None:
        raise NotFound(f"No skill {skill_id}.", details={"skill_id": skill_id})
    return skill


async def list_skills(
    session: AsyncSession, *, after_id: int | None, limit: int, kind: str | None
) -> list[Skill]:
    query = select(Skill).order_by(Skill.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Skill.id > after_id)
    if kind is not None:
        query = query.where(Skill.kind == kind)
    return list(await session.scalars(query))


async def update_skill(session: AsyncSession, skill_id: int, data: SkillUpdate) -> Skill:
    skill = await get_skill(session, skill_id)
    for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(skill, field, value)
    await session.flush()
    return skill
