"""An agent console client over a real websocket, on the chat desk's live server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.channels.chat.conftest import (  # noqa: F401  (fixtures)
    WAIT,
    Desk,
    desk,
    eventually,
    live_desk,
    live_url,
)

QUIET = ("ping",)


@dataclass
class Console:
    ws: ClientConnection
    last_seq: int | None = None
    seen: list[int] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, seconds: float = WAIT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), seconds))
        self.frames.append(frame)
        if frame["type"] not in ("welcome", "ping", "pong", "taken_over", "typing"):
            assert self.last_seq is None or frame["seq"] > self.last_seq, frame
            self.last_seq = frame["seq"]
            self.seen.append(frame["seq"])
        return frame

    async def next_of(self, kind: str, seconds: float = WAIT) -> dict[str, Any]:
        """The first frame of this type not yet returned by next_of (frames of other types
        are skipped)."""
        for frame in self.frames:
            if frame["type"] == kind and not frame.get("_taken"):
                frame["_taken"] = True
                return frame
        while True:
            frame = await self.recv(seconds)
            if frame["type"] == kind:
                frame["_taken"] = True
                return frame

    async def hello(self, token: str, last_seq: int | None = None) -> dict[str, Any]:
        await self.send({"type": "hello", "token": token, "last_seq": last_seq})
        welcome = await self.recv()
        assert welcome["type"] == "welcome", welcome
        return welcome

    async def ask(self, frame: dict[str, Any], seconds: float = WAIT) -> dict[str, Any]:
        """Send a frame with a ref; its result (or error), skipping events in between."""
        ref = f"r{id(frame)}"
        await self.send({**frame, "ref": ref})
        while True:
            reply = await self.recv(seconds)
            if reply.get("ref") == ref:
                return reply

    async def closed_with(self, seconds: float = WAIT) -> int | None:
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), seconds)
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def console_url(live_desk: Desk) -> str:  # noqa: F811
    return live_desk.ws_url.replace("/ws/chat", "/ws/agent")


@asynccontextmanager
async def open_console(url: str, **kwargs: Any) -> AsyncIterator[Console]:
    async with connect(url, open_timeout=WAIT, close_timeout=1, **kwargs) as ws:
        yield Console(ws)


@pytest.fixture
def short_grace(app: FastAPI) -> None:
    app.state.console.settings.grace_seconds = 0.3
