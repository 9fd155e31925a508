"""The contract every bus between instances keeps, on Redis and on NATS: two buses of one
deployment (one prefix), each reaching the server through a relay of its own that the test
can cut.

A later message from the same publisher is the fence that proves an earlier one did not
arrive: both servers deliver one connection's messages to a subscriber in order.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.events.bus import (
    BUS_RESYNC,
    BUS_VERSION,
    BetweenInstances,
    Envelope,
    Message,
    NatsBus,
    RedisBus,
    bus_from_url,
    nats_subject,
    subject_token,
)
from tests.bus.conftest import BUS_KINDS, BusKind, BusProxy
from tests.helpers import eventually


@dataclass
class Heard:
    """What one topic's listener on one bus was given."""

    messages: list[Message] = field(default_factory=list)

    def __call__(self, message: Message) -> None:
        self.messages.append(message)


@dataclass
class Side:
    bus: BetweenInstances
    proxy: BusProxy

    def hear(self, topic: str) -> Heard:
        heard = Heard()
        self.bus.listen(topic, heard)
        return heard


@pytest.fixture(params=BUS_KINDS)
async def sides(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Side, Side]]:
    kind: BusKind = request.param
    prefix = f"contactd-test-{uuid.uuid4().hex}:"
    async with AsyncExitStack() as stack:
        made = []
        for origin in ("a", "b"):
            proxy = BusProxy(kind)
            await proxy.start()
            stack.push_async_callback(proxy.close)
            bus = bus_from_url(proxy.url, origin=origin, prefix=prefix)
            assert isinstance(bus, BetweenInstances)
            await bus.start()
            stack.push_async_callback(bus.close)
            assert bus.state == "up"
            made.append(Side(bus, proxy))
        yield made[0], made[1]


async def _heard(heard: Heard, count: int) -> bool:
    return len(heard.messages) >= count


async def _state(side: Side, state: str) -> bool:
    return side.bus.state == state


async def test_a_message_reaches_the_other_instance_and_never_comes_back(
    sides: tuple[Side, Side],
) -> None:
    a, b = sides
    on_a, on_b = a.hear("agent:1"), b.hear("agent:1")
    await a.bus.publish("agent:1", {"type": "offer", "n": 1})
    await eventually(lambda: _heard(on_b, 1))
    await b.bus.publish("agent:1", {"type": "offer", "n": 2})  # after a's, on a's line
    await eventually(lambda: _heard(on_a, 2))
    assert [m["n"] for m in on_a.messages] == [1, 2]  # its own once, delivered locally
    assert [m["n"] for m in on_b.messages] == [1, 2]
    assert (a.bus.published, a.bus.skipped) == (1, 0)


async def test_a_batch_crosses_in_order_its_local_topics_kept_home(
    sides: tuple[Side, Side],
) -> None:
    a, b = sides
    on_b, local_on_b, local_on_a = b.hear("agent:1"), b.hear("channel:chat"), a.hear("agent:1")
    batch = [("agent:1", {"n": n}) for n in range(50)]
    await a.bus.publish_many([*batch[:25], ("channel:chat", {"type": "routed"}), *batch[25:]])
    await eventually(lambda: _heard(on_b, 50))
    assert on_b.messages == [m for _, m in batch] == local_on_a.messages
    assert local_on_b.messages == []
    assert (a.bus.published, a.bus.skipped) == (50, 0)


async def test_channel_topics_never_leave_the_instance(sides: tuple[Side, Side]) -> None:
    a, b = sides
    local_on_a, local_on_b, fence = a.hear("channel:chat"), b.hear("channel:chat"), b.hear("x")
    await a.bus.publish("channel:chat", {"type": "routed"})
    await a.bus.publish("x", {"type": "fence"})
    await eventually(lambda: _heard(fence, 1))
    assert local_on_a.messages == [{"type": "routed"}]
    assert local_on_b.messages == []


async def test_any_topic_crosses_and_reaches_only_its_own_listeners(
    sides: tuple[Side, Side],
) -> None:
    a, b = sides
    topics = ["queue:a b", "x.*", "x.>", "x.y", ">", "客服:1", "100%"]
    heard = {topic: b.hear(topic) for topic in topics}
    for n, topic in enumerate(topics):
        await a.bus.publish(topic, {"type": "t", "n": n})
    await eventually(lambda: _heard(heard[topics[-1]], 1))
    assert {topic: [m["n"] for m in h.messages] for topic, h in heard.items()} == {
        topic: [n] for n, topic in enumerate(topics)
    }
    assert a.bus.skipped == 0


async def test_envelopes_of_a_newer_version_or_malformed_are_dropped_and_counted(
    sides: tuple[Side, Side],
) -> None:
    a, b = sides
    on_b = b.hear("agent:1")
    newer = Envelope(topic="agent:1", payload={"n": 1}, origin="a", version=BUS_VERSION + 1)
    await a.bus._send("agent:1", newer.encode())
    await a.bus._send("agent:1", b"not json")
    await a.bus.publish("agent:1", {"n": 2})
    await eventually(lambda: _heard(on_b, 1))
    assert on_b.messages == [{"n": 2}]
    assert b.bus.dropped == 2


async def test_an_instance_whose_bus_came_back_resyncs_itself_and_the_others(
    sides: tuple[Side, Side],
) -> None:
    a, b = sides
    on_a, on_b = a.hear("agent:1"), b.hear("agent:1")
    await a.proxy.cut()
    await eventually(lambda: _state(a, "down"))
    await a.bus.publish("agent:1", {"n": 1})  # lost for b: a cannot reach the server
    assert (a.bus.skipped, on_a.messages) == (1, [{"n": 1}])  # served locally all the same
    await a.proxy.restore()
    await eventually(lambda: _state(a, "up"))
    await eventually(lambda: _heard(on_b, 1))
    assert on_a.messages == [{"n": 1}, BUS_RESYNC]
    assert on_b.messages == [BUS_RESYNC]  # asked by a: b's own connection never dropped
    await a.bus.publish("agent:1", {"n": 2})
    await eventually(lambda: _heard(on_b, 2))
    assert on_b.messages[-1] == {"n": 2}


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://127.0.0.1:6379/0", RedisBus),
        ("rediss://cache.example:6380/0", RedisBus),
        ("nats://127.0.0.1:4222", NatsBus),
        ("tls://nats.example:4222", NatsBus),
        ("nats://n1.example:4222, nats://n2.example:4222", NatsBus),
    ],
)
def test_the_url_names_the_bus(url: str, kind: type) -> None:
    assert isinstance(bus_from_url(url, origin="o"), kind)


def test_an_unknown_bus_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="nats://"):
        bus_from_url("amqp://127.0.0.1", origin="o")


SUBJECT_TOKEN = frozenset(string.ascii_letters + string.digits + "-_:%")


@given(st.text(min_size=1))
def test_a_topic_is_one_valid_subject_token_it_can_be_read_back_from(topic: str) -> None:
    token = subject_token(topic)
    assert set(token) <= SUBJECT_TOKEN  # no dot, space or wildcard: one token, always valid
    assert unquote(token, errors="strict") == topic  # so distinct topics never share one


def test_the_subject_is_the_deployment_root_then_the_topic() -> None:
    assert nats_subject("contactd:", "agent:12") == "contactd.agent:12"
    assert nats_subject("acme.prod.", "x.*") == "acme%2Eprod.x%2E%2A"
