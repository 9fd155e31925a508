"""Consults end to end: an agent asks on the console, supervisors hear it on /ws/supervisor,
one answers, the agent's console gets the answer. Real server, websockets, PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from app.contacts.models import ContactEvent, ContactEventText
from tests.agent_console.conftest import Console, open_console, token_of
from tests.conftest import UserFactory
from tests.helpers import live_server
from tests.routing_service.conftest import Center

WAIT = 5.0
VIEW = ("snapshot", "delta")


@pytest.fixture
async def base_url(app: FastAPI) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url.replace("http://", "ws://")


@pytest.fixture
async def center(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    found = Center(client, admin, make_user, {})
    await found.skill("support")
    await found.queue("support", [("support", 1)])
    return found


@dataclass
class Supervisor:
    """A /ws/supervisor socket; the live view's snapshots and deltas are set aside."""

    ws: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def recv(self) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
            if frame["type"] not in VIEW:
                return frame

    async def next_of(self, kind: str) -> dict[str, Any]:
        for frame in self.frames:
            if frame["type"] == kind:
                self.frames.remove(frame)
                return frame
        while True:
            frame = await self.recv()
            if frame["type"] == kind:
                return frame
            self.frames.append(frame)

    async def ask(self, frame: dict[str, Any], ref: str) -> dict[str, Any]:
        """Send a frame with ``ref``; its result or error (other frames are kept)."""
        await self.send({**frame, "ref": ref})
        while True:
            reply = await self.recv()
            if reply.get("ref") == ref and reply["type"] in ("result", "error"):
                return reply
            self.frames.append(reply)

    async def snapshot(self) -> None:
        """Wait for a snapshot (the first one comes right after auth)."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
            if frame["type"] == "snapshot":
                return
            if frame["type"] != "delta":
                self.frames.append(frame)


@asynccontextmanager
async def supervisor_socket(base_url: str, headers: dict[str, str]) -> AsyncIterator[Supervisor]:
    async with connect(f"{base_url}/ws/supervisor", open_timeout=WAIT, close_timeout=1) as ws:
        socket = Supervisor(ws)
        await socket.send({"type": "auth", "token": token_of(headers)})
        await socket.snapshot()  # from here on, consult requests are followed
        yield socket


async def _user_id(center: Center, username: str) -> int:
    users = await center.client.get("/api/v1/users?limit=200", headers=center.admin)
    found: int = next(u["id"] for u in users.json()["items"] if u["username"] == username)
    return found


async def _set_team(center: Center, username: str, team: str | None) -> int:
    user_id = await _user_id(center, username)
    patched = await center.client.patch(
        f"/api/v1/users/{user_id}", json={"team": team}, headers=center.admin
    )
    assert patched.status_code == 200, patched.text
    return user_id


async def _supervisor(center: Center, name: str, team: str | None) -> tuple[int, dict[str, str]]:
    headers = await center.make_user(name, "supervisor")
    return await _set_team(center, name, team), headers


async def _holding(console: Console, center: Center, name: str) -> int:
    """Log the agent's console in and have it accept a new voice contact."""
    await console.hello(token_of(center.headers(name)))
    await console.next_of("snapshot")
    await console.ask({"type": "set_state", "state": "available"})
    contact_id = await center.contact("support")
    offer = await console.next_of("offer")
    assert offer["contact_id"] == contact_id
    accepted = await console.ask({"type": "accept", "contact_id": contact_id})
    assert (accepted["type"], accepted["status"]) == ("result", "applied"), accepted
    return contact_id


