"""Contacts and their append-only event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.contacts.events import record
from app.contacts.models import Contact
from app.database import libpq_url


async def _contacts(app: FastAPI, count: int) -> list[int]:
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    ids = []
    async with app.state.db.unit_of_work() as session:
        for i in range(count):
            contact = Contact(
                channel=("voice", "email", "chat")[i % 3],
                state="ended" if i % 2 else "queued",
                created_at=start + timedelta(minutes=i),
            )
            session.add(contact)
            await session.flush()
            record(session, "contact.created", contact_id=contact.id, payload={"n": i})
            record(session, "contact.queued", contact_id=contact.id)
            ids.append(contact.id)
    return ids


async def test_contacts_newest_first_with_filters_and_pages(
    app: FastAPI, client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    ids = await _contacts(app, 7)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/contacts", params=params, headers=supervisor)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    chats = (await client.get("/api/v1/contacts?channel=chat", headers=supervisor)).json()["items"]
    assert {c["channel"] for c in chats} == {"chat"}
    assert len(chats) == 2
    ended = (await client.get("/api/v1/contacts?state=ended", headers=supervisor)).json()["items"]
    assert len(ended) == 3


async def test_contact_detail_has_its_events_in_order(
    app: FastAPI, client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    [contact_id] = await _contacts(app, 1)
    detail = (await client.get(f"/api/v1/contacts/{contact_id}", headers=supervisor)).json()
    assert [e["kind"] for e in detail["events"]] == ["contact.created", "contact.queued"]
    assert detail["events"][0]["payload"] == {"n": 0}


async def test_bad_filter_value_is_422(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    response = await client.get("/api/v1/contacts?channel=fax", headers=supervisor)
    assert response.status_code == 422


async def test_contact_events_cannot_be_rewritten(app: FastAPI, clean_db: str) -> None:
    await _contacts(app, 1)
    conn = await asyncpg.connect(libpq_url(clean_db))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE contact_events SET kind = 'forged'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM contact_events")
        assert await conn.fetchval("SELECT count(*) FROM contact_events") == 2
    finally:
        await conn.close()
