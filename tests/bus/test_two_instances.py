"""Two instances on one database and one bus (Redis; NATS too for the tests parametrized
over ``BUS_KINDS``): whatever instance a socket is on, it hears what the other instance
produced, and nothing the bus loses is lost to the client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.events.bus import BetweenInstances, Envelope
from tests.agent_console.conftest import Console, open_console, token_of
from tests.bus.conftest import BUS_KINDS, Instance, Pair
from tests.channels.chat.conftest import Visitor, open_visitor
from tests.helpers import eventually


@asynccontextmanager
async def console_on(instance: Instance, pair: Pair, name: str) -> AsyncIterator[Console]:
    async with open_console(instance.console_url) as console:
        await console.hello(token_of(pair.desk.headers(name)))
        assert (await console.next_of("snapshot"))["contacts"] == []
        yield console


@asynccontextmanager
async def available_on(instance: Instance, pair: Pair, name: str) -> AsyncIterator[Console]:
    """A new agent, signed in on ``instance``'s console and available."""
    await pair.desk.agent(name, available=False)
    async with console_on(instance, pair, name) as console:
        await available_agent_on(console)
        yield console


async def available_agent_on(console: Console) -> None:
    result = await console.ask({"type": "set_state", "state": "available"})
    assert result["type"] == "result", result


def drop_next(instance: Instance, wanted: Callable[[Envelope], bool]) -> list[Envelope]:
    """Make the instance's bus lose the next envelope ``wanted`` picks; the list receives it."""
    bus = instance.app.state.bus
    assert isinstance(bus, BetweenInstances)
    receive = bus._receive
    lost: list[Envelope] = []

    def lossy(raw: bytes) -> None:
        envelope = Envelope.decode(raw)
        if not lost and wanted(envelope):
            lost.append(envelope)
            return
        receive(raw)

    bus._receive = lossy  # type: ignore[method-assign]
    return lost


async def message_from_agent(visitor: Visitor) -> dict[str, Any]:
    while True:
        frame = await visitor.next_of("message", skip=("position", "typing", "agent_joined", "ack"))
        if frame["author"] == "agent":
            return frame


@pytest.mark.parametrize("proxy", BUS_KINDS, indirect=True)
async def test_an_offer_routed_on_one_instance_reaches_a_console_on_the_other(
    pair: Pair,
) -> None:
    async with available_on(pair.b, pair, "ann") as console:
        started = await pair.desk.start(name="王小明")  # created and routed on a
        offer = await console.next_of("offer")
        assert offer["contact_id"] == started["contact_id"]
        accepted = await console.ask({"type": "accept", "contact_id": started["contact_id"]})
        assert accepted["status"] == "applied", accepted


async def test_chat_lines_cross_instances_both_ways(pair: Pair) -> None:
    async with available_on(pair.b, pair, "ann") as console, open_visitor(pair.a.chat_url) as v:
        started = await pair.desk.start(name="李雷")
        contact_id = started["contact_id"]
        await console.next_of("offer")
        await console.ask({"type": "accept", "contact_id": contact_id})
        await v.hello(started)
        await v.send({"type": "message", "client_id": "v1", "text": "订单没到"})
        heard = await console.next_of("chat_message")
        assert (heard["contact_id"], heard["text"]) == (contact_id, "订单没到")
        said = await console.ask({"type": "send_chat", "contact_id": contact_id, "text": "马上查"})
        assert said["type"] == "result", said
        assert (await message_from_agent(v))["text"] == "马上查"


async def test_a_visitor_on_another_instance_is_not_abandoned(pair: Pair) -> None:
    pair.a.app.state.chat.abandon_after_seconds = 3600  # it would still be waiting: not run out
    started = await pair.desk.start(name="韩梅梅")  # a arms its visitor-gone timer
    assert pair.a.app.state.chat.waiting_timers == 1
    async with open_visitor(pair.b.chat_url) as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")  # the greeting: attached on b
        await eventually(lambda: _async(pair.a.app.state.chat.waiting_timers == 0))
    await eventually(lambda: _async(pair.b.app.state.chat.waiting_timers == 1))  # b's, now


async def test_a_console_that_moved_to_another_instance_is_not_logged_out(pair: Pair) -> None:
    agent_id = await pair.desk.agent("ann", available=False)
    pair.a.app.state.console.settings.grace_seconds = 3600
    async with console_on(pair.a, pair, "ann") as console:
        await available_agent_on(console)
    line = pair.a.app.state.console.lines.find(agent_id)
    await eventually(lambda: _async(line.grace is not None))  # a's grace period runs
    async with console_on(pair.b, pair, "ann") as console:
        await eventually(lambda: _async(line.grace is None and line.elsewhere))
        started = await pair.desk.start(name="王小明")
        assert (await console.next_of("offer"))["contact_id"] == started["contact_id"]


async def test_an_offer_the_bus_lost_reaches_the_console_on_the_next_heartbeat(
    pair: Pair,
) -> None:
    pair.b.app.state.console.settings.heartbeat_seconds = 0.5
    lost = drop_next(pair.b, lambda e: e.payload.get("type") == "offer")
    async with available_on(pair.b, pair, "ann") as console:
        started = await pair.desk.start(name="王小明")
        offer = await console.next_of("offer")
        assert offer["contact_id"] == started["contact_id"]
        assert [e.payload["contact_id"] for e in lost] == [started["contact_id"]]
        assert [f["type"] for f in console.frames].count("offer") == 1


async def test_a_chat_line_the_bus_lost_reaches_the_visitor_on_its_next_ping(pair: Pair) -> None:
    await pair.desk.agent("ann")
    started = await pair.desk.start(name="李雷")
    contact_id = started["contact_id"]
    await pair.desk.accept("ann", contact_id)
    async with open_visitor(pair.b.chat_url) as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")  # the greeting
        await visitor.next_of("agent_joined", skip=("position", "typing", "message"))
        lost = drop_next(pair.b, lambda e: e.payload.get("type") == "message")
        said = await pair.desk.say("ann", contact_id, "请稍等")
        assert said.status_code == 201, said.text
        await eventually(lambda: _async(lost))
        await visitor.send({"type": "ping"})
        await visitor.next_of("pong")
        assert (await message_from_agent(visitor))["text"] == "请稍等"


@pytest.mark.parametrize("proxy", BUS_KINDS, indirect=True)
async def test_with_the_bus_down_instances_serve_and_catch_up_when_it_returns(
    pair: Pair,
) -> None:
    async with available_on(pair.b, pair, "ann") as console:
        await pair.proxy.cut()
        await eventually(lambda: _bus_is(pair.a, "down"))
        await eventually(lambda: _bus_is(pair.b, "down"))
        started = await pair.desk.start(name="王小明")  # routed on a while b cannot hear it
        await pair.desk.wait_state(started["contact_id"], "offered")
        await pair.proxy.restore()
        await eventually(lambda: _bus_is(pair.b, "up"))
        offer = await console.next_of("offer", seconds=10)
        assert offer["contact_id"] == started["contact_id"]
        await eventually(lambda: _bus_is(pair.a, "up"))


async def _bus_is(instance: Instance, state: str) -> bool:
    return await instance.bus_state() == state


async def _async(value: Any) -> Any:
    return value
