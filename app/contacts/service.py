from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import Contact, ContactEvent
from app.customers.history import check_disposition
from app.errors import InvalidInput, NotFound
from app.pagination import decode_cursor, encode_cursor


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    return contact


async def events_of(session: AsyncSession, contact_id: int) -> list[ContactEvent]:
    query = (
        select(ContactEvent).where(ContactEvent.contact_id == contact_id).order_by(ContactEvent.id)
    )
    return list(await session.scalars(query))


def _after(cursor: str) -> tuple[datetime, int]:
    key = decode_cursor(cursor)
    try:
        created, contact_id = key
        return datetime.fromisoformat(created), int(contact_id)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "The cursor is not one this API issued.", details={"cursor": cursor}
        ) from exc


async def list_contacts(
    session: AsyncSession,
    *,
    cursor: str | None,
    limit: int,
    channel: str | None,
    state: str | None,
    queue_id: int | None,
    customer_id: int | None,
    agent_id: int | None,
    disposition: str | None = None,
) -> tuple[list[Contact], str | None]:
    """Newest first, paged by (created_at, id) so contacts back-dated by imports sort right.

    An unknown ``disposition`` is refused (``unknown_disposition``), not answered empty."""
    check_disposition(disposition)
    query = select(Contact).order_by(Contact.created_at.desc(), Contact.id.desc()).limit(limit + 1)
    if cursor is not None:
        created, last_id = _after(cursor)
        query = query.where(
            or_(
                Contact.created_at < created,
                and_(Contact.created_at == created, Contact.id < last_id),
            )
        )
    filters = {
        Contact.channel: channel,
        Contact.state: state,
        Contact.queue_id: queue_id,
        Contact.customer_id: customer_id,
        Contact.agent_id: agent_id,
        Contact.disposition: disposition,
    }
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    rows = list(await session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id)
