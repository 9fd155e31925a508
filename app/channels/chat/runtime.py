"""What the chat channel runs beside the API while the service is up.

* Which visitors are connected to this instance, and a grace timer for each chat whose
  visitor is gone while still waiting: a visitor who closed the tab is taken out of line
  (abandoned) instead of being offered to an agent who would talk to nobody.
* Visitors connected to other instances: each instance announces its visitors on the bus
  topic ``visitors`` (``VisitorPresent``), and a visitor announced elsewhere has no timer
  here. With the bus down a timer that runs out waits another period instead of abandoning
  (the visitor may be connected elsewhere); when the bus is back every instance announces
  its visitors again.
* A watch on ``channel:chat``: a chat the visitor ended while an agent's accept was on its
  way arrives assigned; it is ended at once so the agent is not left with an empty chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Literal

import structlog
from fastapi import FastAPI

from app.channels.chat import service
from app.database import Database
from app.events.bus import EventBus
from app.routing.core.engine import RoutingError
from app.routing.core.model import QueuePosition

log = structlog.get_logger(__name__)

PRESENCE_TOPIC = "visitors"


@dataclasses.dataclass(frozen=True)
class VisitorPresent:
    """On ``visitors``: the visitor of ``session_id`` is connected to ``instance``."""

    session_id: str
    instance: str
    type: Literal["visitor_present"] = "visitor_present"

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ChatRuntime:
    def __init__(
        self,
        app: FastAPI,
        *,
        hello_timeout_seconds: float = 5.0,
        idle_timeout_seconds: float = 60.0,
        abandon_after_seconds: float = 60.0,
        position_interval_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.hello_timeout_seconds = hello_timeout_seconds
        self.idle_timeout_seconds = idle_timeout_seconds  # the widget pings every ~20 s
        self.abandon_after_seconds = abandon_after_seconds
        self.position_interval_seconds = position_interval_seconds
        self._present: dict[uuid.UUID, int] = {}  # session -> sockets open here
        self._timers: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop_listening: Callable[[], None] | None = None

    @property
    def db(self) -> Database:
        db: Database = self.app.state.db
        return db

    @property
    def bus(self) -> EventBus:
        bus: EventBus = self.app.state.bus
        return bus

    @property
    def connections(self) -> int:
        return sum(self._present.values())

    @property
    def waiting_timers(self) -> int:
        return len(self._timers)

    def position(self, contact_id: int) -> QueuePosition | None:
        """From the router's engine; None on an instance that is not the router or for a
        contact it is not routing (yet)."""
        distributor = getattr(self.app.state, "distributor", None)
        engine = None if distributor is None else distributor.engine
        if engine is None:
            return None
        try:
            found: QueuePosition = engine.position(str(contact_id), time.time())
        except RoutingError:
            return None
        return found

    # ------------------------------------------------------------------ lifecycle

    @property
    def instance(self) -> str:
        instance: str = getattr(self.app.state, "instance", "")
        return instance

    def start(self) -> None:
        self._spawn(self._watch_assignments())
        self._stop_listening = self.bus.listen(PRESENCE_TOPIC, self._on_presence)

    def _on_presence(self, message: dict[str, Any]) -> None:
        if message.get("type") == "bus_resync":
            for session_id in self._present:
                self._announce(session_id)
            return
        if message.get("type") != "visitor_present" or message.get("instance") == self.instance:
            return
        with contextlib.suppress(ValueError, TypeError):
            timer = self._timers.pop(uuid.UUID(str(message.get("session_id"))), None)
            if timer is not None:
                timer.cancel()

    def _announce(self, session_id: uuid.UUID) -> None:
        present = VisitorPresent(str(session_id), self.instance)
        self._spawn(self.bus.publish(PRESENCE_TOPIC, present.payload()))

    async def stop(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
        tasks = [*self._tasks, *self._timers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._timers.clear()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ visitors

    def expect_visitor(self, session_id: uuid.UUID, contact_id: int) -> None:
        """A new session: its visitor has ``abandon_after_seconds`` to connect."""
        self._arm(session_id, contact_id)

    def visitor_connected(self, session_id: uuid.UUID) -> None:
        self._present[session_id] = self._present.get(session_id, 0) + 1
        timer = self._timers.pop(session_id, None)
        if timer is not None:
            timer.cancel()
        self._announce(session_id)

    def visitor_left(self, session_id: uuid.UUID, contact_id: int, *, ended: bool) -> None:
        left = self._present.get(session_id, 1) - 1
        if left > 0:
            self._present[session_id] = left
            return
        self._present.pop(session_id, None)
        if not ended:
            self._arm(session_id, contact_id)

    def _arm(self, session_id: uuid.UUID, contact_id: int) -> None:
        previous = self._timers.pop(session_id, None)
        if previous is not None:
            previous.cancel()
        timer = asyncio.create_task(self._abandon_unless_back(session_id, contact_id))
        self._timers[session_id] = timer
        timer.add_done_callback(lambda done: self._forget_timer(session_id, done))

    def _forget_timer(self, session_id: uuid.UUID, done: asyncio.Task[None]) -> None:
        if self._timers.get(session_id) is done:
            del self._timers[session_id]

    async def _abandon_unless_back(self, session_id: uuid.UUID, contact_id: int) -> None:
        await asyncio.sleep(self.abandon_after_seconds)
        if self._present.get(session_id):
            return
        if self.bus.state == "down":  # the visitor may be on an instance we cannot hear
            self._spawn(self._rearm_later(session_id, contact_id))
            return
        try:
            async with self.db.unit_of_work() as session:
                outcome = await service.end_chat(
                    session, self.bus, contact_id, "visitor", only_while_waiting=True
                )
        except Exception as exc:  # the contact may be gone; never let a timer crash loudly
            log.warning("chat_abandon_failed", contact_id=contact_id, error=type(exc).__name__)
            return
        if outcome is not None and not outcome.already:
            log.info("chat_visitor_gone", contact_id=contact_id, routing=outcome.routing)

    async def _rearm_later(self, session_id: uuid.UUID, contact_id: int) -> None:
        await asyncio.sleep(0)  # after the finished timer forgot itself
        if session_id not in self._timers and not self._present.get(session_id):
            self._arm(session_id, contact_id)

    # ------------------------------------------------------------------ assignments

    async def _watch_assignments(self) -> None:
        async with self.bus.subscribe("channel:chat") as queue:
            while True:
                event = await queue.get()
                if event.get("type") == "assigned":
                    await self._end_if_visitor_gone(int(event["contact_id"]))

    async def _end_if_visitor_gone(self, contact_id: int) -> None:
        try:
            async with self.db.unit_of_work() as session:
                if await service.end_if_visitor_gone(session, contact_id):
                    log.info("chat_assigned_after_visitor_left", contact_id=contact_id)
        except Exception as exc:  # e.g. a chat contact created through the generic API
            log.warning(
                "chat_assignment_check_failed", contact_id=contact_id, error=type(exc).__name__
            )


def chat_runtime(app: FastAPI) -> ChatRuntime:
    runtime: ChatRuntime = app.state.chat
    return runtime


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    runtime = ChatRuntime(app)
    app.state.chat = runtime
    runtime.start()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await runtime.stop()
