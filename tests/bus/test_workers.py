"""``contactd serve --workers 2``: two worker processes on one port, each an instance of its
own on the bus (NATS here). An offer routed by one worker reaches a console attached to the
other.

The test listens on the bus itself to see which worker did what: the envelope's ``origin``
names the worker that published it (``console_attached`` comes from the console's worker,
the agent's state changes from the routing worker).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import nats

from app.events.bus import Envelope, subject_root
from tests.agent_console.conftest import Console, open_console
from tests.bus.conftest import NATS_HOST, NATS_PORT
from tests.bus.test_rolling_restart import _set_up_center, _start_chats, served
from tests.helpers import eventually

NATS_URL = f"nats://{NATS_HOST}:{NATS_PORT}"
ATTEMPTS = 20


@asynccontextmanager
async def tapped(prefix: str) -> AsyncIterator[list[Envelope]]:
    """Every envelope published on the bus of ``prefix`` while open, in arrival order."""
    heard: list[Envelope] = []
    client = await nats.connect(NATS_URL)

    async def keep(message: nats.aio.msg.Msg) -> None:
        heard.append(Envelope.decode(message.data))

    await client.subscribe(f"{subject_root(prefix)}.>", cb=keep)
    await client.flush()
    try:
        yield heard
    finally:
        await client.close()


async def _origin(heard: list[Envelope], after: int, wanted: str) -> str:
    """The origin of the first envelope from ``heard[after:]`` whose payload type
    is ``wanted`` (or, for ``"other"``, is not ``console_attached``)."""

    async def found() -> str | None:
        for envelope in heard[after:]:
            kind = envelope.payload.get("type")
            if kind == wanted or (wanted == "other" and kind != "console_attached"):
                return envelope.origin
        return None

    origin: str = await eventually(found)
    return origin


async def _attach(stack: AsyncExitStack, url: str, token: str) -> Console:
    console = await stack.enter_async_context(open_console(url))
    await console.hello(token)
    await console.next_of("snapshot")
    return console


async def test_two_workers_on_one_port_deliver_an_offer_to_a_console_on_either(
    clean_db: str,
) -> None:
    prefix = f"contactd-test-{uuid.uuid4().hex}:"
    async with (
        tapped(prefix) as heard,
        served(clean_db, prefix, "workers", bus_url=NATS_URL, workers=2) as serve,
    ):
        _, tokens = await _set_up_center(clean_db, serve.url)
        async with AsyncExitStack() as first:
            mark = len(heard)
            console = await _attach(first, serve.console_url, tokens[0])
            console_on = await _origin(heard, mark, "console_attached")
            mark = len(heard)
            answer = await console.ask({"type": "set_state", "state": "available"})
            assert answer["type"] == "result", answer
            router_on = await _origin(heard, mark, "other")  # the state change, by the router
        for _ in range(ATTEMPTS):  # until the console is on the worker that does not route
            stack = AsyncExitStack()
            mark = len(heard)
            console = await _attach(stack, serve.console_url, tokens[0])
            console_on = await _origin(heard, mark, "console_attached")
            if console_on != router_on:
                break
            await stack.aclose()
        assert console_on != router_on, f"{ATTEMPTS} consoles, all on the routing worker"
        async with stack:
            [contact_id] = await _start_chats(serve.url, 1, "访客")
            offer = await console.next_of("offer", seconds=10)
            assert offer["contact_id"] == contact_id
            offered_by = [e.origin for e in heard if e.payload.get("type") == "offer"]
            assert offered_by == [router_on]  # routed on one worker, delivered on the other
