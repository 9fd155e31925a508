"""Reconnects, lost sockets, second logins, malformed frames."""

from __future__ import annotations

from fastapi import FastAPI

from tests.agent_console.conftest import open_console, token_of
from tests.channels.chat.conftest import Desk, eventually


async def test_reconnect_resumes_without_losing_or_repeating(
    live_desk: Desk, app: FastAPI, console_url: str
) -> None:
    await live_desk.agent("ann", available=False)
    token = token_of(live_desk.headers("ann"))
    async with open_console(console_url) as console:
        await console.hello(token)
        await console.next_of("snapshot")
        await console.ask({"type": "set_state", "state": "available"})
        first = await console.next_of("state")
        last_seen = console.last_seq
    # While away: an offer and its pop are numbered and kept.
    started = await live_desk.start(name="访客")
    await live_desk.wait_state(started["contact_id"], "offered")
    async with open_console(console_url) as console:
        console.last_seq = last_seen
        welcome = await console.hello(token, last_seq=last_seen)
        assert welcome["resumed"] is True
        missed = await console.recv()
        assert missed["type"] == "offer"
        assert missed["seq"] == last_seen + 1
        assert missed["contact_id"] == started["contact_id"]
        pong = await console.ask({"type": "ping"})
        assert pong["type"] == "pong"
        assert pong["seq"] == missed["seq"]
    assert first["state"] == "available"


async def test_a_missed_offer_goes_back_to_the_queue_after_the_grace_period(
    live_desk: Desk, app: FastAPI, console_url: str, short_grace: None
) -> None:
    await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console:
        await console.hello(token_of(live_desk.headers("ann")))
        await console.ask({"type": "set_state", "state": "available"})
        started = await live_desk.start(name="访客")
        offer = await console.next_of("offer")
        assert offer["contact_id"] == started["contact_id"]
    contact = await live_desk.wait_state(started["contact_id"], "queued")
    assert contact["agent_id"] is None

    async def offline() -> bool:
        presence = await live_desk.client.get(
            "/api/v1/agents/me/presence", headers=live_desk.headers("ann")
        )
        return bool(presence.json()["state"] == "offline")

    await eventually(offline)


async def test_an_assigned_contact_stays_with_the_agent_after_the_grace_period(
    live_desk: Desk, app: FastAPI, console_url: str, short_grace: None
) -> None:
    await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console:
        await console.hello(token_of(live_desk.headers("ann")))
        await console.ask({"type": "set_state", "state": "available"})
        started = await live_desk.start(name="访客")
        offer = await console.next_of("offer")
        await console.ask({"type": "accept", "contact_id": offer["contact_id"]})

    # the grace period is over: a new chat is turned down and goes to nobody else
    second = await live_desk.start(name="另一位访客")

    async def turned_down() -> bool:
        events = await live_desk.client.get(
            f"/api/v1/contacts/{second['contact_id']}/routing", headers=live_desk.admin
        )
        kinds = [e["kind"] for e in events.json()]
        return "contact.offer_withdrawn" in kinds

    await eventually(turned_down)
    contact = await live_desk.contact(started["contact_id"])
    assert (contact["state"], contact["agent_id"]) == ("assigned", live_desk.agents["ann"][0])


async def test_a_second_login_takes_over(live_desk: Desk, console_url: str) -> None:
    await live_desk.agent("ann", available=False)
    token = token_of(live_desk.headers("ann"))
    async with open_console(console_url) as first, open_console(console_url) as second:
        await first.hello(token)
        await first.next_of("snapshot")
        await second.hello(token, last_seq=first.last_seq)
        assert (await first.recv())["type"] == "taken_over"
        assert await first.closed_with() == 4409
        pong = await second.ask({"type": "ping"})
        assert pong["type"] == "pong"


async def test_bad_frames_get_errors_and_the_socket_stays_open(
    live_desk: Desk, console_url: str
) -> None:
    await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console:
        await console.send({"type": "accept", "contact_id": 1})
        assert (await console.recv())["code"] == "hello_required"
        await console.hello(token_of(live_desk.headers("ann")))
        await console.next_of("snapshot")
        await console.send("{not json")
        assert (await console.recv())["code"] == "invalid_message"
        unknown = await console.ask({"type": "fly"})
        assert unknown["code"] == "invalid_message"
        bad = await console.ask({"type": "wrap_up", "contact_id": 1, "disposition": "meh"})
        assert bad["code"] == "unknown_disposition"
        assert (await console.ask({"type": "ping"}))["type"] == "pong"


async def test_a_bad_token_closes_with_4401(live_desk: Desk, console_url: str) -> None:
    async with open_console(console_url) as console:
        await console.send({"type": "hello", "token": "nope"})
        assert (await console.recv())["code"] == "unauthorized"
        assert await console.closed_with() == 4401
