"""Publishing, reading and rolling back the routing document.

The document is the one source of routing policy. The queue rows' strategy, default
priority and required skills are kept equal to the version in force, so the queue API and
the router never disagree; changing them through the queue API publishes a new version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from app.errors import Conflict, InvalidInput, NotFound
from app.queues.models import Queue, QueueSkill
from app.routing.config_schemas import QueuePolicy, RoutingDocument
from app.routing.inbox import submit
from app.routing.models import RoutingConfigVersion
from app.skills.models import Skill
from app.skills.schemas import SkillLevel

# Versions never change once published: each is parsed once per process (keyed with its
# creation time too, so a database restored or emptied cannot serve a stale one). Callers
# must not mutate the returned document (publish builds new ones).
_parsed: dict[tuple[int, datetime], RoutingDocument] = {}
_DEFAULTS = RoutingDocument()

# Serializes publishers: versions are numbered 1, 2, 3... with no gaps or races.
_PUBLISH_LOCK = 0x636F6E66  # "conf"


def latest_version_columns() -> tuple[ScalarSelect[int], ScalarSelect[datetime]]:
    """The version in force and its creation time, as columns to add to another query."""
    latest = select(RoutingConfigVersion).order_by(RoutingConfigVersion.version.desc()).limit(1)
    return (
        latest.with_only_columns(RoutingConfigVersion.version).scalar_subquery(),
        latest.with_only_columns(RoutingConfigVersion.created_at).scalar_subquery(),
    )


async def document_of(
    session: AsyncSession, version: int | None, created_at: datetime | None
) -> RoutingDocument:
    """A version's document, parsed once per process."""
    if version is None or created_at is None:
        return _DEFAULTS
    key = (version, created_at)
    document = _parsed.get(key)
    if document is None:
        raw = await session.scalar(
            select(RoutingConfigVersion.document).where(RoutingConfigVersion.version == version)
        )
        document = _parsed[key] = RoutingDocument.model_validate(raw)
        while len(_parsed) > 16:
            del _parsed[min(_parsed)]
    return document


async def active_version(session: AsyncSession) -> tuple[int, RoutingDocument]:
    """The version in force; version 0 (all defaults) before anything is published."""
    version, created_at = latest_version_columns()
    latest = (await session.execute(select(version, created_at))).one()
    return latest[0] or 0, await document_of(session, latest[0], latest[1])


async def routing_document(session: AsyncSession) -> tuple[int, RoutingDocument]:
    """What the router runs: the version in force, plus a default policy (the queue row's
    skills, strategy and priority) for every queue the document does not mention yet."""
    version, document = await active_version(session)
    from app.queues.service import required_skills_of  # the queue service publishes through us

    rows = (
        await session.execute(
            select(Queue.id, Queue.name, Queue.strategy, Queue.default_priority).where(
                Queue.name.not_in(list(document.queues))
            )
        )
    ).all()
    if not rows:
        return version, document
    skills = await required_skills_of(session, [row.id for row in rows])
    extra = {
        row.name: QueuePolicy(
            skills=skills.get(row.id, []), strategy=row.strategy, priority=row.default_priority
        )
        for row in rows
    }
    return version, document.model_copy(update={"queues": {**document.queues, **extra}})


async def get_version(session: AsyncSession, version: int) -> RoutingConfigVersion:
    row = await session.get(RoutingConfigVersion, version)
    if row is None:
        raise NotFound(f"No routing configuration version {version}.", details={"version": version})
    return row


async def list_versions(session: AsyncSession, limit: int = 100) -> list[RoutingConfigVersion]:
    query = select(RoutingConfigVersion).order_by(RoutingConfigVersion.version.desc()).limit(limit)
    return list(await session.scalars(query))


