"""One router per database: a standby takes over, rebuilds the line, and a stale router
cannot write."""

from __future__ import annotations

import copy
import time

import asyncpg
import pytest
from fastapi import FastAPI

from app.database import libpq_url
from app.routing.distributor import Distributor, LeaseLost
from tests.routing_service.conftest import Center, eventually


async def _events_of(app: FastAPI, contact_id: int) -> list[str]:
    conn = await asyncpg.connect(libpq_url(app.state.database_url))
    try:
        rows = await conn.fetch(
            "SELECT kind FROM contact_events WHERE contact_id = $1 ORDER BY id", contact_id
        )
    finally:
        await conn.close()
    return [r["kind"] for r in rows]


async def _is_leader(distributor: Distributor) -> bool:
    return distributor.engine is not None


async def test_standby_takes_over_and_stale_router_is_fenced(app: FastAPI, center: Center) -> None:
    first: Distributor = app.state.distributor
    await eventually(lambda: _is_leader(first))
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    offered = await center.contact("support")
    await center.wait_state(offered, "offered", "li.na")
    waiting = await center.contact("support")  # voice capacity 1: waits

    standby = Distributor(
        app.state.db,
        app.state.bus,
        app.state.database_url,
        instance="standby",
        lease_retry_seconds=0.1,
    )
    await standby.start()
    try:
        assert standby.engine is None  # the lock is held
        old_epoch = first.epoch
        assert first._lock_conn is not None
        pid = first._lock_conn.get_server_pid()
        conn = await asyncpg.connect(libpq_url(app.state.database_url))
        try:  # the router's database session dies under it
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await conn.close()
        await eventually(lambda: _is_leader(standby))
        assert standby.epoch is not None
        assert old_epoch is not None
        assert standby.epoch > old_epoch

        # The line survived: the offer is still hers, the other contact still waits.
        assert standby.engine is not None
        view = standby.engine.contact_view(str(offered))
        assert view is not None
        assert view.agent_id == str(center.id("li.na"))
        assert (await center.state_of(waiting)) == ("queued", None)

        # A router that lost its lease cannot write, whatever it still has in memory: its
        # own connection is gone, and on a live one its batch (here: the offer timing out
        # on its clock) is refused whole for the stale epoch.
        first.epoch = old_epoch
        first.engine = copy.deepcopy(standby.engine)
        first.clock = lambda: time.time() + 3600
        with pytest.raises(LeaseLost, match="connection is gone"):
            await first._step()
        first._lock_conn = await asyncpg.connect(libpq_url(app.state.database_url))
        events_before = await _events_of(app, offered)
        with pytest.raises(LeaseLost, match="stale"):
            await first._step()
        assert await _events_of(app, offered) == events_before
        assert (await center.state_of(offered)) == ("offered", center.id("li.na"))
        first.engine = None

        await first.stop()
        app.state.distributor = standby
        accepted = await center.act("li.na", offered, "accept")
        assert accepted.status_code == 200, accepted.text
        assert (await center.state_of(offered)) == ("assigned", center.id("li.na"))
    finally:
        if app.state.distributor is not standby:
            await standby.stop()


async def test_commands_wait_for_a_router_and_are_applied_later(
    app: FastAPI, center: Center
) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    router: Distributor = app.state.distributor
    await router.stop()
    app.state.distributor = Distributor(
        app.state.db, app.state.bus, app.state.database_url, instance="listener-only"
    )
    listener = app.state.distributor
    listener._acquire_lease = _never  # type: ignore[method-assign]
    await listener.start()
    listener_waits = listener.wait_processed

    async def quick(inbox_id: int, wait_seconds: float = 5.0) -> object:
        return await listener_waits(inbox_id, 0.3)

    listener.wait_processed = quick  # type: ignore[method-assign]
    pending = await center.set_state("li.na", "available")
    assert pending.status_code == 202
    assert pending.json()["status"] == "pending"
    await listener.stop()

    app.state.distributor = Distributor(
        app.state.db, app.state.bus, app.state.database_url, instance="back"
    )
    await app.state.distributor.start()
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")


async def _never() -> None:
    import asyncio

    await asyncio.Event().wait()


async def test_a_bad_inbox_row_is_refused_and_routing_goes_on(app: FastAPI, center: Center) -> None:
    from app.routing.inbox import submit

    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    async with app.state.db.unit_of_work() as session:
        bad = await submit(session, "contact.enqueue", {"contact_id": 999, "queue": "support"})
        nonsense = await submit(session, "no.such.kind", {})
    result = await app.state.distributor.wait_processed(bad.id)
    assert result is not None
    assert result["ok"] is False
    assert result["error"] == "bad_request"
    other = await app.state.distributor.wait_processed(nonsense.id)
    assert other is not None
    assert other["error"] == "bad_request"
    await center.available("li.na")
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
