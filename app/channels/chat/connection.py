"""One visitor's websocket, from ``hello`` to close.

After the hello the socket subscribes to the bus (``chat:{contact_id}`` for the transcript,
``contact:{contact_id}`` for the router's news, ``routing`` to know when the line moved),
then sends what the visitor missed, so nothing falls between the catch-up read and the
live stream. ``last_sent`` makes the stream exactly-once per socket: older seqs are
dropped, a gap is filled from the database. A message the bus lost reaches the visitor by
the next of: a later message (the gap), the visitor's ping (each ping reads what is newer
than ``last_sent``; the widget pings every ~20 s), or the bus's ``bus_resync``. Four tasks
run per socket (reader, two pumps, position pusher); when any ends, all are cancelled and
the subscriptions released.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

from app.channels.chat import service
from app.channels.chat.protocol import (
    Ack,
    AgentJoined,
    AnyVisitorFrame,
    Csat,
    CsatRecorded,
    CsatRequest,
    End,
    Ended,
    ErrorFrame,
    Hello,
    Ping,
    Pong,
    Position,
    ProtocolError,
    SendMessage,
    Typing,
    error_frame,
    parse_frame,
)
from app.channels.chat.runtime import ChatRuntime
from app.config import Settings
from app.errors import AppError
from app.middleware import authenticated
from app.resilience.faults import UNAVAILABLE_CODE, database_unavailable
from app.routing.core.model import ContactStatus, QueuePosition, rounded_wait
from app.surveys import service as surveys

log = structlog.get_logger(__name__)

CLOSE_NORMAL = 1000
CLOSE_UNAUTHORIZED = 4401
CLOSE_TIMEOUT = 4408
CLOSE_ERROR = 1011
PAGE = 500
TYPING_REPEAT_SECONDS = 2.0
POSITION_COALESCE_SECONDS = 0.2

Queue = asyncio.Queue[dict[str, Any]]


class VisitorSocket:
    def __init__(self, websocket: WebSocket, runtime: ChatRuntime, settings: Settings) -> None:
        self.ws = websocket
        self.runtime = runtime
        self.limits = service.Limits(
            settings.chat_max_message_chars, settings.chat_messages_per_minute
        )
        self.max_frame_chars = settings.chat_max_message_chars * 6 + 1024
        self.contact_id = 0
        self.last_sent = 0
        self.agent_id: int | None = None
        self.ended = False
        self._send_lock = asyncio.Lock()
        self._typing_sent: tuple[bool, float] | None = None
        self.survey_until: datetime | None = None  # the open survey's end, once announced

    async def serve(self) -> None:
        await self.ws.accept()
        try:
            code = await self._session()
        except Exception as exc:
            self._log_failure(exc)
            code = CLOSE_ERROR
        with contextlib.suppress(Exception):  # the visitor may be gone already
            await self.ws.close(code)

    def _log_failure(self, error: BaseException) -> None:
        if not _is_disconnect(error):  # the type only: a message may carry personal data
            log.error("chat_socket_failed", contact_id=self.contact_id, error=type(error).__name__)

    # ------------------------------------------------------------------ hello

    async def _session(self) -> int:
        hello = await self._read_hello()
        if isinstance(hello, int):
            return hello
        async with self.runtime.db.sessionmaker() as session:
            chat = await service.authenticate(session, hello.session_id, hello.token)
        if chat is None:
            await self._send(
                ErrorFrame(code="unauthorized", message="Unknown session or wrong token.").frame()
            )
            return CLOSE_UNAUTHORIZED
        authenticated(self.ws)
        self.contact_id = chat.contact_id
        self.runtime.visitor_connected(chat.id)
        try:
            return await self._attached(hello.last_seq)
        finally:
            self.runtime.visitor_left(chat.id, chat.contact_id, ended=self.ended)

    async def _read_hello(self) -> Hello | int:
        try:
            event = await asyncio.wait_for(self.ws.receive(), self.runtime.hello_timeout_seconds)
        except TimeoutError:
            await self._send(ErrorFrame(code="hello_timeout", message="Say hello first.").frame())
            return CLOSE_TIMEOUT
        if event["type"] == "websocket.disconnect":
            return CLOSE_NORMAL
        try:
            frame = parse_frame(event.get("text") or "", self.max_frame_chars)
        except ProtocolError as exc:
            await self._send(error_frame(exc))
            return CLOSE_UNAUTHORIZED
        if not isinstance(frame, Hello):
            await self._send(
                ErrorFrame(
                    code="hello_required", message="The first message must be hello."
                ).frame()
            )
            return CLOSE_UNAUTHORIZED
        return frame

    # ------------------------------------------------------------------ attached

    async def _attached(self, last_seq: int) -> int:
        bus = self.runtime.bus
        async with AsyncExitStack() as stack:
            transcript = await stack.enter_async_context(
                bus.subscribe(service.chat_topic(self.contact_id))
            )
            routed = await stack.enter_async_context(bus.subscribe(f"contact:{self.contact_id}"))
            line = await stack.enter_async_context(bus.subscribe("routing"))
            if await self._catch_up(last_seq):
                if self.survey_until is None:
                    return CLOSE_NORMAL
                return await self._run(self._read_loop(), self._survey_lifetime())
            return await self._run(
                self._read_loop(),
                self._pump_transcript(transcript),
                self._pump_routing(routed),
                self._push_positions(line),
            )

    async def _catch_up(self, last_seq: int) -> bool:
        """Send what the visitor missed; True when the chat is over (``ended`` was sent)."""
        async with self.runtime.db.unit_of_work() as session:
            status = await service.close_if_over(session, self.runtime.bus, self.contact_id)
        async with self.runtime.db.sessionmaker() as session:
            self.last_sent = min(last_seq, await service.last_seq(session, self.contact_id))
            agent_id = await service.assigned_agent(session, self.contact_id)
        await self._send_missed()
        if status.ended:
            await self._send(Ended(by=status.by).frame())
            self.ended = True
            await self._announce_survey()
            return True
        if agent_id is not None:
            await self._agent_joined(agent_id)
        return False

    async def _run(self, *loops: Any) -> int:
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self._close_code(done.pop())

    def _close_code(self, task: asyncio.Task[int]) -> int:
        error = task.exception()
        if error is None:
            return task.result()
        self._log_failure(error)
        return CLOSE_ERROR

    # ------------------------------------------------------------------ visitor -> server

    async def _read_loop(self) -> int:
        while True:
            try:
                event = await asyncio.wait_for(self.ws.receive(), self.runtime.idle_timeout_seconds)
            except TimeoutError:
                message = "Nothing heard from you for a while: send ping to stay connected."
                await self._send(ErrorFrame(code="idle_timeout", message=message).frame())
                return CLOSE_TIMEOUT
            if event["type"] == "websocket.disconnect":
                return CLOSE_NORMAL
            code = await self._handle(event.get("text"))
            if code is not None:
                return code

    async def _handle(self, raw: str | None) -> int | None:
        try:
            if raw is None:
                raise ProtocolError("invalid_message", "Send JSON in text frames.")
            return await self._dispatch(parse_frame(raw, self.max_frame_chars))
        except ProtocolError as exc:
            await self._send(error_frame(exc))
        except AppError as exc:
            await self._send(ErrorFrame(code=exc.code, message=exc.message).frame())
        except Exception as exc:
            if _is_disconnect(exc):
                raise
            await self._send(self._failed("chat_frame_failed", exc, "Try again."))
        return None

    def _failed(
        self, event: str, exc: Exception, message: str, client_id: str | None = None
    ) -> dict[str, Any]:
        """The ``error`` frame for a frame the service failed on: ``database_unavailable``
        while the database does not answer (logged as a warning), else ``internal_error``."""
        if database_unavailable(exc):
            log.warning(event, contact_id=self.contact_id, error=type(exc).__name__)
            return error_frame(ProtocolError(UNAVAILABLE_CODE, message, client_id))
        log.error(event, contact_id=self.contact_id, error=type(exc).__name__)
        return error_frame(ProtocolError("internal_error", message, client_id))

    async def _dispatch(self, frame: AnyVisitorFrame) -> int | None:
        match frame:
            case Ping():
                await self._send(Pong().frame())
                await self._send_missed()
            case SendMessage():
                return await self._message(frame)
            case Typing():
                await self._typing(frame.is_typing)
            case End():
                return await self._end()
            case Csat():
                await self._csat(frame)
            case Hello():
                raise ProtocolError("already_authenticated", "Hello once per connection.")
        return None

    async def _message(self, frame: SendMessage) -> int | None:
        try:
            async with self.runtime.db.unit_of_work() as session:
                posted = await service.post_visitor_message(
                    session,
                    self.runtime.bus,
                    self.contact_id,
                    frame.client_id,
                    frame.text,
                    self.limits,
                )
        except AppError as exc:
            await self._send(error_frame(ProtocolError(exc.code, exc.message, frame.client_id)))
            return await self._close_if_over() if isinstance(exc, service.ChatEnded) else None
        except Exception as exc:  # the database failed: say so, keep the socket
            message = "Not stored; send it again."
            await self._send(self._failed("chat_message_failed", exc, message, frame.client_id))
            return None
        # After the commit: an ack always means the message is stored.
        await self._send(
            Ack(client_id=frame.client_id, seq=posted.seq, duplicate=posted.duplicate).frame()
        )
        return None

    async def _typing(self, is_typing: bool) -> None:
        now = time.monotonic()
        last = self._typing_sent
        if self.agent_id is None or (
            last is not None and last[0] == is_typing and now - last[1] < TYPING_REPEAT_SECONDS
        ):
            return
        self._typing_sent = (is_typing, now)
        notice = {"type": "chat_typing", "contact_id": self.contact_id, "is_typing": is_typing}
        await self.runtime.bus.publish(f"agent:{self.agent_id}", notice)

    async def _end(self) -> int | None:
        async with self.runtime.db.unit_of_work() as session:
            outcome = await service.end_chat(session, self.runtime.bus, self.contact_id, "visitor")
        if outcome is not None and outcome.already:  # no push will come: say it here
            await self._send(Ended(by=outcome.ended_by).frame())
            self.ended = True
            return CLOSE_NORMAL
        return None  # the ``ended`` push closes the socket

    async def _csat(self, frame: Csat) -> None:
        """Record the rating; a refusal (``no_survey``, ``already_rated``,
        ``survey_expired``) is an error frame and the socket stays open."""
        async with self.runtime.db.unit_of_work() as session:
            survey = await surveys.answer(
                session, self.runtime.bus, self.contact_id, frame.score, frame.comment
            )
            score = survey.score
        assert score is not None
        await self._send(CsatRecorded(score=score).frame())

    async def _announce_survey(self) -> None:
        """Send ``csat_request`` when the ended chat's survey takes an answer now."""
        async with self.runtime.db.sessionmaker() as session:
            survey = await surveys.open_survey(session, self.contact_id, datetime.now(UTC))
        if survey is None or self.survey_until is not None:
            return
        self.survey_until = survey.expires_at
        await self._send(CsatRequest(expires_at=survey.expires_at).frame())

    async def _survey_lifetime(self) -> int:
        """Keep the socket until the survey ends (the visitor may leave before)."""
        assert self.survey_until is not None
        await asyncio.sleep(max(0.0, (self.survey_until - datetime.now(UTC)).total_seconds()))
        return CLOSE_NORMAL

    async def _after_end(self) -> int:
        await self._announce_survey()
        return CLOSE_NORMAL if self.survey_until is None else await self._survey_lifetime()

    async def _close_if_over(self) -> int | None:
        async with self.runtime.db.unit_of_work() as session:
            status = await service.close_if_over(session, self.runtime.bus, self.contact_id)
        if status.ended and not status.ended_now:
            await self._send(Ended(by=status.by).frame())
            self.ended = True
            return CLOSE_NORMAL
        return None

    # ------------------------------------------------------------------ server -> visitor

    async def _pump_transcript(self, queue: Queue) -> int:
        while True:
            event = await queue.get()
            kind = event.get("type")
            if kind == "message":
                await self._deliver(event)
            elif kind == "typing":
                await self._send(event)
            elif kind == "ended":
                await self._send(event)
                self.ended = True
                return await self._after_end()
            elif kind == "bus_resync" and await self._catch_up(self.last_sent):
                return await self._after_end()

    async def _deliver(self, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        if seq <= self.last_sent:
            return  # sent already by the catch-up
        if seq == self.last_sent + 1:
            await self._send(event)
            self.last_sent = seq
            return
        await self._send_missed()  # a gap: the bus lost or reordered something

    async def _send_missed(self) -> None:
        while True:
            async with self.runtime.db.sessionmaker() as session:
                page = await service.messages_after(session, self.contact_id, self.last_sent, PAGE)
            for message in page:
                await self._send(service.message_frame(message).frame())
                self.last_sent = message.seq
            if len(page) < PAGE:
                return

    async def _pump_routing(self, queue: Queue) -> int:
        while True:
            event = await queue.get()
            if event.get("type") == "assigned":
                await self._agent_joined(int(event["agent_id"]))
            elif event.get("type") == "removed":
                async with self.runtime.db.unit_of_work() as session:
                    await service.close_if_over(session, self.runtime.bus, self.contact_id)

    async def _agent_joined(self, agent_id: int) -> None:
        if agent_id == self.agent_id:
            return
        self.agent_id = agent_id
        async with self.runtime.db.sessionmaker() as session:
            name = await service.agent_name(session, agent_id)
        await self._send(AgentJoined(agent_name=name).frame())

    async def _push_positions(self, line: Queue) -> int:
        """At once, whenever the place in line changes, and every interval while waiting."""
        last: tuple[int, float] | None = None  # (position, when sent)
        interval = self.runtime.position_interval_seconds
        while True:
            found = self.runtime.position(self.contact_id)
            now = time.monotonic()
            if _position_due(found, last, now, interval):
                assert found is not None
                expected = rounded_wait(found.expected_wait_seconds)
                await self._send(
                    Position(position=found.position, expected_wait_seconds=expected).frame()
                )
                last = (found.position, now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(line.get(), interval)
                await asyncio.sleep(POSITION_COALESCE_SECONDS)  # one update for a burst
            while not line.empty():
                line.get_nowait()

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)


def _position_due(
    found: QueuePosition | None, last: tuple[int, float] | None, now: float, interval: float
) -> bool:
    if found is None or found.status is not ContactStatus.WAITING:
        return False
    return last is None or last[0] != found.position or now - last[1] >= interval


def _is_disconnect(error: BaseException) -> bool:
    return isinstance(error, WebSocketDisconnect | WebSocketDisconnected | OSError)