async def validate_references(session: AsyncSession, document: RoutingDocument) -> dict[str, int]:
    """The ids of the queues ``document`` names; ``InvalidInput`` (422 ``unknown_reference``)
    if it names a queue or skill that does not exist."""
    queue_names = document.queue_references()
    queues = dict(
        (
            await session.execute(select(Queue.name, Queue.id).where(Queue.name.in_(queue_names)))
        ).all()
    )
    skill_names = document.skill_names()
    skills = set(await session.scalars(select(Skill.name).where(Skill.name.in_(skill_names))))
    missing_queues = sorted(queue_names - set(queues))
    missing_skills = sorted(skill_names - skills)
    if missing_queues or missing_skills:
        parts = [f"unknown queue: {', '.join(missing_queues)}"] if missing_queues else []
        parts += [f"unknown skill: {', '.join(missing_skills)}"] if missing_skills else []
        raise InvalidInput(
            "The routing configuration refers to " + "; ".join(parts) + ".",
            details={"unknown_queues": missing_queues, "unknown_skills": missing_skills},
            code="unknown_reference",
        )
    return queues


async def _project_onto_queues(
    session: AsyncSession, document: RoutingDocument, queue_ids: dict[str, int]
) -> None:
    skill_ids = dict((await session.execute(select(Skill.name, Skill.id))).all())
    for name, policy in document.queues.items():
        queue = await session.get(Queue, queue_ids[name])
        assert queue is not None
        queue.strategy = policy.strategy
        queue.default_priority = policy.priority
        await session.execute(delete(QueueSkill).where(QueueSkill.queue_id == queue.id))
        session.add_all(
            QueueSkill(queue_id=queue.id, skill_id=skill_ids[s.skill], min_level=s.level)
            for s in policy.skills
        )


async def publish(
    session: AsyncSession,
    document: RoutingDocument,
    *,
    author_id: int | None,
    comment: str = "",
    rolled_back_from: int | None = None,
    based_on: int | None = None,
) -> RoutingConfigVersion:
    """Validate, store as the next version, and tell the router. Nothing is stored if invalid,
    nor if ``based_on`` is given and is no longer the latest version (409)."""
    queue_ids = await validate_references(session, document)
    await session.execute(select(func.pg_advisory_xact_lock(_PUBLISH_LOCK)))
    latest = await session.scalar(select(func.max(RoutingConfigVersion.version)))
    if based_on is not None and based_on != (latest or 0):
        raise Conflict(
            f"Version {latest} has been published since version {based_on}: review it first.",
            code="version_conflict",
            details={"based_on": based_on, "latest": latest},
        )
    row = RoutingConfigVersion(
        version=(latest or 0) + 1,
        document=document.model_dump(mode="json"),
        author_id=author_id,
        comment=comment,
        rolled_back_from=rolled_back_from,
    )
    session.add(row)
    await _project_onto_queues(session, document, queue_ids)
    await session.flush()
    await submit(session, "config.changed", {"version": row.version}, actor_id=author_id)
    return row


async def roll_back(
    session: AsyncSession, version: int, *, author_id: int | None
) -> RoutingConfigVersion:
    """Put an earlier version back in force, as a new version (history stays linear)."""
    old = await get_version(session, version)
    document = RoutingDocument.model_validate(old.document)
    return await publish(
        session,
        document,
        author_id=author_id,
        comment=f"roll back to version {version}",
        rolled_back_from=version,
    )


async def set_queue_policy(
    session: AsyncSession,
    queue_name: str,
    *,
    author_id: int | None,
    skills: list[SkillLevel] | None = None,
    strategy: str | None = None,
    priority: int | None = None,
) -> None:
    """Change a queue's routing fields the way the queue API exposes them: a new version."""
    _, document = await active_version(session)
    policy = document.queues.get(queue_name, QueuePolicy())
    changes: dict[str, object] = {}
    if skills is not None:
        changes["skills"] = skills
    if strategy is not None:
        changes["strategy"] = strategy
    if priority is not None:
        changes["priority"] = priority
    if not changes and queue_name in document.queues:
        return
    queues = {**document.queues, queue_name: policy.model_copy(update=changes)}
    updated = RoutingDocument.model_validate(
        {**document.model_dump(), "queues": {k: v.model_dump() for k, v in queues.items()}}
    )
    await publish(session, updated, author_id=author_id, comment=f"queue {queue_name} changed")
