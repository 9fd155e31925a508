"""The routing instance goes away: the one that takes over does not let the offers out to
consoles it cannot see wait for their deadlines."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import asyncpg

from app.database import libpq_url
from tests.agent_console.conftest import open_console, token_of
from tests.bus.conftest import BusProxy, running_instance, user_factory
from tests.channels.chat.conftest import Desk
from tests.helpers import eventually


async def _offer_events(database_url: str, contact_id: int) -> list[tuple[str, str | None]]:
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT kind, payload->>'reason' AS reason FROM contact_events"
            " WHERE contact_id = $1 AND kind LIKE 'contact.offer%' ORDER BY id",
            contact_id,
        )
    finally:
        await conn.close()
    return [(row["kind"], row["reason"]) for row in rows]


async def test_offers_to_consoles_of_the_dead_router_are_reoffered_at_takeover(
    clean_db: str, proxy: BusProxy
) -> None:
    prefix = f"contactd-test-{uuid.uuid4().hex}:"
    async with AsyncExitStack() as first, AsyncExitStack() as second:
        a = await first.enter_async_context(running_instance(clean_db, proxy.url, prefix))
        await eventually(lambda: _is_leader(a.app))
        b = await second.enter_async_context(running_instance(clean_db, proxy.url, prefix))
        make_user = user_factory(b)
        desk = Desk(b.app, b.client, await make_user("root.admin", "admin"), make_user)
        await desk.queue()
        await desk.widget()
        await desk.agent("ann", available=False)
        await desk.agent("bob", available=False)
        ann = await first.enter_async_context(open_console(a.console_url))
        bob = await second.enter_async_context(open_console(b.console_url))
        for console, name in ((ann, "ann"), (bob, "bob")):
            await console.hello(token_of(desk.headers(name)))
            await console.next_of("snapshot")
        await ann.ask({"type": "set_state", "state": "available"})
        started = await desk.start(name="王小明")
        contact_id = started["contact_id"]
        assert (await ann.next_of("offer"))["contact_id"] == contact_id
        await bob.ask({"type": "set_state", "state": "available"})

        await first.aclose()  # the routing instance, and ann's console with it, are gone
        offer = await bob.next_of("offer", seconds=10)  # well before the 30 s deadline

        assert offer["contact_id"] == contact_id
        assert b.app.state.distributor.is_leader
        assert await _offer_events(clean_db, contact_id) == [
            ("contact.offered", None),
            ("contact.offer_withdrawn", "router took over"),
            ("contact.offered", None),
        ]


async def _is_leader(app: object) -> bool:
    return bool(app.state.distributor.is_leader)  # type: ignore[attr-defined]
