"""Delivering events to whoever listens: agent consoles, chat visitors, supervisors.

Producers publish after their transaction commits (see ``app.database.after_commit``).
Two ways to listen: ``subscribe`` gives a bounded queue for a reader task of its own;
``listen`` registers a callback, for the thousands of idle agent lines that should not
each keep a queue and a task (the callback must only take the message, not work on it).

Two implementations behind the one ``EventBus`` interface, chosen by ``CONTACTD_BUS_URL``
(``bus_from_url``):

* ``InProcessBus`` (unset): one instance, delivery inside the process.
* ``RedisBus`` (``redis://``): every instance publishes to Redis pub/sub and hears what
  the others publish. A message is delivered to this instance's own listeners at once,
  without the round trip, and to the others' through Redis; an instance ignores its own
  messages coming back. Every message crosses the wire as one ``Envelope``.

Topics starting with ``channel:`` are work for the instance that produced them (the router's
news for the voice and chat runtimes: each must be acted on once), so they never leave it.

Redis pub/sub is at most once: a message published while an instance's subscription is
down is lost for that instance. What it would have told is in PostgreSQL, so when the
subscription comes back every local listener and subscriber receives ``BUS_RESYNC`` and
reads what it missed (agent lines their offers, chat sockets their transcript). An instance
whose connection came back also asks every other instance to do the same (``RESYNC_TOPIC``):
what it could not publish meanwhile is lost for them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal, Protocol

import orjson
import structlog

Message = dict[str, Any]
Listener = Callable[[Message], None]
BusState = Literal["in_process", "up", "down"]
log = structlog.get_logger(__name__)

BUS_VERSION = 1
"""The envelope's version: raised only by a change an older release cannot read. During a
rolling deploy an instance drops (and counts) envelopes of versions newer than its own;
payload fields are only ever added, so older readers ignore what they do not know."""

LOCAL_PREFIXES = ("channel:",)
BUS_RESYNC: Message = {"type": "bus_resync"}
RESYNC_TOPIC = "bus:resync"


def is_local(topic: str) -> bool:
    """Topics that never leave the producing instance (see the module docstring)."""
    return topic.startswith(LOCAL_PREFIXES)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """One message on the wire between instances; ``encode``/``decode`` are its one
    serializer (JSON through orjson)."""

    topic: str
    payload: Message
    origin: str
    version: int = BUS_VERSION

    def encode(self) -> bytes:
        return orjson.dumps(dataclasses.asdict(self))

    @classmethod
    def decode(cls, raw: bytes | str) -> Envelope:
        """The envelope in ``raw``; ValueError when it is not one."""
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("an envelope is a JSON object")
        topic, payload, origin = data.get("topic"), data.get("payload"), data.get("origin")
        version = data.get("version")
        if not (
            isinstance(topic, str)
            and isinstance(payload, dict)
            and isinstance(origin, str)
            and isinstance(version, int)
        ):
            raise ValueError("an envelope has topic, payload, origin and version")
        return cls(topic=topic, payload=payload, origin=origin, version=version)


class EventBus(Protocol):
    @property
    def state(self) -> BusState: ...

    async def publish(self, topic: str, message: Message) -> None: ...

    def subscribe(self, topic: str) -> Any: ...

    def listen(self, topic: str, listener: Listener) -> Callable[[], None]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class InProcessBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._listeners: dict[str, list[Listener]] = {}
        self._queue_size = queue_size

    @property
    def state(self) -> BusState:
        return "in_process"

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, topic: str, message: Message) -> None:
        self.deliver(topic, message)

    def deliver(self, topic: str, message: Message) -> None:
        """Hand ``message`` to this process's subscribers and listeners of ``topic``."""
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():  # a stalled reader loses its oldest message, not the others theirs
                queue.get_nowait()
            queue.put_nowait(message)
        for listener in list(self._listeners.get(topic, ())):
            try:
                listener(message)
            except Exception:  # one broken listener must not cost the others their message
                log.exception("bus_listener_failed", topic=topic)

    def resync(self) -> None:
        """Tell every subscriber and listener that messages may have been lost."""
        for topic in {*self._subscribers, *self._listeners}:
            self.deliver(topic, BUS_RESYNC)

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


class RedisBus:
    """Redis pub/sub between instances (see the module docstring).

    One subscription per instance (a pattern over ``prefix``), kept by a task that
    reconnects by itself with a capped backoff. While it is down, ``state`` is ``down``
    (``/readyz`` says so), publishing to the others is skipped and counted, and this
    instance's own listeners are still served.
    """

    def __init__(
        self,
        url: str,
        *,
        origin: str,
        prefix: str = "contactd:",
        queue_size: int = 1000,
        retry_max_seconds: float = 2.0,
    ) -> None:
        from redis.asyncio import Redis

        self.origin = origin
        self.prefix = prefix
        self.local = InProcessBus(queue_size)
        self.retry_max_seconds = retry_max_seconds
        self.published = 0
        self.skipped = 0  # not sent to the others: the bus was down
        self.dropped = 0  # heard but not delivered: malformed or of a newer version
        self._redis = Redis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=5
        )
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> BusState:
        return "up" if self._up.is_set() else "down"

    async def wait_up(self) -> None:
        await self._up.wait()

    async def start(self) -> None:
        """Start the subscription; returns once it is up or after its first attempt."""
        self._task = asyncio.create_task(self._subscribed(), name="bus:redis")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), 2.0)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    async def publish(self, topic: str, message: Message) -> None:
        self.local.deliver(topic, message)
        if is_local(topic):
            return
        if not self._up.is_set():
            self.skipped += 1
            return
        envelope = Envelope(topic=topic, payload=message, origin=self.origin)
        try:
            await self._redis.publish(self.prefix + topic, envelope.encode())
        except Exception as exc:  # the subscription task notices and reconnects
            self.skipped += 1
            log.warning("bus_publish_failed", error=type(exc).__name__)
            return
        self.published += 1

    def listen(self, topic: str, listener: Listener) -> Callable[[], None]:
        return self.local.listen(topic, listener)

    def subscribe(self, topic: str) -> Any:
        return self.local.subscribe(topic)

    async def _subscribed(self) -> None:
        delay = 0.05
        connected_before = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self._up.set()
                delay = 0.05
                log.info("bus_up")
                self.local.resync()  # whatever was published while we were away
                if connected_before:  # and what we could not publish to the others
                    await self.publish(RESYNC_TOPIC, BUS_RESYNC)
                connected_before = True
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._up.is_set():
                    log.warning("bus_down", error=type(exc).__name__)
                self._up.clear()
            finally:
                self._up.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max_seconds)

    async def _read(self, pubsub: Any) -> None:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "pmessage":
                self._receive(message["data"])

    def _receive(self, raw: bytes) -> None:
        try:
            envelope = Envelope.decode(raw)
        except ValueError:
            self.dropped += 1
            log.warning("bus_message_malformed")
            return
        if envelope.origin == self.origin:
            return
        if envelope.version > BUS_VERSION:
            self.dropped += 1
            return
        if envelope.topic == RESYNC_TOPIC:
            self.local.resync()
            return
        self.local.deliver(envelope.topic, envelope.payload)


def bus_from_url(url: str | None, *, origin: str, prefix: str = "contactd:") -> EventBus:
    """The bus ``CONTACTD_BUS_URL`` names: in-process when unset, Redis for ``redis://``
    and ``rediss://``; ValueError for any other scheme."""
    if not url:
        return InProcessBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, origin=origin, prefix=prefix)
    raise ValueError("CONTACTD_BUS_URL must start with redis:// or rediss://")
