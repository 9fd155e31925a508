"""A customer's contacts across all channels, newest first, with notes and excerpts.

Pages are keyset-paginated on ``(created_at, id)`` (index ``ix_contacts_customer_history``),
so the first page and the thousandth cost the same.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.models import Message
from app.contacts.models import Contact
from app.customers.history_schemas import ExcerptLine, HistoryItem, NoteOut
from app.customers.note_models import ContactNote
from app.errors import InvalidInput
from app.pagination import decode_cursor, encode_cursor

DISPOSITIONS = (
    "resolved",
    "follow_up_needed",
    "complaint",
    "sale",
    "callback_promised",
    "no_answer",
    "other",
)
OPEN_DISPOSITIONS = ("complaint", "follow_up_needed", "callback_promised")
OPEN_STATES = ("new", "ivr", "queued", "offered", "assigned", "wrap_up")
EXCERPT_LINES = 2
EXCERPT_CHARS = 200
POP_OPEN_ITEMS = 5
POP_RECENT_ITEMS = 10


def is_open(contact: Contact) -> bool:
    return contact.state in OPEN_STATES or contact.disposition in OPEN_DISPOSITIONS


def history_cursor(contact: Contact) -> str:
    return encode_cursor(contact.created_at.isoformat(), contact.id)


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    key = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(key[0]), int(key[1])
    except (IndexError, TypeError, ValueError) as exc:
        raise InvalidInput("The cursor is not one this API issued.") from exc


async def contacts_page(
    session: AsyncSession, customer_id: int, cursor: str | None, limit: int
) -> list[Contact]:
    """``limit + 1`` contacts at most, newest first, after the cursor."""
    query = (
        select(Contact)
        .where(Contact.customer_id == customer_id)
        .order_by(Contact.created_at.desc(), Contact.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        created_at, contact_id = _parse_cursor(cursor)
        query = query.where(tuple_(Contact.created_at, Contact.id) < (created_at, contact_id))
    return list(await session.scalars(query))


async def open_contacts(session: AsyncSession, customer_id: int, limit: int) -> list[Contact]:
    query = (
        select(Contact)
        .where(
            Contact.customer_id == customer_id,
            (Contact.state.in_(OPEN_STATES)) | (Contact.disposition.in_(OPEN_DISPOSITIONS)),
        )
        .order_by(Contact.created_at.desc(), Contact.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def _notes_of(session: AsyncSession, ids: list[int]) -> dict[int, list[NoteOut]]:
    notes: dict[int, list[NoteOut]] = defaultdict(list)
    query = select(ContactNote).where(ContactNote.contact_id.in_(ids)).order_by(ContactNote.id)
    for note in await session.scalars(query):
        notes[note.contact_id].append(
            NoteOut(
                id=note.id, author_id=note.author_id, body=note.body, created_at=note.created_at
            )
        )
    return notes


async def _excerpts_of(session: AsyncSession, ids: list[int]) -> dict[int, list[ExcerptLine]]:
    ranked = (
        select(
            Message.contact_id,
            Message.seq,
            Message.author,
            func.left(Message.body, EXCERPT_CHARS).label("text"),
            func.row_number()
            .over(partition_by=Message.contact_id, order_by=Message.seq.desc())
            .label("rank"),
        )
        .where(Message.contact_id.in_(ids))
        .subquery()
    )
    query = (
        select(ranked.c.contact_id, ranked.c.seq, ranked.c.author, ranked.c.text)
        .where(ranked.c.rank <= EXCERPT_LINES)
        .order_by(ranked.c.contact_id, ranked.c.seq)
    )
    excerpts: dict[int, list[ExcerptLine]] = defaultdict(list)
    for contact_id, seq, author, text in await session.execute(query):
        excerpts[contact_id].append(ExcerptLine(seq=seq, author=author, text=text or ""))
    return excerpts


async def history_items(session: AsyncSession, contacts: list[Contact]) -> list[HistoryItem]:
    ids = [c.id for c in contacts]
    if not ids:
        return []
    notes = await _notes_of(session, ids)
    excerpts = await _excerpts_of(session, ids)
    return [
        HistoryItem(
            contact_id=c.id,
            channel=c.channel,
            direction=c.direction,
            state=c.state,
            open=is_open(c),
            created_at=c.created_at,
            ended_at=c.ended_at,
            agent_id=c.agent_id,
            disposition=c.disposition,
            subject=c.subject,
            recording_url=c.recording_url,
            notes=notes.get(c.id, []),
            excerpt=excerpts.get(c.id, []),
        )
        for c in contacts
    ]


async def pop_history(
    session: AsyncSession, customer_id: int, *, exclude: int | None = None
) -> list[HistoryItem]:
    """Open cases and complaints first, then the most recent contacts, each once."""
    first = await open_contacts(session, customer_id, POP_OPEN_ITEMS + 1)
    recent = await contacts_page(session, customer_id, None, POP_RECENT_ITEMS)
    chosen: dict[int, Contact] = {}
    for contact in [*first, *recent]:
        if contact.id != exclude and len(chosen) < POP_RECENT_ITEMS:
            chosen.setdefault(contact.id, contact)
    return await history_items(session, list(chosen.values()))


async def add_note(
    session: AsyncSession, contact_id: int, author_id: int, body: str
) -> ContactNote:
    note = ContactNote(contact_id=contact_id, author_id=author_id, body=body)
    session.add(note)
    await session.flush()
    return note
