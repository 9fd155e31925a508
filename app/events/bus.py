"""Delivering events to whoever listens: agent consoles, chat visitors, supervisors.

Producers publish after their transaction commits (see ``app.database.after_commit``).
Two ways to listen: ``subscribe`` gives a bounded queue for a reader task of its own;
``listen`` registers a callback, for the thousands of idle agent lines that should not
each keep a queue and a task (the callback must only take the message, not work on it).
This implementation is in-process; a PostgreSQL LISTEN/NOTIFY or Redis bus can take its
place behind the same methods when the service runs as several instances.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog

Message = dict[str, Any]
Listener = Callable[[Message], None]
log = structlog.get_logger(__name__)


class EventBus(Protocol):
    async def publish(self, topic: str, message: Message) -> None: ...

    def subscribe(self, topic: str) -> Any: ...

    def listen(self, topic: str, listener: Listener) -> Callable[[], None]: ...


class InProcessBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._listeners: dict[str, list[Listener]] = {}
        self._queue_size = queue_size

    async def publish(self, topic: str, message: Message) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():  # a stalled reader loses its oldest message, not the others theirs
                queue.get_nowait()
            queue.put_nowait(message)
        for listener in list(self._listeners.get(topic, ())):
            try:
                listener(message)
            except Exception:  # one broken listener must not cost the others their message
                log.exception("bus_listener_failed", topic=topic)

    def listen(self, topic: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every message on ``topic``; returns the way to stop."""
        self._listeners.setdefault(topic, []).append(listener)

        def stop() -> None:
            listeners = self._listeners.get(topic, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(topic, None)

        return stop

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]
