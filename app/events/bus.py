"""Delivering events to whoever listens: agent consoles, chat visitors, supervisors.

Producers publish after their transaction commits (see ``app.database.after_commit``).
Two ways to listen: ``subscribe`` gives a bounded queue for a reader task of its own;
``listen`` registers a callback, for the thousands of idle agent lines that should not
each keep a queue and a task (the callback must only take the message, not work on it).

Three implementations behind the one ``EventBus`` interface, chosen by
``CONTACTD_BUS_URL`` (``bus_from_url``):

* ``InProcessBus`` (unset): one instance, delivery inside the process.
* ``RedisBus`` (``redis://``) and ``NatsBus`` (``nats://``, core NATS subjects): every
  instance publishes to the server and hears what the others publish (what both share is
  ``BetweenInstances``). A message is delivered to this instance's own listeners at once,
  without the round trip, and to the others' through the server; an instance ignores its
  own messages coming back. Every message crosses the wire as one ``Envelope``.

Topics starting with ``channel:`` are work for the instance that produced them (the router's
news for the voice and chat runtimes: each must be acted on once), so they never leave it.

Redis pub/sub and core NATS are at most once: a message published while an instance's
subscription is down is lost for that instance. What it would have told is in PostgreSQL,
so when the subscription comes back every local listener and subscriber receives
``BUS_RESYNC`` and reads what it missed (agent lines their offers, chat sockets their
transcript). An instance whose connection came back also asks every other instance to do
the same (``RESYNC_TOPIC``): what it could not publish meanwhile is lost for them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import string
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
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

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        """Publish each ``(topic, message)`` in order; a bus between instances sends them
        to the others in one round trip."""
        ...

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

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        for topic, message in messages:
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


class BetweenInstances:
    """What every bus between instances shares (see the module docstring): local delivery
    first, ``channel:`` topics kept local, one ``Envelope`` per message, own messages and
    newer versions ignored, resync when the connection comes back, and the counters.

    A subclass sends bytes (``_send``) and keeps its connection in one task
    (``_keep_connected``), calling ``_connected`` each time it is up (again),
    ``_disconnected`` when it is lost, and ``_receive`` with every envelope it hears; it
    reconnects by itself, ``retry_seconds`` apart at most. While it is down, ``state`` is
    ``down`` (``/readyz`` says so), publishing to the others is skipped and counted, and
    this instance's own listeners are still served.
    """

    default_retry_seconds = 2.0

    def __init__(
        self,
        url: str,
        *,
        origin: str,
        prefix: str = "contactd:",
        queue_size: int = 1000,
        retry_seconds: float | None = None,
    ) -> None:
        self.url = url
        self.origin = origin
        self.prefix = prefix
        self.retry_seconds = retry_seconds or self.default_retry_seconds
        self._open()
        self.local = InProcessBus(queue_size)
        self.published = 0
        self.skipped = 0  # not sent to the others: the bus was down
        self.dropped = 0  # heard but not delivered: malformed or of a newer version
        self._up = asyncio.Event()
        self._connected_before = False
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> BusState:
        return "up" if self._up.is_set() else "down"

    async def wait_up(self) -> None:
        await self._up.wait()

    async def start(self) -> None:
        """Start keeping the connection; returns once it is up or after two seconds, the
        connection still being tried in the background."""
        self._task = asyncio.create_task(self._keep_connected(), name=f"bus:{self.origin}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), 2.0)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._up.clear()  # closing is not the bus going down
        await self._close_connection()

    def _open(self) -> None:
        """Make the client (it connects in ``_keep_connected``)."""
        raise NotImplementedError

    async def _keep_connected(self) -> None:
        raise NotImplementedError

    async def _close_connection(self) -> None:
        raise NotImplementedError

    async def _send(self, topic: str, data: bytes) -> None:
        raise NotImplementedError

    async def _send_many(self, wire: list[tuple[str, bytes]]) -> None:
        """Send each ``(topic, encoded envelope)``; a subclass may batch them."""
        for topic, data in wire:
            await self._send(topic, data)

    async def publish(self, topic: str, message: Message) -> None:
        await self.publish_many([(topic, message)])

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        for topic, message in messages:
            self.local.deliver(topic, message)
        remote = [(topic, message) for topic, message in messages if not is_local(topic)]
        if not remote:
            return
        if not self._up.is_set():
            self.skipped += len(remote)
            return
        wire = [
            (topic, Envelope(topic=topic, payload=message, origin=self.origin).encode())
            for topic, message in remote
        ]
        try:
            await self._send_many(wire)
        except Exception as exc:  # the connection's keeper notices and reconnects
            self.skipped += len(wire)
            log.warning("bus_publish_failed", error=type(exc).__name__)
            return
        self.published += len(wire)

    def listen(self, topic: str, listener: Listener) -> Callable[[], None]:
        return self.local.listen(topic, listener)

    def subscribe(self, topic: str) -> Any:
        return self.local.subscribe(topic)

    async def _connected(self) -> None:
        self._up.set()
        log.info("bus_up")
        self.local.resync()  # whatever was published while we were away
        if self._connected_before:  # and what we could not publish to the others
            await self.publish(RESYNC_TOPIC, BUS_RESYNC)
        self._connected_before = True

    def _disconnected(self, error: str | None = None) -> None:
        if self._up.is_set():
            log.warning("bus_down", error=error)
        self._up.clear()

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


class RedisBus(BetweenInstances):
    """Redis pub/sub between instances (see ``BetweenInstances``).

    One subscription per instance (a pattern over ``prefix``), kept by a task that
    reconnects by itself with a backoff from 50 ms doubling to ``retry_seconds``.
    """

    def _open(self) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(
            self.url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=5
        )

    async def _close_connection(self) -> None:
        await self._redis.aclose()

    async def _send(self, topic: str, data: bytes) -> None:
        await self._redis.publish(self.prefix + topic, data)

    async def _send_many(self, wire: list[tuple[str, bytes]]) -> None:
        if len(wire) == 1:
            await self._send(*wire[0])
            return
        async with self._redis.pipeline(transaction=False) as pipe:  # one round trip
            for topic, data in wire:
                pipe.publish(self.prefix + topic, data)
            await pipe.execute()

    async def _keep_connected(self) -> None:
        delay = 0.05
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.prefix + "*")
                delay = 0.05
                await self._connected()
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._disconnected(type(exc).__name__)
            finally:
                self._up.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_seconds)

    async def _read(self, pubsub: Any) -> None:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "pmessage":
                self._receive(message["data"])


SUBJECT_SAFE = frozenset(string.ascii_letters + string.digits + "-_:")


def subject_token(text: str) -> str:
    """``text`` as one NATS subject token: ASCII letters, digits, ``-``, ``_`` and ``:``
    stay, every other byte of its UTF-8 (``.``, spaces, the wildcards ``*`` and ``>``,
    ``%`` itself, non-ASCII) becomes ``%XX``. Distinct texts give distinct tokens; the
    empty text gives none (topics are never empty)."""
    return "".join(
        chr(byte) if chr(byte) in SUBJECT_SAFE else f"%{byte:02X}" for byte in text.encode()
    )


def subject_root(prefix: str) -> str:
    """The deployment's first subject token: ``prefix`` without its trailing ``:`` or
    ``.`` (``contactd:`` gives ``contactd``), as one token (``subject_token``)."""
    return subject_token(prefix.rstrip(":.") or "contactd")


def nats_subject(prefix: str, topic: str) -> str:
    """The subject of ``topic``: ``{root}.{topic as one token}`` (``subject_root``)."""
    return f"{subject_root(prefix)}.{subject_token(topic)}"


class NatsBus(BetweenInstances):
    """Core NATS subjects between instances (see ``BetweenInstances``): at most once,
    like Redis pub/sub; no JetStream stream (docs/bus.md says why).

    ``url`` may name several servers of a cluster, comma-separated
    (``nats://a:4222,nats://b:4222``); the servers a cluster announces are added to them.
    One subscription per instance (``{root}.>``). nats-py keeps the connection: it
    reconnects by itself every ``retry_seconds`` (to any of the servers) and subscribes
    again, and its callbacks report the connection lost and back.
    """

    default_retry_seconds = 0.5

    def _open(self) -> None:
        import nats.aio.client

        self._nats = nats.aio.client.Client()

    async def _close_connection(self) -> None:
        with contextlib.suppress(Exception):
            await self._nats.close()

    async def _send(self, topic: str, data: bytes) -> None:
        await self._nats.publish(nats_subject(self.prefix, topic), data)

    async def _keep_connected(self) -> None:
        await self._nats.connect(
            [server.strip() for server in self.url.split(",")],
            name=f"contactd {self.origin}",
            connect_timeout=1,
            reconnect_time_wait=self.retry_seconds,  # type: ignore[arg-type]
            max_reconnect_attempts=-1,  # the first connection too, until it succeeds
            ping_interval=5,
            max_outstanding_pings=2,
            no_echo=True,  # our own messages are delivered locally already
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._connected,
        )
        await self._nats.subscribe(f"{subject_root(self.prefix)}.>", cb=self._on_message)
        await self._nats.flush()
        await self._connected()

    async def _on_message(self, message: Any) -> None:
        self._receive(message.data)

    async def _on_disconnected(self) -> None:
        self._disconnected()

    async def _on_error(self, error: Exception) -> None:
        log.debug("bus_connection_error", error=type(error).__name__)


def bus_from_url(url: str | None, *, origin: str, prefix: str = "contactd:") -> EventBus:
    """The bus ``CONTACTD_BUS_URL`` names: in-process when unset, Redis for ``redis://``
    and ``rediss://``, NATS for ``nats://`` and ``tls://``; ValueError for any other
    scheme."""
    if not url:
        return InProcessBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url, origin=origin, prefix=prefix)
    if url.startswith(("nats://", "tls://")):
        return NatsBus(url, origin=origin, prefix=prefix)
    raise ValueError("CONTACTD_BUS_URL must start with redis://, rediss://, nats:// or tls://")
