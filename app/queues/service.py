from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.queues.models import Queue, QueueSkill
from app.queues.schemas import QueueCreate, QueueOut, QueueUpdate
from app.routing.config_service import set_queue_policy
from app.skills.models import Skill
from app.skills.schemas import SkillLevel


async def required_skills_of(
    session: AsyncSession, queue_ids: list[int]
) -> dict[int, list[SkillLevel]]:
    if not queue_ids:
        return {}
    rows = await session.execute(
        select(QueueSkill.queue_id, Skill.name, QueueSkill.min_level)
        .join(Skill, Skill.id == QueueSkill.skill_id)
        .where(QueueSkill.queue_id.in_(queue_ids))
        .order_by(QueueSkill.queue_id, Skill.name)
    )
    skills: dict[int, list[SkillLevel]] = defaultdict(list)
    for queue_id, name, level in rows:
        skills[queue_id].append(SkillLevel(skill=name, level=level))
    return skills


def queue_out(queue: Queue, skills: list[SkillLevel]) -> QueueOut:
    return QueueOut(
        id=queue.id,
        name=queue.name,
        display_name=queue.display_name,
        channels=queue.channels,
        required_skills=skills,
        sl_target_percent=queue.sl_target_percent,
        sl_target_seconds=queue.sl_target_seconds,
        default_priority=queue.default_priority,
        strategy=queue.strategy,
        created_at=queue.created_at,
    )


def _refuse_duplicates(skills: list[SkillLevel]) -> None:
    names = [s.skill for s in skills]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInput(
            f"Skill listed twice: {', '.join(duplicated)}.", details={"duplicated": duplicated}
        )


async def create_queue(session: AsyncSession, data: QueueCreate, author_id: int | None) -> QueueOut:
    if await session.scalar(select(Queue.id).where(Queue.name == data.name)) is not None:
        raise Conflict(f"A queue named '{data.name}' already exists.", details={"name": data.name})
    _refuse_duplicates(data.required_skills)
    queue = Queue(**data.model_dump(exclude={"required_skills"}))
    session.add(queue)
    await session.flush()
    await set_queue_policy(
        session,
        queue.name,
        author_id=author_id,
        skills=data.required_skills,
        strategy=data.strategy,
        priority=data.default_priority,
    )
    await session.flush()
    await session.refresh(queue)
    return queue_out(queue, sorted(data.required_skills, key=lambda s: s.skill))


async def get_queue(session: AsyncSession, queue_id: int) -> Queue:
    queue = await session.get(Queue, queue_id)
    if queue is None:
        raise NotFound(f"No queue {queue_id}.", details={"queue_id": queue_id})
    return queue


async def list_queues(
    session: AsyncSession, *, after_id: int | None, limit: int, channel: str | None
) -> list[Queue]:
    query = select(Queue).order_by(Queue.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Queue.id > after_id)
    if channel is not None:
        query = query.where(Queue.channels.contains([channel]))
    return list(await session.scalars(query))


async def update_queue(
    session: AsyncSession, queue_id: int, data: QueueUpdate, author_id: int | None
) -> QueueOut:
    queue = await get_queue(session, queue_id)
    routing_fields = {"required_skills", "strategy", "default_priority"}
    changes = data.model_dump(exclude_unset=True, exclude_none=True, exclude=routing_fields)
    for field, value in changes.items():
        setattr(queue, field, value)
    if data.required_skills is not None:
        _refuse_duplicates(data.required_skills)
    if routing_fields & data.model_fields_set:
        await set_queue_policy(
            session,
            queue.name,
            author_id=author_id,
            skills=data.required_skills,
            strategy=data.strategy,
            priority=data.default_priority,
        )
    await session.flush()
    await session.refresh(queue)
    skills = await required_skills_of(session, [queue_id])
    return queue_out(queue, skills.get(queue_id, []))
