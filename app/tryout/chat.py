"""``contactd try chat``: a web-chat visitor in the terminal — start a session, send each
line typed, print what the agent and the service say; end of input leaves the chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import httpx
from pydantic import Field, TypeAdapter, ValidationError
from websockets.asyncio.client import ClientConnection, connect

from app.channels.chat.protocol import (
    Ack,
    AgentJoined,
    AgentTyping,
    End,
    Ended,
    ErrorFrame,
    Hello,
    MessageFrame,
    Pong,
    Position,
    SendMessage,
)
from app.channels.chat.schemas import SessionCreate, SessionCreated

ServerFrame = Annotated[
    Ack | MessageFrame | AgentTyping | Position | AgentJoined | Ended | Pong | ErrorFrame,
    Field(discriminator="type"),
]
_SERVER_FRAME: TypeAdapter[
    Ack | MessageFrame | AgentTyping | Position | AgentJoined | Ended | Pong | ErrorFrame
] = TypeAdapter(ServerFrame)


class TryChatError(RuntimeError):
    """The service refused the chat."""


def waiting(position: int | None, expected_wait_seconds: float | None) -> str:
    if position is None:
        return "waiting (no place in line known)"
    if position == 0:
        return "an agent is being connected"
    wait = "unknown" if expected_wait_seconds is None else f"about {round(expected_wait_seconds)} s"
    return f"place in line {position}, expected wait {wait}"


def describe(frame: object) -> str | None:
    """The line a visitor would see for a server frame; None for what shows nothing."""
    match frame:
        case MessageFrame(author="agent"):
            return f"{frame.agent_name or 'agent'}: {frame.text}"
        case MessageFrame(author="system"):
            return f"(service) {frame.text}"
        case Ack():
            return f"  (stored, seq {frame.seq})"
        case Position():
            return f"  ({waiting(frame.position, frame.expected_wait_seconds)})"
        case AgentJoined():
            return f"  ({frame.agent_name} joined)"
        case AgentTyping(is_typing=True):
            return "  (the agent is typing)"
        case Ended():
            return f"  (chat ended by the {frame.by})"
        case ErrorFrame():
            return f"  (refused: {frame.code}: {frame.message})"
    return None


async def visit(
    base_url: str,
    data: SessionCreate,
    lines: AsyncIterator[str],
    say: Callable[[str], None],
) -> int:
    """Hold one chat to its end; the contact's id."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post("/api/v1/chat/sessions", json=data.model_dump(mode="json"))
    if response.status_code != 201:
        raise TryChatError(f"the chat was refused ({response.status_code}): {response.text}")
    created = SessionCreated.model_validate(response.json())
    say(f"chat started: contact {created.contact_id}, widget {data.widget}")
    say(f"  ({waiting(created.position, created.expected_wait_seconds)})")
    if created.ended:
        return created.contact_id
    socket_url = base_url.replace("http", "ws", 1).rstrip("/") + "/ws/chat"
    async with connect(socket_url) as socket:
        hello = Hello(type="hello", session_id=created.session_id, token=created.token)
        await socket.send(hello.model_dump_json())
        await _converse(socket, lines, say)
    return created.contact_id


async def _converse(
    socket: ClientConnection, lines: AsyncIterator[str], say: Callable[[str], None]
) -> None:
    unacked: set[str] = set()
    all_acked = asyncio.Event()
    all_acked.set()

    async def read() -> None:
        async for raw in socket:
            try:
                frame = _SERVER_FRAME.validate_json(raw)
            except ValidationError:
                continue  # a frame this client does not know: nothing to show
            if isinstance(frame, Ack | ErrorFrame) and frame.client_id in unacked:
                unacked.discard(frame.client_id)
                if not unacked:
                    all_acked.set()
            shown = describe(frame)
            if shown is not None:
                say(shown)
            if isinstance(frame, Ended):
                return

    async def write() -> None:
        count = 0
        async for line in lines:
            if not line.strip():
                continue
            count += 1
            client_id = f"try-{count}"
            unacked.add(client_id)
            all_acked.clear()
            frame = SendMessage(type="message", client_id=client_id, text=line.rstrip("\n"))
            await socket.send(frame.model_dump_json())
        await all_acked.wait()
        await socket.send(End(type="end").model_dump_json())

    reader = asyncio.create_task(read())
    writer = asyncio.create_task(write())
    await reader  # ends with the chat, whoever ends it
    writer.cancel()
