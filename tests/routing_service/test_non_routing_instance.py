"""An instance with CONTACTD_ROUTER_ENABLED=false serves everything but routing: its
requests wake the leader in another instance at once and wait for its answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import make_settings
from tests.routing_service.conftest import Center, eventually


@pytest.fixture
async def other(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second instance on the same database that never routes."""
    second = create_app(make_settings(router_enabled=False), database_url=app.state.database_url)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
            yield client


async def test_a_non_routing_instance_relays_to_the_leader(
    app: FastAPI, center: Center, other: httpx.AsyncClient
) -> None:
    await eventually(lambda: _leads(app))
    ready = await other.get("/readyz")
    assert ready.json()["router"] == "off"
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})

    # The leader answers through the other instance: applied, not "pending" or a 503.
    state = await other.put(
        "/api/v1/agents/me/state", json={"state": "available"}, headers=center.headers("li.na")
    )
    assert state.status_code == 200, state.text
    assert state.json()["status"] == "applied"

    made = await other.post(
        "/api/v1/contacts", json={"channel": "voice", "queue": "support"}, headers=center.admin
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["id"]
    await center.wait_state(contact_id, "offered", "li.na")


async def _leads(app: FastAPI) -> bool:
    return bool(app.state.distributor.is_leader)
