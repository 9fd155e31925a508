"""Starting chats is rate-limited per client address and per widget, anonymous waiting chats
are capped per widget, and a supervisor takes spam out of line. A refused start stores
nothing but its count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.channels.chat.conftest import Desk
from tests.conftest import make_settings

PROXY_HEADER = "X-Forwarded-For"


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        chat_sessions_per_address=3,
        chat_sessions_per_widget=6,
        chat_max_anonymous_waiting=4,
        forwarded_for_header=PROXY_HEADER,
    )
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


async def _start(desk: Desk, address: str, **body: Any) -> httpx.Response:
    return await desk.client.post(
        "/api/v1/chat/sessions", json=body, headers={PROXY_HEADER: address}
    )


async def _chats(desk: Desk) -> list[dict[str, Any]]:
    page = await desk.client.get("/api/v1/contacts?channel=chat&limit=200", headers=desk.admin)
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def test_one_address_may_start_only_so_many_chats_a_window(desk: Desk) -> None:
    for n in range(3):
        started = await _start(desk, "203.0.113.7", email=f"v{n}@example.cn")
        assert started.status_code == 201, started.text
    # a client cannot hide behind a header entry of its own: the proxy's last entry counts
    refused = await _start(desk, "198.51.100.1, 203.0.113.7", email="v3@example.cn")

    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(await _chats(desk)) == 3  # nothing stored for the refused start
    other = await _start(desk, "203.0.113.8", email="w@example.cn")
    assert other.status_code == 201, other.text


async def test_one_widget_may_start_only_so_many_chats_a_window(desk: Desk) -> None:
    for n in range(6):
        started = await _start(desk, f"192.0.2.{n}", email=f"v{n}@example.cn")
        assert started.status_code == 201, started.text
    refused = await _start(desk, "192.0.2.99", email="late@example.cn")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert len(await _chats(desk)) == 6


async def test_anonymous_waiting_chats_are_capped_but_a_visitor_with_an_email_gets_in(
    desk: Desk,
) -> None:
    for n in range(4):
        started = await _start(desk, f"192.0.2.{n // 2}", name="匿名")
        assert started.status_code == 201, started.text
    refused = await _start(desk, "192.0.2.50")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_waiting"
    identified = await _start(desk, "192.0.2.50", name="王小明", email="wang.xm@example.cn")
    assert identified.status_code == 201, identified.text


async def test_a_supervisor_purges_a_widgets_anonymous_waiting_chats(
    desk: Desk, make_user: Any
) -> None:
    spam = [(await _start(desk, f"192.0.2.{n}")).json()["contact_id"] for n in range(3)]
    real = (await _start(desk, "192.0.2.9", email="real@example.cn")).json()["contact_id"]
    agent = await make_user("ann")
    purge = {"widget": "default"}
    refused = await desk.client.post("/api/v1/chat/purge", json=purge, headers=agent)
    assert refused.status_code == 403
    supervisor = await make_user("sue", "supervisor")

    purged = await desk.client.post(
        "/api/v1/chat/purge", json={"widget": "default"}, headers=supervisor
    )

    assert purged.status_code == 200, purged.text
    assert purged.json() == {"ended": spam}
    for contact_id in spam:
        contact = await desk.wait_state(contact_id, "abandoned")
        assert "chat.purged" in [e["kind"] for e in contact["events"]]
    assert (await desk.contact(real))["state"] in ("new", "queued")
    again = await desk.client.post(
        "/api/v1/chat/purge", json={"widget": "default"}, headers=supervisor
    )
    assert again.json() == {"ended": []}
