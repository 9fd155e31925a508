"""What a real console needs from the protocol besides offers and lines: who it is and in
which state (the snapshot), why an offer came to it (the trace), and typing both ways."""

from __future__ import annotations

from tests.agent_console.conftest import Console, open_console, token_of
from tests.channels.chat.conftest import Desk


async def _signed_in(console: Console, desk: Desk, name: str) -> dict:
    await console.hello(token_of(desk.headers(name)))
    return await console.next_of("snapshot")


async def test_the_snapshot_says_who_the_agent_is_and_what_reasons_exist(
    live_desk: Desk, console_url: str
) -> None:
    await live_desk.agent("li.na", available=False)
    async with open_console(console_url) as console:
        snapshot = await _signed_in(console, live_desk, "li.na")
        assert snapshot["agent_name"] == "li.na"
        assert snapshot["state"] == "offline"
        assert {"break", "lunch", "training"} <= set(snapshot["not_ready_reasons"])
        lunch = {"type": "set_state", "state": "not_ready", "reason": "lunch"}
        assert (await console.ask(lunch))["type"] == "result"
    async with open_console(console_url) as again:
        snapshot = await _signed_in(again, live_desk, "li.na")
        assert (snapshot["state"], snapshot["reason"]) == ("not_ready", "lunch")
        assert snapshot["state_since"] is not None


async def test_an_offer_carries_the_routing_trace(live_desk: Desk, console_url: str) -> None:
    agent_id = await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console:
        await _signed_in(console, live_desk, "ann")
        await console.ask({"type": "set_state", "state": "available"})
        started = await live_desk.start(name="Wang", email="wang@example.cn")
        offer = await console.next_of("offer")
        assert offer["contact_id"] == started["contact_id"]
        trace = offer["trace"]
        assert trace["queue"] == "support"
        assert [c["agent_id"] for c in trace["candidates"]] == [agent_id]
        assert trace["step"] == 0
        assert trace["rule"]


async def test_typing_goes_both_ways_and_is_not_numbered(live_desk: Desk, console_url: str) -> None:
    await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console, live_desk.visitor() as visitor:
        await _signed_in(console, live_desk, "ann")
        await console.ask({"type": "set_state", "state": "available"})
        started = await live_desk.start(name="Wang")
        contact_id = started["contact_id"]
        await console.next_of("offer")
        await console.ask({"type": "accept", "contact_id": contact_id})
        await visitor.hello(started)
        await live_desk.wait_state(contact_id, "assigned")

        await visitor.send({"type": "typing", "is_typing": True})
        typing = await console.next_of("typing")
        assert (typing["contact_id"], typing["is_typing"]) == (contact_id, True)
        # a control frame: it carries the number of the last numbered frame before it
        # (frames of the accept may still be arriving) and does not move it
        assert typing["seq"] == console.last_seq

        await console.send({"type": "typing", "contact_id": contact_id, "is_typing": True})
        shown = await visitor.recv()
        while shown["type"] != "typing":
            shown = await visitor.recv()
        assert (shown["author"], shown["is_typing"]) == ("agent", True)
