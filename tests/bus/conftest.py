"""Two instances of the service on one database, hearing each other through Redis.

Each test run uses channels of its own (a random prefix), so parallel runs and other users
of the same Redis never hear each other. The instances reach Redis through ``RedisProxy``,
a TCP relay the test can cut and restore to take the bus down without touching the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.users.schemas import UserCreate
from app.users.service import create_user
from tests.channels.chat.conftest import Desk
from tests.conftest import UserFactory, make_settings
from tests.helpers import live_server

REDIS_HOST = "127.0.0.1"
REDIS_PORT = int(os.environ.get("CONTACTD_TEST_REDIS_PORT", "6379"))


class RedisProxy:
    """A TCP relay to the test Redis on a port of its own; ``cut`` closes it and every
    connection through it, ``restore`` listens again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        await self.start()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(REDIS_HOST, REDIS_PORT)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


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
    proxy: RedisProxy
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    relay = RedisProxy()
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
async def pair(clean_db: str, proxy: RedisProxy) -> AsyncIterator[Pair]:
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
