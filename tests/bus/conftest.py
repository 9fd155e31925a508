"""Two instances of the service on one database, hearing each other through a bus server:
Redis by default, NATS for the tests parametrized over ``proxy`` (``BUS_KINDS``).

Each test run uses channels of its own (a random prefix), so parallel runs and other users
of the same server never hear each other. The instances reach the server through
``BusProxy``, a TCP relay the test can cut and restore to take the bus down without
touching the server.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.users.schemas import UserCreate
from app.users.service import create_user
from tests.channels.chat.conftest import Desk
from tests.conftest import UserFactory, make_settings
from tests.helpers import TcpRelay, live_server

REDIS_HOST = "127.0.0.1"
REDIS_PORT = int(os.environ.get("CONTACTD_TEST_REDIS_PORT", "6379"))
NATS_HOST = "127.0.0.1"
NATS_PORT = int(os.environ.get("CONTACTD_TEST_NATS_PORT", "4222"))
BusKind = Literal["redis", "nats"]
BUS_KINDS: tuple[BusKind, ...] = ("redis", "nats")
"""``@pytest.mark.parametrize("proxy", BUS_KINDS, indirect=True)`` runs a test on each."""


class BusProxy(TcpRelay):
    """A ``TcpRelay`` to the test Redis or NATS; ``url`` is the bus URL through it."""

    def __init__(self, kind: BusKind = "redis") -> None:
        self.kind = kind
        if kind == "redis":
            super().__init__(REDIS_HOST, REDIS_PORT)
        else:
            super().__init__(NATS_HOST, NATS_PORT)

    @property
    def url(self) -> str:
        if self.kind == "redis":
            return f"redis://127.0.0.1:{self.port}/0"
        return f"nats://127.0.0.1:{self.port}"


@dataclass
class Instance:
    app: FastAPI
    url: str
    client: httpx.AsyncClient

    @property
    def chat_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/chat"

    @property
    def console_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/agent"

    async def bus_state(self) -> str:
        ready = await self.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        state: str = ready.json()["bus"]
        return state


@dataclass
class Pair:
    """Instance ``a`` routes, ``b`` stands by; ``desk`` speaks HTTP to ``a``."""

    a: Instance
    b: Instance
    desk: Desk
    proxy: BusProxy
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture
async def proxy(request: pytest.FixtureRequest) -> AsyncIterator[BusProxy]:
    """A relay to Redis, or to the server ``request.param`` names (``BUS_KINDS``)."""
    relay = BusProxy(getattr(request, "param", "redis"))
    await relay.start()
    yield relay
    with contextlib.suppress(AssertionError):
        await relay.cut()


@asynccontextmanager
async def running_instance(
    database_url: str, bus_url: str, prefix: str, *, router: bool = True
) -> AsyncIterator[Instance]:
    settings = make_settings(bus_url=bus_url, bus_prefix=prefix, router_enabled=router)
    app = create_app(settings, database_url=database_url)
    async with (
        app.router.lifespan_context(app),
        live_server(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield Instance(app, url, client)


def user_factory(instance: Instance) -> UserFactory:
    async def factory(
        username: str,
        role: str = "agent",
        password: str = "password-123",  # noqa: S107
    ) -> dict[str, str]:
        async with instance.app.state.db.unit_of_work() as session:
            await create_user(
                session,
                UserCreate(username=username, display_name=username, role=role, password=password),
            )
        response = await instance.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return factory


@pytest.fixture
async def pair(clean_db: str, proxy: BusProxy) -> AsyncIterator[Pair]:
    prefix = f"contactd-test-{uuid.uuid4().hex}:"
    async with (
        running_instance(clean_db, proxy.url, prefix, router=True) as a,
        running_instance(clean_db, proxy.url, prefix, router=False) as b,
    ):
        make_user = user_factory(a)
        admin = await make_user("root.admin", "admin")
        desk = Desk(a.app, a.client, admin, make_user)
        await desk.queue()
        await desk.widget(greeting="您好！")
        for instance in (a, b):
            assert instance.app.state.distributor is not None
        assert await a.bus_state() == "up"
        assert await b.bus_state() == "up"
        yield Pair(a, b, desk, proxy)
