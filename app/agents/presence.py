"""Who is connected to the console, and what each agent has been told.

One ``AgentLine`` per agent who logged in since the process started. It listens to the
agent's bus topic (``agent:{id}``) from the first login on, numbers every event (``seq``)
and keeps the last ``outbox_size`` of them in memory, so a reconnecting console receives
exactly what it missed. The socket comes and goes; the line stays.

When the socket drops, a grace period starts. A reconnect within it changes nothing. At its
end the agent is set offline through the router: pending offers go back to the queue,
assigned contacts stay the agent's, and no new offers come.

The outbox is in memory: a restarted process cannot replay, so the console gets a
``snapshot`` (``resync``) instead. Numbers start at the process's start time in
milliseconds, so they only grow across restarts and an old ``last_seq`` is recognised.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from app.agents.protocol import ServerFrame, TakenOver

log = structlog.get_logger(__name__)

FrameMaker = Callable[[int], ServerFrame]
MAX_PENDING = 1000


@dataclass
class ConsoleSettings:
    """Tunable at run time through ``app.state.console.settings`` (tests shorten them)."""

    grace_seconds: float = 30.0
    heartbeat_seconds: float = 20.0
    hello_timeout_seconds: float = 5.0
    outbox_size: int = 500
    crm_url: str | None = None
    crm_timeout_seconds: float = 0.3


class Sink(Protocol):
    """One console socket, as the line sees it."""

    async def send_text(self, text: str) -> bool: ...  # False: the socket is gone

    async def close(self, code: int, reason: str) -> None: ...


class LineOwner(Protocol):
    settings: ConsoleSettings

    async def deliver(self, line: AgentLine, message: dict[str, Any]) -> None: ...

    async def grace_expired(self, agent_id: int) -> None: ...

    def listen(
        self, agent_id: int, listener: Callable[[dict[str, Any]], None]
    ) -> Callable[[], None]: ...


@dataclass(eq=False)
class AgentLine:
    agent_id: int
    owner: LineOwner
    seq: int
    outbox: deque[tuple[int, str]] = field(default_factory=deque)
    sink: Sink | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    stop_listening: Callable[[], None] | None = None
    pending: deque[dict[str, Any]] | None = None  # bus messages not yet delivered
    deliverer: asyncio.Task[None] | None = None  # runs only while messages are pending
    grace: asyncio.Task[None] | None = None
    disconnected_at: float | None = None
    away: bool = False  # the grace period ran out: offers are turned down until a login
    elsewhere: bool = False  # the console is on another instance: no grace period here
    offers_shown: dict[int, float | None] = field(default_factory=dict)  # contact: deadline
    reconciled_at: float = 0.0  # monotonic time of the last read of the offers in PostgreSQL

    # ------------------------------------------------------------ events

    async def emit(self, make: FrameMaker) -> int:
        """Number the event, keep it, send it if a socket is attached."""
        async with self.lock:
            self.seq += 1
            text = make(self.seq).model_dump_json()
            self.outbox.append((self.seq, text))
            while len(self.outbox) > self.owner.settings.outbox_size:
                self.outbox.popleft()
            await self._send(text)
            return self.seq

    async def control(self, make: FrameMaker) -> None:
        """A control frame: carries the current number, is not kept."""
        async with self.lock:
            await self._send(make(self.seq).model_dump_json())

    async def _send(self, text: str) -> None:
        if self.sink is not None and not await self.sink.send_text(text):
            self.sink = None  # the reader notices the close and detaches

    # ------------------------------------------------------------ sockets

    def can_resume(self, last_seq: int | None) -> bool:
        if last_seq is None or last_seq > self.seq:
            return False
        if last_seq == self.seq:
            return True
        return bool(self.outbox) and self.outbox[0][0] <= last_seq + 1

    async def attach(
        self, sink: Sink, last_seq: int | None, welcome: Callable[[int, bool], ServerFrame]
    ) -> bool:
        """Make ``sink`` the agent's socket; the missed events follow the welcome. True when
        resumed, False when the caller must send a snapshot."""
        self._ensure_listening()
        async with self.lock:
            self._cancel_grace()
            self.away = False
            self.elsewhere = False
            previous, self.sink = self.sink, None
            if previous is not None and previous is not sink:
                await previous.send_text(TakenOver(seq=self.seq).model_dump_json())
                await previous.close(4409, "taken over by another login")
            resumed = self.can_resume(last_seq)
            self.sink = sink
            await self._send(welcome(self.seq, resumed).model_dump_json())
            if resumed:
                for seq, text in self.outbox:
                    if last_seq is not None and seq > last_seq:
                        await self._send(text)
            return resumed

    async def detach(self, sink: Sink) -> None:
        async with self.lock:
            if (self.sink is not None and self.sink is not sink) or self.elsewhere:
                return  # taken over: the new socket owns the line
            self.sink = None
            self.disconnected_at = time.monotonic()
            self._cancel_grace()
            self.grace = asyncio.create_task(self._grace_period())

    async def moved_elsewhere(self) -> None:
        """The agent's console attached on another instance: that one owns the agent now.
        A socket here is told it was taken over and closed; no grace period runs here."""
        async with self.lock:
            self._cancel_grace()
            self.away = False
            self.elsewhere = True
            previous, self.sink = self.sink, None
            if previous is not None:
                await previous.send_text(TakenOver(seq=self.seq).model_dump_json())
                await previous.close(4409, "taken over by another login")

    @property
    def connected(self) -> bool:
        return self.sink is not None

    async def _grace_period(self) -> None:
        await asyncio.sleep(self.owner.settings.grace_seconds)
        if self.sink is None:
            log.info("console_grace_expired", agent_id=self.agent_id)
            self.away = True
            await self.owner.grace_expired(self.agent_id)

    def _cancel_grace(self) -> None:
        if self.grace is not None and not self.grace.done():
            self.grace.cancel()
        self.grace = None

    # ------------------------------------------------------------ the bus

    def _ensure_listening(self) -> None:
        if self.stop_listening is None:
            self.stop_listening = self.owner.listen(self.agent_id, self._on_message)

    def _on_message(self, message: dict[str, Any]) -> None:
        """Take a bus message; an idle line has no task, a busy one exactly one."""
        if self.pending is None:
            self.pending = deque()
        if len(self.pending) >= MAX_PENDING:  # a stalled line loses its oldest, as a queue
            self.pending.popleft()
            log.warning("console_line_backlog", agent_id=self.agent_id)
        self.pending.append(message)
        if self.deliverer is None:
            self.deliverer = asyncio.create_task(self._deliver_pending())

    async def _deliver_pending(self) -> None:
        """Deliver in order until nothing is pending, then end (no await after the check)."""
        try:
            while self.pending:
                message = self.pending.popleft()
                try:
                    await self.owner.deliver(self, message)
                except Exception:  # one bad event must not stop the agent's feed
                    log.exception("console_delivery_failed", agent_id=self.agent_id)
        finally:
            self.pending = None
            self.deliverer = None

    async def stop(self) -> None:
        self._cancel_grace()
        if self.stop_listening is not None:
            self.stop_listening()
            self.stop_listening = None
        task = self.deliverer
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


class Lines:
    """Every agent's line, created on first login."""

    def __init__(self, owner: LineOwner) -> None:
        self.owner = owner
        self.seq_base = int(time.time() * 1000)
        self._lines: dict[int, AgentLine] = {}

    def get(self, agent_id: int) -> AgentLine:
        line = self._lines.get(agent_id)
        if line is None:
            line = AgentLine(agent_id, self.owner, self.seq_base)
            self._lines[agent_id] = line
        return line

    def find(self, agent_id: int) -> AgentLine | None:
        return self._lines.get(agent_id)

    def connected_agents(self) -> list[int]:
        return [agent_id for agent_id, line in self._lines.items() if line.connected]

    def connected_count(self) -> int:
        return sum(1 for line in self._lines.values() if line.connected)

    async def stop_all(self) -> None:
        await asyncio.gather(*(line.stop() for line in self._lines.values()))
