"""One address may hold only so many websockets open before they say a valid hello; signed-in
sockets do not count, and a socket that leaves frees its place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from app.main import create_app
from tests.conftest import UserFactory, make_settings
from tests.helpers import eventually, live_server

CAP = 3


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(ws_unauthenticated_per_address=CAP)
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def ws_base(app: FastAPI) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url.replace("http://", "ws://")


async def _refused(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, open_timeout=5):
            pass
    return refused.value.response.status_code


async def _hello(socket: ClientConnection, token: str) -> None:
    await socket.send(f'{{"type": "hello", "token": "{token}"}}')
    welcome = await asyncio.wait_for(socket.recv(), 5)
    assert '"welcome"' in str(welcome)


async def test_silent_sockets_of_one_address_are_capped_on_every_endpoint(
    ws_base: str, make_user: UserFactory
) -> None:
    agent = (await make_user("ann"))["Authorization"].removeprefix("Bearer ")
    async with AsyncExitStack() as stack:
        silent = [
            await stack.enter_async_context(connect(f"{ws_base}{path}", open_timeout=5))
            for path in ("/ws/agent", "/ws/chat", "/ws/supervisor")
        ]
        for path in ("/ws/agent", "/ws/chat", "/ws/supervisor"):
            assert await _refused(f"{ws_base}{path}") == 403, path

        await _hello(silent[0], agent)  # signed in: no longer counted
        console = await stack.enter_async_context(connect(f"{ws_base}/ws/agent", open_timeout=5))
        assert await _refused(f"{ws_base}/ws/agent") == 403

        await silent[1].close()
        await _hello(console, agent)

        async def admitted() -> ClientConnection | None:
            try:
                return await stack.enter_async_context(
                    connect(f"{ws_base}/ws/chat", open_timeout=5)
                )
            except InvalidStatus:
                return None  # the server has not yet seen the closed socket go

        assert await eventually(admitted)
