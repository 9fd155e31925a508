"""Which queue a number, an address or a chat widget leads to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import EntryPoint
from app.entry_points.schemas import EntryChannel, EntryPointCreate, EntryPointOut
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
    channel: EntryChannel,
    address: str,
    queue_name: str,
    *,
    language: str = "zh-CN",
    greeting: str | None = None,
    region: str = "CN",
) -> EntryPointOut:
    """Add an entry point through the same validation as ``POST /api/v1/entry-points``
    (raises InvalidInput, Conflict); national numbers are read in ``region``."""
    from app.entry_points.service import create_entry_point  # it imports the channels

    data = EntryPointCreate(
        channel=channel, address=address, queue=queue_name, language=language, greeting=greeting
    )
    return await create_entry_point(session, data, region)
