"""One console socket: the hello, the read loop with heartbeats, errors as frames.

No database session is held across socket awaits: the hello's user lookup and each
command are short units of work of their own.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

import structlog
from fastapi import WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.agents import protocol as p
from app.agents.commands import Commands
from app.agents.console import ConsoleHub
from app.agents.presence import AgentLine
from app.auth.security import InvalidToken, read_token
from app.errors import AppError
from app.events.frames import ref_of
from app.middleware import authenticated
from app.resilience.faults import RETRY_AFTER_SECONDS, UNAVAILABLE_CODE, database_unavailable
from app.users.models import User
from app.validation import NUL_CODE, NUL_MESSAGE, json_has_nul

log = structlog.get_logger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_TIMEOUT = 4408
CLOSE_TAKEN_OVER = 4409


class Gone(Exception):
    """The client closed the socket."""


class SocketSink:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.lock = asyncio.Lock()

    async def send_text(self, text: str) -> bool:
        async with self.lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return False
            try:
                await self.ws.send_text(text)
            except (RuntimeError, OSError, WebSocketDisconnect):
                return False
            return True

    async def close(self, code: int, reason: str) -> None:
        async with self.lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                with suppress(RuntimeError, OSError):
                    await self.ws.close(code, reason)

    async def receive(self, seconds: float) -> str | None:
        """The next text frame; None when ``seconds`` passed without one."""
        try:
            async with asyncio.timeout(seconds):
                message = await self.ws.receive()
        except TimeoutError:
            return None
        if message["type"] == "websocket.disconnect":
            raise Gone
        if message.get("text") is not None:
            return str(message["text"])
        return ""  # a binary frame: malformed


def _error(code: str, message: str, ref: str | None = None, details: Any = None) -> Any:
    return lambda seq: p.Error(seq=seq, ref=ref, code=code, message=message, details=details)


def _command_failed(exc: Exception, request: str, ref: str | None) -> Any:
    """The ``error`` for a command the service failed on: ``database_unavailable`` (nothing
    stored, ``details.retry_after`` seconds) while the database does not answer, else
    ``internal_error`` (logged with its traceback)."""
    if database_unavailable(exc):
        log.warning("console_command_failed", request=request, error=type(exc).__name__)
        message = "Not done: the database does not answer for now; send it again."
        return _error(UNAVAILABLE_CODE, message, ref, {"retry_after": RETRY_AFTER_SECONDS})
    log.exception("console_command_failed", request=request)
    return _error("internal_error", "The request failed.", ref)


def _parse(raw: str) -> Any:
    return p.CLIENT_FRAME.validate_json(raw)


def _problems(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:5]]


async def _send_direct(sink: SocketSink, frame: p.ServerFrame) -> None:
    await sink.send_text(frame.model_dump_json())


async def _authenticate(hub: ConsoleHub, token: str) -> User | None:
    try:
        claims = read_token(token, hub.app.state.jwt_secret)
    except InvalidToken:
        return None
    async with hub.db.sessionmaker() as session:
        user = await session.get(User, claims.user_id)
    return user if user is not None and user.is_active else None


async def _await_hello(sink: SocketSink, hub: ConsoleHub) -> p.Hello | None:
    """Frames before the hello get an error; the socket closes if none comes in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + hub.settings.hello_timeout_seconds
    while (left := deadline - loop.time()) > 0:
        raw = await sink.receive(left)
        if raw is None:
            break
        try:
            frame = _parse(raw)
        except ValidationError as exc:
            error = p.Error(seq=0, code="invalid_message", message="Malformed frame.")
            error.details = _problems(exc)
            await _send_direct(sink, error)
            continue
        if isinstance(frame, p.Hello):
            return frame
        await _send_direct(
            sink, p.Error(seq=0, ref=frame.ref, code="hello_required", message="Say hello first.")
        )
    await sink.close(CLOSE_TIMEOUT, "no hello")
    return None


async def serve(ws: WebSocket, hub: ConsoleHub) -> None:
    await ws.accept()
    sink = SocketSink(ws)
    try:
        hello = await _await_hello(sink, hub)
        if hello is None:
            return
        user = await _authenticate(hub, hello.token)
        if user is None:
            await _send_direct(
                sink,
                p.Error(seq=0, ref=hello.ref, code="unauthorized", message="Invalid token."),
            )
            await sink.close(CLOSE_UNAUTHORIZED, "unauthorized")
            return
        authenticated(ws)
        line = hub.lines.get(user.id)
        resumed = await line.attach(sink, hello.last_seq, hub.welcome(user.id))
        await hub.announce_attached(user.id)
        log.info("console_connected", agent_id=user.id, resumed=resumed)
        try:
            if not resumed:
                await hub.snapshot(line, resync=hello.last_seq is not None)
            await _read_loop(sink, hub, line, Commands(hub.app, user.id))
        finally:
            await line.detach(sink)
            log.info("console_disconnected", agent_id=user.id)
    except Gone:
        return


async def _read_loop(
    sink: SocketSink, hub: ConsoleHub, line: AgentLine, commands: Commands
) -> None:
    pinged = False
    while line.sink is sink:
        raw = await sink.receive(hub.settings.heartbeat_seconds)
        await hub.reconcile_if_due(line)
        if raw is None:
            if pinged:  # a whole heartbeat period without a word: the client is gone
                await sink.close(CLOSE_TIMEOUT, "heartbeat timeout")
                return
            pinged = True
            await line.control(lambda seq: p.ServerPing(seq=seq))
            continue
        pinged = False
        await _handle(raw, line, commands)


async def _handle(raw: str, line: AgentLine, commands: Commands) -> None:
    if json_has_nul(raw):
        await line.emit(_error(NUL_CODE, NUL_MESSAGE, ref_of(raw)))
        return
    try:
        frame = _parse(raw)
    except ValidationError as exc:
        detail = _problems(exc)
        await line.emit(_error("invalid_message", "Malformed frame.", ref_of(raw), detail))
        return
    match frame:
        case p.ClientPing():
            await line.control(lambda seq: p.ServerPong(seq=seq, ref=frame.ref))
            return
        case p.ClientPong():
            return
        case p.Hello():
            await line.emit(_error("already_authenticated", "Already said hello.", frame.ref))
            return
    try:
        reply = await commands.run(frame)
    except AppError as exc:
        await line.emit(_error(exc.code, exc.message, frame.ref, exc.details))
        return
    except Exception as exc:
        await line.emit(_command_failed(exc, frame.type, frame.ref))
        return
    if reply is not None:
        await line.emit(reply)
