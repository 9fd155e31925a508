"""Starting a chat: the contact, the customer match, the token, the widget's queue."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg
import httpx

from app.database import libpq_url
from tests.channels.chat.conftest import Desk

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def _row(url: str, query: str, *args: object) -> asyncpg.Record:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        row: asyncpg.Record | None = await conn.fetchrow(query, *args)
    finally:
        await conn.close()
    assert row is not None, query
    return row


async def test_a_visitor_with_an_email_becomes_a_customer(desk: Desk, clean_db: str) -> None:
    started = await desk.start(
        name="王小明",
        email="Wang.XM@Example.cn",
        language="zh-CN",
        page_url="https://shop.example.cn/orders/58213",
    )
    assert set(started) >= {"session_id", "token", "contact_id", "position"}
    contact = await desk.contact(started["contact_id"])
    assert (contact["channel"], contact["provider"]) == ("chat", "webchat")
    assert contact["provider_ref"] == started["session_id"]
    assert contact["customer_match"] == "created"
    assert contact["customer_id"] is not None
    assert contact["state"] in ("queued", "offered")
    chat = await _row(clean_db, "SELECT * FROM chat_sessions WHERE contact_id = $1", contact["id"])
    assert chat["id"] == uuid.UUID(started["session_id"])
    assert chat["token_hash"] == hashlib.sha256(started["token"].encode()).hexdigest()
    assert started["token"] not in str(dict(chat))
    assert chat["visitor_email"] == "wang.xm@example.cn"
    assert chat["page_url"] == "https://shop.example.cn/orders/58213"
    assert chat["ended_at"] is None


async def test_a_returning_customer_is_recognised_by_email(desk: Desk) -> None:
    customer = await desk.client.post(
        "/api/v1/customers",
        json={"name": "Li Na", "emails": ["li.na@example.com"]},
        headers=desk.admin,
    )
    assert customer.status_code == 201, customer.text
    started = await desk.start(email="LI.NA@example.com")
    contact = await desk.contact(started["contact_id"])
    assert (contact["customer_id"], contact["customer_match"]) == (
        customer.json()["id"],
        "email",
    )


async def test_an_anonymous_visitor_stays_unknown(desk: Desk, clean_db: str) -> None:
    started = await desk.start(name="访客")
    contact = await desk.contact(started["contact_id"])
    assert (contact["customer_id"], contact["customer_match"]) == (None, "unknown")
    customers = await _row(clean_db, "SELECT count(*) AS n FROM customers")
    assert customers["n"] == 0


async def test_the_greeting_is_the_first_message(desk: Desk, clean_db: str) -> None:
    started = await desk.start()
    first = await _row(
        clean_db, "SELECT * FROM messages WHERE contact_id = $1", started["contact_id"]
    )
    assert (first["seq"], first["author"], first["body"]) == (1, "system", "您好！欢迎咨询。")


async def test_an_unknown_widget_is_refused_and_nothing_is_stored(
    desk: Desk, clean_db: str
) -> None:
    response = await desk.client.post("/api/v1/chat/sessions", json={"widget": "nope"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_widget"
    count = await _row(clean_db, "SELECT count(*) AS n FROM contacts")
    assert count["n"] == 0


async def test_bad_input_is_refused(desk: Desk) -> None:
    for body in (
        {"email": "not-an-address"},
        {"page_url": "javascript:alert(1)"},
        {"language": "chinese please"},
        {"name": "x" * 201},
        {"extra": 1},
    ):
        response = await desk.client.post("/api/v1/chat/sessions", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_input"


async def test_the_widget_needs_no_account(desk: Desk) -> None:
    transport = desk.client._transport  # the same app, no Authorization header
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous:
        response = await anonymous.post("/api/v1/chat/sessions", json={})
    assert response.status_code == 201, response.text


async def test_a_closed_queue_answers_with_the_closed_action(desk: Desk) -> None:
    everyday = [["00:00", "00:00:01"]]  # open one second a day: closed in practice
    published = await desk.client.put(
        "/api/v1/routing/config",
        json={
            "document": {
                "queues": {
                    "support": {
                        "skills": [{"skill": "support", "level": 1}],
                        "hours": {
                            "timezone": "Asia/Shanghai",
                            "weekly": dict.fromkeys(WEEK, everyday),
                            "closed_action": "message",
                        },
                    }
                }
            }
        },
        headers=desk.admin,
    )
    assert published.status_code == 201, published.text
    started = await desk.start()
    assert started["closed_action"] == "message"
    assert started["ended"] is True
    assert started["position"] is None
    contact = await desk.contact(started["contact_id"])
    assert contact["state"] == "ended"
    transcript = await desk.transcript(started["contact_id"])
    assert [m["event"] for m in transcript] == ["greeting", "closed"]
