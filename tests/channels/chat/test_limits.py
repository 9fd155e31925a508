"""Message size and rate limits: a clear error, nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.channels.chat.conftest import Desk
from tests.conftest import make_settings


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(chat_max_message_chars=20, chat_messages_per_minute=3)
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_long_message_is_refused(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")
        await visitor.send({"type": "message", "client_id": "long", "text": "长" * 21})
        error = await visitor.next_of("error")
        assert (error["code"], error["client_id"]) == ("message_too_long", "long")
        await visitor.send({"type": "message", "client_id": "huge", "text": "x" * 100_000})
        assert (await visitor.next_of("error"))["code"] == "message_too_long"
        await visitor.send({"type": "message", "client_id": "fits", "text": "长" * 20})
        ack, _ = await visitor.ack_and_echo()
        assert ack["client_id"] == "fits"
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["长" * 20]


async def test_too_many_messages_a_minute_are_refused(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")
        for n in range(3):
            await visitor.send({"type": "message", "client_id": f"c{n}", "text": f"m{n}"})
            await visitor.ack_and_echo()
        await visitor.send({"type": "message", "client_id": "c3", "text": "m3"})
        error = await visitor.next_of("error")
        assert (error["code"], error["client_id"]) == ("rate_limited", "c3")
        # a resend of a stored message is no new message: acked, not limited
        await visitor.send({"type": "message", "client_id": "c0", "text": "m0"})
        assert (await visitor.next_of("ack"))["duplicate"] is True

    async with live_desk.visitor() as visitor:  # reconnecting does not reset the count
        await visitor.hello(started, last_seq=4)
        await visitor.send({"type": "message", "client_id": "c4", "text": "m4"})
        assert (await visitor.next_of("error"))["code"] == "rate_limited"
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["m0", "m1", "m2"]


async def test_the_agent_message_limit(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    started = await live_desk.start()
    await live_desk.accept("li.na", started["contact_id"])
    too_long = await live_desk.say("li.na", started["contact_id"], "x" * 21)
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "message_too_long"
    assert len(await live_desk.transcript(started["contact_id"])) == 1  # the greeting
