"""A contact center with one chat queue and a real HTTP server, and a visitor's websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.channels.entry_points import add_entry_point
from tests.conftest import UserFactory
from tests.helpers import eventually, live_server

WAIT = 15.0  # the longest a frame may take to come on a loaded machine (nothing waits it out)
_QUIET = ("position", "typing")


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url


@dataclass
class Visitor:
    """One visitor socket: frames are read one by one, with a timeout, never skipped."""

    ws: ClientConnection

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, seconds: float = WAIT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), seconds)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def next_of(
        self, kind: str, seconds: float = WAIT, skip: tuple[str, ...] = ("position", "typing")
    ) -> dict[str, Any]:
        """The next frame of this type; frames of the ``skip`` types in between are ignored,
        anything else in between fails the test."""
        while True:
            frame = await self.recv(seconds)
            if frame["type"] == kind:
                return frame
            assert frame["type"] in skip, frame

    async def ack_and_echo(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """After a message: its ack and its echo in the transcript stream, in either order."""
        found: dict[str, dict[str, Any]] = {}
        while len(found) < 2:
            frame = await self.recv()
            if frame["type"] in _QUIET:
                continue
            assert frame["type"] in ("ack", "message"), frame
            assert frame["type"] not in found, frame
            found[frame["type"]] = frame
        return found["ack"], found["message"]

    async def hello(self, session: dict[str, Any], last_seq: int = 0) -> None:
        await self.send(
            {
                "type": "hello",
                "session_id": session["session_id"],
                "token": session["token"],
                "last_seq": last_seq,
            }
        )

    async def closed_with(self, seconds: float = WAIT) -> int | None:
        """Read until the server closes; the close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), seconds)
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code


@dataclass
class Desk:
    app: FastAPI
    client: httpx.AsyncClient
    admin: dict[str, str]
    make_user: UserFactory
    agents: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    ws_url: str = ""

    async def queue(self, name: str = "support") -> None:
        skill = await self.client.post(
            "/api/v1/skills", json={"name": name, "kind": "general"}, headers=self.admin
        )
        assert skill.status_code == 201, skill.text
        queue = await self.client.post(
            "/api/v1/queues",
            json={
                "name": name,
                "display_name": name.title(),
                "channels": ["chat"],
                "required_skills": [{"skill": name, "level": 1}],
            },
            headers=self.admin,
        )
        assert queue.status_code == 201, queue.text

    async def widget(self, key: str = "default", queue: str = "support", **extra: Any) -> None:
        async with self.app.state.db.unit_of_work() as session:
            await add_entry_point(session, "chat", key, queue, **extra)

    async def agent(self, name: str, *, available: bool = True, skill: str = "support") -> int:
        headers = await self.make_user(name)
        users = await self.client.get("/api/v1/users?role=agent&limit=200", headers=self.admin)
        agent_id: int = next(u["id"] for u in users.json()["items"] if u["username"] == name)
        skills = await self.client.put(
            f"/api/v1/agents/{agent_id}/skills",
            json=[{"skill": skill, "level": 3}],
            headers=self.admin,
        )
        assert skills.status_code == 200, skills.text
        self.agents[name] = (agent_id, headers)
        if available:
            state = await self.client.put(
                "/api/v1/agents/me/state", json={"state": "available"}, headers=headers
            )
            assert state.status_code == 200, state.text
        return agent_id

    def headers(self, name: str) -> dict[str, str]:
        return self.agents[name][1]

    async def start(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post("/api/v1/chat/sessions", json=body)
        assert response.status_code == 201, response.text
        started: dict[str, Any] = response.json()
        return started

    async def contact(self, contact_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/contacts/{contact_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        contact: dict[str, Any] = response.json()
        return contact

    async def wait_state(self, contact_id: int, *states: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            contact = await self.contact(contact_id)
            return contact if contact["state"] in states else None

        found: dict[str, Any] = await eventually(check)
        return found

    async def accept(self, name: str, contact_id: int) -> None:
        await self.wait_state(contact_id, "offered")
        accepted = await self.client.post(
            f"/api/v1/contacts/{contact_id}/accept", headers=self.headers(name)
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "applied"

    async def transcript(
        self, contact_id: int, headers: dict[str, str] | None = None, after_seq: int = 0
    ) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/v1/contacts/{contact_id}/messages",
            params={"after_seq": after_seq},
            headers=headers or self.admin,
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages

    async def say(self, name: str, contact_id: int, text: str, **extra: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/contacts/{contact_id}/messages",
            json={"text": text, **extra},
            headers=self.headers(name),
        )

    def visitor(self) -> AbstractAsyncContextManager[Visitor]:
        return open_visitor(self.ws_url)


@pytest.fixture
async def desk(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Desk:
    found = Desk(app, client, admin, make_user)
    await found.queue()
    await found.widget(greeting="您好！欢迎咨询。")
    return found


@pytest.fixture
async def live_desk(desk: Desk, live_url: str) -> Desk:
    desk.ws_url = live_url.replace("http://", "ws://") + "/ws/chat"
    return desk


@asynccontextmanager
async def open_visitor(url: str) -> AsyncIterator[Visitor]:
    async with connect(url, open_timeout=WAIT, close_timeout=1) as ws:
        yield Visitor(ws)
