"""Every long-lived connection reopens by itself after its backend is terminated or the
server goes away, catches up on what it missed, and ``/readyz`` tells while one is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import make_settings
from tests.faults.conftest import terminate_backends
from tests.helpers import TcpRelay, eventually, query
from tests.routing_service.conftest import Center

OFFER_WAIT_SECONDS = 10.0
LONG_LIVED = {"router_doorbell", "router_lease", "router_listen", "supervisor_tail"}


async def _readiness(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


async def _connections(client: httpx.AsyncClient) -> dict[str, str]:
    status, body = await _readiness(client)
    found: dict[str, str] = (
        body["connections"] if status == 200 else body["error"]["details"]["connections"]
    )
    return found


async def _all_up(client: httpx.AsyncClient) -> bool:
    status, body = await _readiness(client)
    return status == 200 and set(body["connections"].values()) == {"up"}


async def test_readyz_reports_each_long_lived_connection_and_flips_with_an_outage(
    app: FastAPI, client: httpx.AsyncClient, relay: TcpRelay
) -> None:
    await eventually(lambda: _all_up(client))
    assert set(await _connections(client)) == LONG_LIVED

    await relay.cut()

    async def all_down() -> bool:
        status, _ = await _readiness(client)
        return status == 503 and set((await _connections(client)).values()) == {"down"}

    await eventually(all_down)
    await relay.restore()
    await eventually(lambda: _all_up(client))


@pytest.fixture
async def standby(app: FastAPI, clean_db: str) -> AsyncIterator[httpx.AsyncClient]:
    """A second instance on the same database (straight, not through the relay) that never
    routes: its requests reach the router in ``app`` only through LISTEN/NOTIFY."""
    second = create_app(make_settings(router_enabled=False), database_url=clean_db)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://standby") as client:
            yield client


async def _offered(
    app: FastAPI, center: Center, standby: httpx.AsyncClient, agent: str
) -> dict[str, Any]:
    """Create a contact on the standby; the offer the router in ``app`` pushes for it (the
    test fails after ``OFFER_WAIT_SECONDS`` rather than hang when none comes)."""
    topic = f"agent:{center.id(agent)}"
    async with asyncio.timeout(OFFER_WAIT_SECONDS), app.state.bus.subscribe(topic) as offers:
        made = await standby.post(
            "/api/v1/contacts", json={"channel": "voice", "queue": "support"}, headers=center.admin
        )
        assert made.status_code == 201, made.text
        while (message := await offers.get())["type"] != "offer":
            pass
    assert message["contact_id"] == made.json()["id"]
    return message


async def test_after_its_listen_and_doorbell_backends_are_killed_a_contact_is_still_routed(
    app: FastAPI,
    client: httpx.AsyncClient,
    center: Center,
    standby: httpx.AsyncClient,
    clean_db: str,
) -> None:
    # The router reads the inbox only when rung: a lost LISTEN would route nothing.
    app.state.distributor.idle_poll_seconds = 3600
    await eventually(lambda: _leads(app))
    for agent in ("li.na", "wang.wu"):
        await center.agent(agent, {"support": 3})
    await center.available("li.na")

    for name in ("contactd:router_listen", "contactd:router_doorbell"):
        assert await terminate_backends(clean_db, name) == 2  # the router's and the standby's
    await _offered(app, center, standby, "li.na")  # rung, or read by a catch-up

    await eventually(lambda: _all_up(client))
    await eventually(lambda: _all_up(standby))
    await center.available("wang.wu")
    await _offered(app, center, standby, "wang.wu")  # rung through the reopened LISTEN


async def test_the_supervisor_tail_reads_on_from_the_last_event_after_its_backend_is_killed(
    app: FastAPI, client: httpx.AsyncClient, center: Center, clean_db: str
) -> None:
    hub = app.state.supervisor_hub
    assert await terminate_backends(clean_db, "contactd:supervisor_tail") == 1
    contact_id = await center.contact("support")
    last = await _last_event_id(clean_db, contact_id)
    await eventually(lambda: _all_up(client))

    async def tailed() -> bool:
        return bool(hub.last_id >= last)

    await eventually(tailed)


async def test_a_router_whose_lock_connection_is_killed_leads_again(
    app: FastAPI, client: httpx.AsyncClient, center: Center, clean_db: str
) -> None:
    await eventually(lambda: _leads(app))
    epoch = app.state.distributor.epoch
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    assert await terminate_backends(clean_db, "contactd:router_lease") == 1

    async def leads_anew() -> bool:
        distributor = app.state.distributor
        return bool(distributor.is_leader and distributor.epoch != epoch)

    await eventually(leads_anew)
    await eventually(lambda: _all_up(client))
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")


async def _last_event_id(database_url: str, contact_id: int) -> int:
    rows = await query(
        database_url, "SELECT max(id) FROM contact_events WHERE contact_id = $1", contact_id
    )
    found: int = rows[0][0]
    return found


async def _leads(app: FastAPI) -> bool:
    return bool(app.state.distributor.is_leader)