async def _answers(app: FastAPI, contact_id: int) -> list[tuple[Any, ...]]:
    """Each answer's actor, agent, payload, and its text (kept beside the event)."""
    async with app.state.db.unit_of_work() as session:
        rows = await session.execute(
            select(
                ContactEvent.actor_id,
                ContactEvent.agent_id,
                ContactEvent.payload,
                ContactEventText.body,
            )
            .outerjoin(ContactEventText, ContactEventText.event_id == ContactEvent.id)
            .where(
                ContactEvent.contact_id == contact_id,
                ContactEvent.kind == "contact.consult_answered",
            )
            .order_by(ContactEvent.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


async def test_a_consult_reaches_the_teams_supervisors_and_the_answer_the_agent(
    app: FastAPI, center: Center, base_url: str, admin: dict[str, str]
) -> None:
    ann = await center.agent("ann", {"support": 3})
    bob = await center.agent("bob", {"support": 3})
    await _set_team(center, "ann", "red")
    await _set_team(center, "bob", "blue")
    red_id, red = await _supervisor(center, "sup.red", "red")
    _, blue = await _supervisor(center, "sup.blue", "blue")
    all_id, everyone = await _supervisor(center, "sup.all", None)
    agent_url = f"{base_url}/ws/agent"

    async with (
        supervisor_socket(base_url, red) as red_ws,
        supervisor_socket(base_url, blue) as blue_ws,
        supervisor_socket(base_url, everyone) as all_ws,
        supervisor_socket(base_url, admin) as admin_ws,
        open_console(agent_url) as ann_console,
        open_console(agent_url) as bob_console,
    ):
        ann_contact = await _holding(ann_console, center, "ann")
        bob_contact = await _holding(bob_console, center, "bob")

        asked = await ann_console.ask(
            {"type": "consult", "contact_id": ann_contact, "text": "客户要求经理"}
        )
        assert asked["type"] == "result", asked
        consult_id = asked["data"]["consult_id"]
        for socket in (red_ws, all_ws, admin_ws):
            request = await socket.next_of("consult")
            assert request["consult_id"] == consult_id
            assert (request["contact_id"], request["agent_id"]) == (ann_contact, ann)
            assert (request["team"], request["text"]) == ("red", "客户要求经理")
            assert request["agent_name"] == "ann"

        # Blue's supervisor hears only blue's agents: bob's request is the first it gets.
        bob_asked = await bob_console.ask({"type": "consult", "contact_id": bob_contact})
        assert (await blue_ws.next_of("consult"))["consult_id"] == bob_asked["data"]["consult_id"]
        assert (await all_ws.next_of("consult"))["agent_id"] == bob
        refused = await blue_ws.ask(
            {"type": "consult_reply", "contact_id": ann_contact, "agent_id": ann, "text": "好"},
            "b1",
        )
        assert (refused["type"], refused["code"]) == ("error", "forbidden"), refused

        # Red's supervisor answers: recorded, pushed to ann's console with its number.
        replied = await red_ws.ask(
            {
                "type": "consult_reply",
                "contact_id": ann_contact,
                "agent_id": ann,
                "text": "可以退运费，我来批准。",
            },
            "r1",
        )
        assert replied["type"] == "result", replied
        assert replied["request"] == "consult_reply"
        assert replied["data"]["contact_id"] == ann_contact
        answer = await ann_console.next_of("consult_answer")
        assert answer["seq"] == ann_console.last_seq
        assert (answer["contact_id"], answer["consult_id"]) == (ann_contact, consult_id)
        assert (answer["supervisor_id"], answer["supervisor_name"]) == (red_id, "sup.red")
        assert answer["text"] == "可以退运费，我来批准。"
        answered = await all_ws.next_of("consult_answered")
        assert (answered["consult_id"], answered["supervisor_id"]) == (consult_id, red_id)
        assert await _answers(app, ann_contact) == [
            (red_id, ann, {"consult_id": consult_id}, "可以退运费，我来批准。")
        ]
        ann_seen = ann_console.last_seq

    # An answer while ann's console is away is kept and replayed on resume.
    async with supervisor_socket(base_url, everyone) as all_ws:
        late = await all_ws.ask(
            {"type": "consult_reply", "contact_id": ann_contact, "agent_id": ann, "text": "另外"},
            "a1",
        )
        assert late["type"] == "result", late
    async with open_console(agent_url) as ann_console:
        ann_console.last_seq = ann_seen
        welcome = await ann_console.hello(token_of(center.headers("ann")), last_seq=ann_seen)
        assert welcome["resumed"] is True
        replayed = await ann_console.recv()
        assert replayed["type"] == "consult_answer", replayed
        assert replayed["seq"] == (ann_seen or 0) + 1
        assert (replayed["supervisor_id"], replayed["text"]) == (all_id, "另外")


async def test_bad_frames_get_errors_and_the_socket_stays_open(
    app: FastAPI, center: Center, base_url: str, supervisor: dict[str, str]
) -> None:
    ann = await center.agent("ann", {"support": 3})
    async with (
        supervisor_socket(base_url, supervisor) as socket,
        open_console(f"{base_url}/ws/agent") as console,
    ):
        contact_id = await _holding(console, center, "ann")
        await socket.send("{not json")
        assert (await socket.next_of("error"))["code"] == "bad_message"
        await socket.send(b"\x00binary")
        assert (await socket.next_of("error"))["code"] == "bad_message"
        unknown = await socket.ask({"type": "fly"}, "u1")
        assert unknown["code"] == "bad_message"
        assert unknown["details"], unknown
        malformed = await socket.ask(
            {"type": "consult_reply", "contact_id": "x", "agent_id": ann, "text": ""}, "m1"
        )
        assert malformed["code"] == "bad_message"
        assert len(malformed["details"]) == 2, malformed
        extra = await socket.ask(
            {
                "type": "consult_reply",
                "contact_id": contact_id,
                "agent_id": ann,
                "text": "hi",
                "cc": "x",
            },
            "e1",
        )
        assert extra["code"] == "bad_message"

        reply = {"type": "consult_reply", "contact_id": contact_id, "agent_id": ann, "text": "在"}
        not_asked = await socket.ask(reply, "n1")
        assert not_asked["code"] == "no_such_consult"
        missing = await socket.ask({**reply, "contact_id": contact_id + 1000}, "n2")
        assert missing["code"] == "not_found"
        not_an_agent = await socket.ask({**reply, "agent_id": ann + 1000}, "n3")
        assert not_an_agent["code"] == "unknown_agent"
        assert await _answers(app, contact_id) == []

        # Still open: a subscribe gets a new snapshot, and an existing request is answered.
        await socket.send({"type": "subscribe", "queues": ["support"]})
        await socket.snapshot()
        await console.ask({"type": "consult", "contact_id": contact_id})
        await socket.next_of("consult")
        assert (await socket.ask(reply, "ok"))["type"] == "result"
        assert (await console.next_of("consult_answer"))["text"] == "在"
