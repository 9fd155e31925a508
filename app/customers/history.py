"""A customer's contacts across all channels, newest first, with notes and excerpts.

Pages are keyset-paginated on ``(created_at, id)`` (index ``ix_contacts_customer_history``),
so the first page and the thousandth cost the same. A page, and the pop's history, is one
statement: PostgreSQL builds each item (notes and the thread's last lines included) as
JSON, which costs one round trip instead of one per table and no ORM objects — the pop is
on the path of every offer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import fastjson
from app.customers.history_schemas import HistoryItem
from app.customers.note_models import ContactNote
from app.database import driver_connection
from app.errors import InvalidInput
from app.pagination import decode_cursor, encode_cursor

DISPOSITIONS = (
    "resolved",
    "follow_up_needed",
    "complaint",
    "sale",
    "callback_promised",
    "no_answer",
    "do_not_call",  # the customer asked not to be called: refuses voice consent at once
    "other",
    # outbound calls (docs/outbound.md); no_answer and do_not_call above serve them too
    "reached",
    "busy",
    "wrong_number",
)
OPEN_DISPOSITIONS = ("complaint", "follow_up_needed", "callback_promised")
OPEN_STATES = ("new", "ivr", "queued", "offered", "assigned", "wrap_up")
EXCERPT_LINES = 2
EXCERPT_CHARS = 200
POP_OPEN_ITEMS = 5
POP_RECENT_ITEMS = 10


def check_disposition(disposition: str | None) -> None:
    """Refuse a disposition that is not one of ``DISPOSITIONS`` (``None``: none given).

    Every way a disposition is written (the console, the HTTP API, the demo) passes here."""
    if disposition is not None and disposition not in DISPOSITIONS:
        raise InvalidInput(
            "Unknown disposition.",
            details={"disposition": disposition, "allowed": list(DISPOSITIONS)},
            code="unknown_disposition",
        )


# The JSON of history item ``h`` (a contacts row); $1 / $2 are OPEN_STATES / OPEN_DISPOSITIONS.
ITEM_JSON = f"""
json_build_object(
    'contact_id', h.id, 'channel', h.channel, 'direction', h.direction, 'state', h.state,
    'open', h.state = ANY($1::text[]) OR coalesce(h.disposition = ANY($2::text[]), false),
    'created_at', h.created_at, 'ended_at', h.ended_at, 'agent_id', h.agent_id,
    'disposition', h.disposition, 'subject', h.subject, 'recording_url', h.recording_url,
    'notes', coalesce((
        SELECT json_agg(json_build_object(
            'id', n.id, 'author_id', n.author_id, 'body', n.body, 'created_at', n.created_at
        ) ORDER BY n.id)
        FROM contact_notes n WHERE n.contact_id = h.id), '[]'::json),
    'excerpt', coalesce((
        SELECT json_agg(json_build_object('seq', m.seq, 'author', m.author, 'text', m.text)
                        ORDER BY m.seq)
        FROM (SELECT seq, author, left(body, {EXCERPT_CHARS}) AS text FROM messages
              WHERE contact_id = h.id ORDER BY seq DESC LIMIT {EXCERPT_LINES}) m), '[]'::json)
)"""  # noqa: S608 (only constants are formatted in)

_PAGE_SQL = """
SELECT coalesce(json_agg({item} ORDER BY h.created_at DESC, h.id DESC), '[]'::json)
FROM (SELECT * FROM contacts WHERE customer_id = $3 {after}
      ORDER BY created_at DESC, id DESC LIMIT $4) h
"""
FIRST_PAGE_SQL = _PAGE_SQL.format(item=ITEM_JSON, after="")
NEXT_PAGE_SQL = _PAGE_SQL.format(item=ITEM_JSON, after="AND (created_at, id) < ($5, $6)")


def open_params() -> tuple[list[str], list[str]]:
    return list(OPEN_STATES), list(OPEN_DISPOSITIONS)


def items_from_json(raw: Any) -> list[HistoryItem]:
    rows = fastjson.decoded(raw)
    return [HistoryItem.model_validate(row) for row in rows or []]


def _cursor_of(item: HistoryItem) -> str:
    return encode_cursor(item.created_at.isoformat(), item.contact_id)


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    key = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(key[0]), int(key[1])
    except (IndexError, TypeError, ValueError) as exc:
        raise InvalidInput("The cursor is not one this API issued.") from exc


async def history_page(
    session: AsyncSession, customer_id: int, cursor: str | None, limit: int
) -> tuple[list[HistoryItem], str | None]:
    """Up to ``limit`` items newest first after ``cursor``, and the next page's cursor."""
    conn = await driver_connection(session)
    if cursor is None:
        raw = await conn.fetchval(FIRST_PAGE_SQL, *open_params(), customer_id, limit + 1)
    else:
        after = _parse_cursor(cursor)
        raw = await conn.fetchval(NEXT_PAGE_SQL, *open_params(), customer_id, limit + 1, *after)
    items = items_from_json(raw)
    more = len(items) > limit
    items = items[:limit]
    return items, (_cursor_of(items[-1]) if more and items else None)


async def add_note(
    session: AsyncSession, contact_id: int, author_id: int, body: str
) -> ContactNote:
    note = ContactNote(contact_id=contact_id, author_id=author_id, body=body)
    session.add(note)
    await session.flush()
    return note
