"""Delivering events to whoever listens: agent consoles, chat visitors, supervisors.

Producers publish after their transaction commits (see ``app.database.after_commit``);
subscribers read from a bounded queue. This implementation is in-process; a PostgreSQL
LISTEN/NOTIFY or Redis bus can take its place behind the same two methods when the service
runs as several instances.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

Message = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, topic: str, message: Message) -> None: ...

    def subscribe(self, topic: str) -> Any: ...


class InProcessBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._queue_size = queue_size

    async def publish(self, topic: str, message: Message) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():  # a stalled reader loses its oldest message, not the others theirs
                queue.get_nowait()
            queue.put_nowait(message)

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
