"""Flows in the database: versions, publishing, rolling back, and which number runs which.

A document is checked twice before it can run: the pydantic model (shape, dangling node,
prompt and hours names) and the database (queues and skills that exist).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.ivr.flow import Flow
from app.ivr.models import IvrFlow, IvrFlowVersion, IvrNumber
from app.queues.models import Queue
from app.skills.models import Skill
from app.users.models import User


@dataclass(frozen=True, slots=True)
class Published:
    """The flow a call runs: pinned to one version for the whole call."""

    flow_id: int
    name: str
    version: int
    flow: Flow


def parse_flow(document: dict[str, Any]) -> Flow:
    """The document as a flow, or a 422 that names every problem, dangling names included."""
    try:
        flow = Flow.model_validate(document)
    except ValidationError as exc:
        details = [
            {"loc": list(err["loc"]), "message": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        raise InvalidInput("The flow is not valid.", details=details, code="invalid_flow") from exc
    missing = flow.dangling()
    if missing:
        names = ", ".join(f"{m['kind']} '{m['name']}' (in {m['in']})" for m in missing)
        raise InvalidInput(
            f"The flow refers to what does not exist: {names}.",
            details={"missing": missing},
            code="dangling_reference",
        )
    return flow


async def check_flow(session: AsyncSession, document: dict[str, Any]) -> Flow:
    """``parse_flow``, then the queues and skills it names must exist."""
    flow = parse_flow(document)
    queues, skills = flow.queues_and_skills()
    missing: list[dict[str, str]] = []
    if queues:
        known = set(await session.scalars(select(Queue.name).where(Queue.name.in_(queues))))
        missing += [{"kind": "queue", "name": q} for q in sorted(queues - known)]
    if skills:
        known = set(await session.scalars(select(Skill.name).where(Skill.name.in_(skills))))
        missing += [{"kind": "skill", "name": s} for s in sorted(skills - known)]
    if missing:
        names = ", ".join(f"{m['kind']} '{m['name']}'" for m in missing)
        raise InvalidInput(
            f"The flow refers to what does not exist: {names}.",
            details={"missing": missing},
            code="dangling_reference",
        )
    return flow


async def get_flow(session: AsyncSession, flow_id: int, *, lock: bool = False) -> IvrFlow:
    query = select(IvrFlow).where(IvrFlow.id == flow_id)
    if lock:
        query = query.with_for_update()
    flow = await session.scalar(query)
    if flow is None:
        raise NotFound(f"No IVR flow {flow_id}.", details={"flow_id": flow_id})
    return flow


async def get_version(session: AsyncSession, flow_id: int, version: int) -> IvrFlowVersion:
    found = await session.scalar(
        select(IvrFlowVersion).where(
            IvrFlowVersion.flow_id == flow_id, IvrFlowVersion.version == version
        )
    )
    if found is None:
        raise NotFound(
            f"Flow {flow_id} has no version {version}.",
            details={"flow_id": flow_id, "version": version},
        )
    return found


async def create_flow(
    session: AsyncSession,
    name: str,
    description: str,
    document: dict[str, Any],
    user: User | None,
) -> tuple[IvrFlow, IvrFlowVersion]:
    await check_flow(session, document)
    if await session.scalar(select(IvrFlow.id).where(IvrFlow.name == name)) is not None:
        raise Conflict(f"A flow named {name} exists already.", code="duplicate_flow")
    flow = IvrFlow(name=name, description=description)
    session.add(flow)
    await session.flush()
    version = await add_version(session, flow.id, document, "", user)
    return flow, version


async def add_version(
    session: AsyncSession,
    flow_id: int,
    document: dict[str, Any],
    comment: str,
    user: User | None,
) -> IvrFlowVersion:
    await get_flow(session, flow_id, lock=True)
    flow = await check_flow(session, document)
    latest = await session.scalar(
        select(func.max(IvrFlowVersion.version)).where(IvrFlowVersion.flow_id == flow_id)
    )
    version = IvrFlowVersion(
        flow_id=flow_id,
        version=(latest or 0) + 1,
        document=flow.model_dump(mode="json", exclude_defaults=False),
        comment=comment,
        created_by=None if user is None else user.id,
    )
    session.add(version)
    await session.flush()
    return version


async def publish(session: AsyncSession, flow_id: int, version: int, user: User | None) -> IvrFlow:
    """New calls run ``version`` from now on; calls already in the flow keep theirs."""
    flow = await get_flow(session, flow_id, lock=True)
    chosen = await get_version(session, flow_id, version)
    await check_flow(session, chosen.document)  # a queue may have gone since it was saved
    flow.published_version = version
    chosen.published_at = datetime.now(UTC)
    chosen.published_by = None if user is None else user.id
    await session.flush()
    return flow


async def rollback(
    session: AsyncSession, flow_id: int, version: int | None, user: User | None
) -> IvrFlow:
    """Publish ``version`` again, by default the last one published before the current."""
    flow = await get_flow(session, flow_id, lock=True)
    if version is None:
        current = flow.published_version
        if current is None:
            raise Conflict("The flow was never published.", code="nothing_to_roll_back")
        version = await session.scalar(
            select(IvrFlowVersion.version)
            .where(
                IvrFlowVersion.flow_id == flow_id,
                IvrFlowVersion.published_at.is_not(None),
                IvrFlowVersion.version != current,
            )
            .order_by(IvrFlowVersion.published_at.desc())
            .limit(1)
        )
        if version is None:
            raise Conflict("No earlier published version.", code="nothing_to_roll_back")
    return await publish(session, flow_id, version, user)


async def versions(session: AsyncSession, flow_id: int) -> list[IvrFlowVersion]:
    await get_flow(session, flow_id)
    rows = await session.scalars(
        select(IvrFlowVersion)
        .where(IvrFlowVersion.flow_id == flow_id)
        .order_by(IvrFlowVersion.version)
    )
    return list(rows)


async def map_number(session: AsyncSession, number: str, flow_id: int) -> IvrNumber:
    await get_flow(session, flow_id)
    mapped = await session.get(IvrNumber, number)
    if mapped is None:
        mapped = IvrNumber(number=number, flow_id=flow_id)
        session.add(mapped)
    else:
        mapped.flow_id = flow_id
    await session.flush()
    return mapped


@lru_cache(maxsize=256)
def _cached_flow(flow_id: int, version: int, text: str) -> Flow:
    return Flow.model_validate_json(text)


async def load_version(session: AsyncSession, flow_id: int, version: int) -> Flow:
    """A stored version as a flow (versions never change, so parsing is cached)."""
    row = await get_version(session, flow_id, version)
    return _cached_flow(flow_id, version, json.dumps(row.document, sort_keys=True))


async def published_for_number(session: AsyncSession, number: str) -> Published | None:
    """The published flow a call to ``number`` (E.164) runs, if there is one."""
    row = (
        await session.execute(
            select(IvrFlow.id, IvrFlow.name, IvrFlow.published_version)
            .join(IvrNumber, IvrNumber.flow_id == IvrFlow.id)
            .where(IvrNumber.number == number, IvrFlow.published_version.is_not(None))
        )
    ).first()
    if row is None:
        return None
    flow_id, name, version = row
    assert version is not None
    return Published(flow_id, name, version, await load_version(session, flow_id, version))


async def published_flow(session: AsyncSession, flow_id: int, version: int | None) -> Published:
    flow = await get_flow(session, flow_id)
    chosen = version if version is not None else flow.published_version
    if chosen is None:
        latest = await session.scalar(
            select(func.max(IvrFlowVersion.version)).where(IvrFlowVersion.flow_id == flow_id)
        )
        if latest is None:
            raise NotFound(f"Flow {flow_id} has no version.")
        chosen = latest
    return Published(flow.id, flow.name, chosen, await load_version(session, flow.id, chosen))
