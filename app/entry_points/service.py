"""Managing entry points. Services flush, never commit; the caller's unit of work does."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import EntryPoint
from app.customers.identity import InvalidEmail, InvalidPhone, normalize_email, normalize_phone
from app.entry_points.schemas import (
    WIDGET_KEY,
    EntryChannel,
    EntryPointCreate,
    EntryPointOut,
    EntryPointUpdate,
)
from app.errors import Conflict, InvalidInput, NotFound
from app.queues.models import Queue

PAGE = 500


def normalized_address(channel: EntryChannel, raw: str, region: str) -> str:
    """The stored form of an entry point's address, or InvalidInput (422).

    Voice: a valid phone number (national numbers in ``region``), as E.164. Email: a
    deliverable-looking mailbox (syntax, a dotted domain that is not special-use; no DNS
    lookup), lower-case. Chat: a widget key, lower-case letters, digits, ``_`` and ``-``.
    """
    details = {"channel": channel, "address": raw}
    if channel == "voice":
        try:
            phone = normalize_phone(raw, region)
        except InvalidPhone as exc:
            raise InvalidInput(
                "Not a phone number.", details=details, code="invalid_phone"
            ) from exc
        if phone.extension is not None:
            raise InvalidInput(
                "An entry point is a number without extension.",
                details=details,
                code="invalid_phone",
            )
        return phone.e164
    if channel == "email":
        try:
            return normalize_email(raw)
        except InvalidEmail as exc:
            raise InvalidInput(
                "Not a deliverable mailbox address.", details=details, code="invalid_email"
            ) from exc
    key = raw.strip().lower()
    if not re.fullmatch(WIDGET_KEY, key):
        raise InvalidInput(
            "A widget key is 1-64 lower-case letters, digits, _ and -, starting with a "
            "letter or digit.",
            details=details,
            code="invalid_widget_key",
        )
    return key


def entry_point_out(point: EntryPoint, queue_name: str) -> EntryPointOut:
    return EntryPointOut(
        id=point.id,
        channel=point.channel,
        address=point.address,
        queue=queue_name,
        language=point.language,
        greeting=point.greeting,
        created_at=point.created_at,
    )


async def list_entry_points(
    session: AsyncSession,
    *,
    after_id: int | None,
    limit: int,
    channel: EntryChannel | None = None,
    queue: str | None = None,
) -> list[EntryPointOut]:
    """Up to ``limit + 1`` entry points by id (the extra one tells a next page exists)."""
    query = (
        select(EntryPoint, Queue.name)
        .join(Queue, Queue.id == EntryPoint.queue_id)
        .order_by(EntryPoint.id)
        .limit(limit + 1)
    )
    if after_id is not None:
        query = query.where(EntryPoint.id > after_id)
    if channel is not None:
        query = query.where(EntryPoint.channel == channel)
    if queue is not None:
        query = query.where(Queue.name == queue)
    rows = (await session.execute(query)).all()
    return [entry_point_out(point, name) for point, name in rows]


async def all_entry_points(
    session: AsyncSession, *, channel: EntryChannel | None = None, queue: str | None = None
) -> list[EntryPointOut]:
    """Every entry point by id, read a page at a time."""
    found: list[EntryPointOut] = []
    after: int | None = None
    while True:
        page = await list_entry_points(
            session, after_id=after, limit=PAGE, channel=channel, queue=queue
        )
        found.extend(page[:PAGE])
        if len(page) <= PAGE:
            return found
        after = page[PAGE - 1].id


async def get_entry_point(session: AsyncSession, entry_point_id: int) -> EntryPointOut:
    point, queue_name = await _point_and_queue(session, entry_point_id)
    return entry_point_out(point, queue_name)


async def create_entry_point(
    session: AsyncSession, data: EntryPointCreate, region: str
) -> EntryPointOut:
    """Add an entry point: 422 for a bad address or a queue that does not take the
    channel, 409 when the address already leads somewhere."""
    address = normalized_address(data.channel, data.address, region)
    queue_id = await _queue_taking(session, data.queue, data.channel)
    await _refuse_taken(session, data.channel, address)
    point = EntryPoint(
        channel=data.channel,
        address=address,
        queue_id=queue_id,
        language=data.language,
        greeting=data.greeting,
    )
    session.add(point)
    await session.flush()
    await session.refresh(point, ["created_at"])
    return entry_point_out(point, data.queue)


async def update_entry_point(
    session: AsyncSession, entry_point_id: int, data: EntryPointUpdate, region: str
) -> EntryPointOut:
    """Change the fields given (validated as on create)."""
    point, queue_name = await _point_and_queue(session, entry_point_id)
    channel: EntryChannel = point.channel  # type: ignore[assignment]
    if data.address is not None:
        address = normalized_address(channel, data.address, region)
        if address != point.address:
            await _refuse_taken(session, channel, address)
            point.address = address
    if data.queue is not None:
        point.queue_id = await _queue_taking(session, data.queue, channel)
        queue_name = data.queue
    if data.language is not None:
        point.language = data.language
    if "greeting" in data.model_fields_set:
        point.greeting = data.greeting
    await session.flush()
    return entry_point_out(point, queue_name)


async def delete_entry_point(session: AsyncSession, entry_point_id: int) -> None:
    point, _ = await _point_and_queue(session, entry_point_id)
    await session.delete(point)
    await session.flush()


async def _point_and_queue(session: AsyncSession, entry_point_id: int) -> tuple[EntryPoint, str]:
    row = (
        await session.execute(
            select(EntryPoint, Queue.name)
            .join(Queue, Queue.id == EntryPoint.queue_id)
            .where(EntryPoint.id == entry_point_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such entry point.", details={"id": entry_point_id})
    return row[0], row[1]


async def _queue_taking(session: AsyncSession, queue_name: str, channel: str) -> int:
    row = (
        await session.execute(select(Queue.id, Queue.channels).where(Queue.name == queue_name))
    ).first()
    if row is None:
        raise InvalidInput("No such queue.", details={"queue": queue_name}, code="unknown_queue")
    queue_id, channels = row
    if channel not in channels:
        raise InvalidInput(
            f"Queue {queue_name} does not take {channel} contacts.",
            details={"queue": queue_name, "channel": channel, "queue_channels": list(channels)},
            code="channel_not_in_queue",
        )
    return int(queue_id)


async def _refuse_taken(session: AsyncSession, channel: str, address: str) -> None:
    taken: Sequence[int] = (
        await session.scalars(
            select(EntryPoint.id).where(
                EntryPoint.channel == channel, EntryPoint.address == address
            )
        )
    ).all()
    if taken:
        raise Conflict(
            "This address is already an entry point.",
            details={"channel": channel, "address": address, "id": taken[0]},
            code="entry_point_exists",
        )
