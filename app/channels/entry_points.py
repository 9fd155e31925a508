"""Which queue a number, an address or a chat widget leads to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import EntryPoint
from app.queues.models import Queue


async def entry_point(
    session: AsyncSession, channel: str, address: str
) -> tuple[EntryPoint, str] | None:
    """The entry point for ``address`` (already normalized) and its queue's name."""
    row = (
        await session.execute(
            select(EntryPoint, Queue.name)
            .join(Queue, Queue.id == EntryPoint.queue_id)
            .where(EntryPoint.channel == channel, EntryPoint.address == address)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def add_entry_point(
    session: AsyncSession,
    channel: str,
    address: str,
    queue_name: str,
    *,
    language: str = "zh-CN",
    greeting: str | None = None,
) -> EntryPoint:
    queue_id = await session.scalar(select(Queue.id).where(Queue.name == queue_name))
    if queue_id is None:
        raise ValueError(f"unknown queue {queue_name}")
    point = EntryPoint(
        channel=channel, address=address, queue_id=queue_id, language=language, greeting=greeting
    )
    session.add(point)
    await session.flush()
    return point
