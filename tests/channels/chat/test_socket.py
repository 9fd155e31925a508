"""The visitor's socket: hello, malformed frames, heartbeat, dead connections, leaving."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import FastAPI

from tests.channels.chat.conftest import Desk, Visitor, eventually


def _topics(app: FastAPI) -> set[str]:
    return set(app.state.bus._subscribers)


async def test_a_wrong_token_is_refused_with_4401(live_desk: Desk) -> None:
    started = await live_desk.start()
    for hello in (
        {**started, "token": "not-the-token"},
        {**started, "session_id": str(uuid.uuid4())},
    ):
        async with live_desk.visitor() as visitor:
            await visitor.hello(hello)
            error = await visitor.recv()
            assert (error["type"], error["code"]) == ("error", "unauthorized")
            assert await visitor.closed_with() == 4401


async def test_the_first_frame_must_be_hello(live_desk: Desk) -> None:
    for first, code in (
        ({"type": "ping"}, "hello_required"),
        ("{nope", "invalid_json"),
        ({"type": "hello", "session_id": "x", "token": "y"}, "invalid_message"),
    ):
        async with live_desk.visitor() as visitor:
            await visitor.send(first)
            assert (await visitor.recv())["code"] == code
            assert await visitor.closed_with() == 4401


async def test_silence_before_hello_closes_with_4408(live_desk: Desk, app: FastAPI) -> None:
    app.state.chat.hello_timeout_seconds = 0.2
    async with live_desk.visitor() as visitor:
        assert (await visitor.recv())["code"] == "hello_timeout"
        assert await visitor.closed_with() == 4408


async def test_malformed_frames_get_an_error_and_the_socket_stays_open(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")  # the greeting
        for frame, code in (
            ("not json", "invalid_json"),
            ("[1, 2]", "invalid_message"),
            ({"type": "shout", "text": "hi"}, "unknown_type"),
            ({"text": "no type"}, "unknown_type"),
            ({"type": "message", "text": "no client id"}, "invalid_message"),
            ({"type": "message", "client_id": "c", "text": ""}, "invalid_message"),
            ({"type": "message", "client_id": "c", "text": "   "}, "invalid_message"),
            ({"type": "typing", "is_typing": "yes"}, "invalid_message"),
            ({"type": "ping", "extra": 1}, "invalid_message"),
            ({"type": "hello", **started}, "already_authenticated"),
        ):
            await visitor.send(frame if isinstance(frame, str) else _hello_shape(frame))
            error = await visitor.next_of("error")
            assert error["code"] == code, (frame, error)
            assert error["message"]
        await visitor.ws.send(b"\x00binary")
        assert (await visitor.next_of("error"))["code"] == "invalid_message"
        await visitor.send({"type": "ping"})
        assert await visitor.next_of("pong") == {"type": "pong"}
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["author"] for m in transcript] == ["system"]  # nothing stored


def _hello_shape(frame: dict[str, Any]) -> dict[str, Any]:
    if frame.get("type") != "hello":
        return frame
    return {
        "type": "hello",
        "session_id": frame["session_id"],
        "token": frame["token"],
        "last_seq": 0,
    }


async def test_a_silent_connection_is_closed_and_cleaned_up(live_desk: Desk, app: FastAPI) -> None:
    app.state.chat.idle_timeout_seconds = 0.3
    started = await live_desk.start()
    topic = f"chat:{started['contact_id']}"
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")
        assert topic in _topics(app)
        assert (await visitor.next_of("error"))["code"] == "idle_timeout"
        assert await visitor.closed_with() == 4408

    async def released() -> bool:
        return topic not in _topics(app) and app.state.chat.connections == 0

    await eventually(released)


async def test_pings_keep_a_connection_open(live_desk: Desk, app: FastAPI) -> None:
    app.state.chat.idle_timeout_seconds = 0.3
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        for _ in range(5):  # 5 x 0.1 s: longer than the idle timeout
            await visitor.send({"type": "ping"})
            await visitor.next_of("pong", skip=("position", "message"))
            await asyncio.sleep(0.1)
        assert app.state.chat.connections == 1


async def test_a_dropped_connection_is_cleaned_up(live_desk: Desk, app: FastAPI) -> None:
    started = await live_desk.start()
    topic = f"chat:{started['contact_id']}"
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")
        assert app.state.chat.connections == 1
        visitor.ws.transport.abort()  # no close frame: the network went away

    async def released() -> bool:
        return (
            topic not in _topics(app)
            and f"contact:{started['contact_id']}" not in _topics(app)
            and app.state.chat.connections == 0
        )

    await eventually(released)


async def test_a_visitor_who_never_comes_back_leaves_the_queue(
    live_desk: Desk, app: FastAPI
) -> None:
    app.state.chat.abandon_after_seconds = 0.2
    never = await live_desk.start()  # never connects
    gone = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(gone)
        await visitor.next_of("message")
    for started in (never, gone):
        contact = await live_desk.wait_state(started["contact_id"], "abandoned")
        assert contact["abandoned_at"] is not None
        transcript = await live_desk.transcript(started["contact_id"])
        assert transcript[-1]["event"] == "ended"


async def test_a_visitor_who_comes_back_in_time_keeps_their_place(
    live_desk: Desk, app: FastAPI
) -> None:
    app.state.chat.abandon_after_seconds = 0.5
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")
    async with live_desk.visitor() as visitor:
        await visitor.hello(started, last_seq=1)
        await asyncio.sleep(0.8)  # past the grace period, connected
        assert (await live_desk.contact(started["contact_id"]))["state"] == "queued"
        assert app.state.chat.waiting_timers == 0


async def test_an_assigned_chat_waits_for_the_visitor(live_desk: Desk, app: FastAPI) -> None:
    app.state.chat.abandon_after_seconds = 0.1
    await live_desk.agent("li.na")
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await live_desk.accept("li.na", started["contact_id"])
        await visitor.next_of("agent_joined", skip=("position", "message"))
    await asyncio.sleep(0.3)
    assert (await live_desk.contact(started["contact_id"]))["state"] == "assigned"
    async with live_desk.visitor() as visitor:  # the agent's message is waiting for them
        assert (await live_desk.say("li.na", started["contact_id"], "还在吗？")).status_code == 201
        await visitor.hello(started, last_seq=1)
        assert (await visitor.next_of("message"))["text"] == "还在吗？"


async def _end_through(visitor: Visitor) -> None:
    await visitor.send({"type": "end"})
    await visitor.next_of("ended", skip=("position", "message"))


async def test_ending_twice_is_harmless(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as one, live_desk.visitor() as two:
        await one.hello(started)
        await two.hello(started)
        await _end_through(one)
        assert await two.next_of("ended", skip=("position", "message")) == {
            "type": "ended",
            "by": "visitor",
        }
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["event"] for m in transcript] == ["greeting", "ended"]
