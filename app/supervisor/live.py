"""The live shell around the metrics core: tail the event log, fan out coalesced deltas.

One ``Hub`` per process. It follows ``contact_events`` by id on a connection of its own
(one short query per poll; the bus topic ``routing`` wakes it early), feeds the rows to one
``Aggregator`` and, every ``flush_seconds``, sends each connected supervisor the queues and
agents that changed since its last message. A supervisor who reads slowly gets the changes
merged into one message, never a backlog.

Ids are drawn at insert, so a row can commit after a row with a higher id: ids skipped by
a poll are kept as gaps and asked for again (``id = ANY(gaps)``) until they show up or
``gap_seconds`` pass (a rolled-back insert leaves a permanent gap).

The tail's connection (``supervisor_tail``) reopens by itself when it ends
(``app.resilience.reconnect``); the next poll reads on from the last id seen, so nothing
committed meanwhile is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from app import fastjson
from app.database import connect_long_lived
from app.events.bus import EventBus
from app.resilience.reconnect import ConnectionHealth, KeptConnection, report_failure
from app.routing.core.engine import RoutingEngine
from app.supervisor import alarms, metrics, prom
from app.supervisor.metrics import DAY, Aggregator, Buckets, Event, Target
from app.supervisor.views import agent_view, queue_view

log = structlog.get_logger(__name__)

TAIL_CONNECTION = "supervisor_tail"
LOOKBACK_SECONDS = DAY  # events read before the day starts, to know who waits and who works

# New rows after the last id seen, and rows that were still uncommitted gaps below it. Two
# branches, not ``id > $1 OR id = ANY($2)``: with the OR, PostgreSQL walked the primary key
# from the first event of all time on every poll (a full scan five times a second).
_TAIL = """
(SELECT id, kind, contact_id, agent_id, extract(epoch FROM occurred_at)::float8, payload
 FROM contact_events WHERE id > $1 ORDER BY id LIMIT $3)
UNION ALL
(SELECT id, kind, contact_id, agent_id, extract(epoch FROM occurred_at)::float8, payload
 FROM contact_events WHERE id = ANY($2::bigint[]) AND id <= $1)
ORDER BY 1
"""
_SINCE = """
SELECT id, kind, contact_id, agent_id, extract(epoch FROM occurred_at)::float8, payload
FROM contact_events
WHERE occurred_at >= to_timestamp($1) AND id > $2 ORDER BY id LIMIT $3
"""
_TARGETS = "SELECT name, sl_target_percent, sl_target_seconds FROM queues"
# Agents with every skill a queue needs at its minimum level: who may serve the queue.
_MEMBERS = """
SELECT q.name, u.id FROM queues q CROSS JOIN users u
WHERE u.role = 'agent' AND u.is_active AND NOT EXISTS (
    SELECT 1 FROM queue_skills qs WHERE qs.queue_id = q.id AND NOT EXISTS (
        SELECT 1 FROM agent_skills s
        WHERE s.user_id = u.id AND s.skill_id = qs.skill_id AND s.proficiency >= qs.min_level))
"""


def to_event(row: asyncpg.Record) -> Event:
    payload = row[5]
    return Event(
        id=row[0],
        kind=row[1],
        contact_id=row[2],
        agent_id=row[3],
        at=row[4],
        payload=dict(fastjson.decoded(payload) or {}),
    )


async def load_targets(conn: asyncpg.Connection) -> dict[str, Target]:
    return {r[0]: Target(r[1], float(r[2])) for r in await conn.fetch(_TARGETS)}


async def load_members(conn: asyncpg.Connection) -> dict[str, set[int]]:
    members: dict[str, set[int]] = {}
    for queue, agent_id in await conn.fetch(_MEMBERS):
        members.setdefault(queue, set()).add(agent_id)
    return members


EVENTS_KEPT = 1000  # frames waiting for a slow reader; the oldest go first


@dataclass(eq=False)
class Connection:
    """One supervisor's websocket: what it follows and what it has not been sent yet.

    Two kinds of output: the live view (``snapshot``/``delta``), where a slow reader gets
    the changes merged into one message (``push``/``take``), and frames that must arrive
    as they are and in order (consult requests, results, errors: ``push_event``)."""

    send: Callable[[str], Any]
    queues: frozenset[str] | None = None  # None: every queue
    pending: dict[str, Any] | None = None
    pending_text: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    events: deque[str] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))

    def follows(self, queue: str) -> bool:
        return self.queues is None or queue in self.queues

    def push(self, message: dict[str, Any], text: str) -> None:
        if self.pending is None:
            self.pending, self.pending_text = message, text
        else:
            _merge(self.pending, message)
            self.pending_text = None
        self.wake.set()

    def push_event(self, text: str) -> None:
        self.events.append(text)
        self.wake.set()

    def take(self) -> str | None:
        message, text = self.pending, self.pending_text
        self.pending = self.pending_text = None
        if not self.events:
            self.wake.clear()
        if message is None:
            return None
        return text if text is not None else json.dumps(message)

    def take_all(self) -> list[str]:
        """Everything to send now: the live view's message first, then the events."""
        view = self.take()
        out = [] if view is None else [view]
        out.extend(self.events)
        self.events.clear()
        self.wake.clear()
        return out


def _merge(into: dict[str, Any], newer: dict[str, Any]) -> None:
    if newer.get("type") == "snapshot":
        into.clear()
        into.update(newer)
        return
    into["at"] = newer["at"]
    for key in ("queues", "agents"):
        into.setdefault(key, {}).update(newer.get(key, {}))
    if "alarms" in newer:
        into["alarms"] = newer["alarms"]


class Hub:
    def __init__(
        self,
        database_url: str,
        bus: EventBus,
        engine: Callable[[], RoutingEngine | None],
        *,
        poll_seconds: float = 0.2,
        flush_seconds: float = 0.25,
        gap_seconds: float = 10.0,
        config_seconds: float = 2.0,
        batch: int = 5000,
        clock: Callable[[], float] = time.time,
        health: ConnectionHealth | None = None,
    ) -> None:
        self.url = database_url
        self.bus = bus
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.flush_seconds = flush_seconds
        self.gap_seconds = gap_seconds
        self.config_seconds = config_seconds
        self.batch = batch
        self.clock = clock
        self.agg = Aggregator(Buckets(origin=0.0, width=DAY))
        self.members: dict[str, set[int]] = {}
        self.connections: set[Connection] = set()
        self.last_id = 0
        self.gaps: dict[int, float] = {}  # id not seen yet -> when it was first missed
        self.bucket = 0
        self.alarms: list[dict[str, Any]] = []
        self.metrics = prom.SupervisorMetrics()
        self._wake = asyncio.Event()
        self._tail = KeptConnection(
            TAIL_CONNECTION,
            lambda: connect_long_lived(self.url, name=TAIL_CONNECTION),
            health or ConnectionHealth(),
            caught_up=self._poll_now,
        )
        self._lock = asyncio.Lock()  # one connection, one query at a time
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self._tail.open()
        await self.refresh_config()
        await self._load_today()
        self.ready.set()
        self._tasks = [
            asyncio.create_task(self._tail_loop(), name="supervisor:tail"),
            asyncio.create_task(self._flush_loop(), name="supervisor:flush"),
            asyncio.create_task(self._listen_routing(), name="supervisor:routing"),
            asyncio.create_task(self._config_loop(), name="supervisor:config"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._tail.close()

    async def refresh_config(self) -> None:
        """Reread the targets and the queues' members; nothing while the tail is down."""
        async with self._lock:
            conn = self._tail.connection
            if conn is None:
                return
            self.agg.targets = await load_targets(conn)
            self.members = await load_members(conn)

    async def _load_today(self) -> None:
        conn = self._tail.connection
        assert conn is not None
        now = self.clock()
        self.bucket = self.agg.buckets.of(now) or 0
        since = self.bucket * DAY - LOOKBACK_SECONDS
        while True:
            rows = await conn.fetch(_SINCE, since, self.last_id, self.batch)
            self.agg.apply_all(to_event(r) for r in rows)
            if rows:
                self.last_id = rows[-1][0]
            if len(rows) < self.batch:
                break
        self.agg.prune_before(self.bucket)

    # ------------------------------------------------------------------ tailing

    async def _tail_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                while await self.poll() >= self.batch:
                    pass
            except Exception as exc:  # the loop outlives a failed round: an ended connection
                report_failure("supervisor_tail_failed", exc)  # reopens by itself

    async def _poll_now(self) -> None:
        self._wake.set()

    async def poll(self) -> int:
        """Read and apply the rows committed since the last poll; return how many (none
        while the tail's connection is down)."""
        async with self._lock:
            conn = self._tail.connection
            if conn is None:
                return 0
            rows = await conn.fetch(_TAIL, self.last_id, list(self.gaps), self.batch)
        self.absorb([to_event(r) for r in rows])
        return len(rows)

    def absorb(self, events: list[Event]) -> None:
        now = self.clock()
        for event in events:
            if event.id in self.gaps:
                del self.gaps[event.id]
            elif event.id > self.last_id:
                for missing in range(self.last_id + 1, min(event.id, self.last_id + 10_001)):
                    self.gaps[missing] = now
                self.last_id = event.id
            else:
                continue  # seen already
            self.agg.apply(event)
            self.metrics.event(event, now)
        if self.gaps:
            stale = [i for i, first in self.gaps.items() if now - first > self.gap_seconds]
            for gap in stale:
                del self.gaps[gap]

    async def _listen_routing(self) -> None:
        async with self.bus.subscribe("routing") as queue:
            while True:
                await queue.get()
                self._wake.set()

    async def _config_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config_seconds)
            before = (dict(self.agg.targets), {q: set(a) for q, a in self.members.items()})
            try:
                await self.refresh_config()
            except Exception as exc:
                report_failure("supervisor_config_failed", exc)
                continue
            if before != (self.agg.targets, self.members):
                self.agg.dirty_queues.update(self.queue_names())

    # ------------------------------------------------------------------ fan-out

    async def _flush_loop(self) -> None:
        next_alarms = 0.0
        while True:
            await asyncio.sleep(self.flush_seconds)
            now = self.clock()
            try:
                alarms_changed = False
                if now >= next_alarms:
                    next_alarms = now + 1.0
                    alarms_changed = self._check_alarms(now)
                self.flush(now, alarms_changed)
            except Exception:
                log.exception("supervisor_flush_failed")

    def _check_alarms(self, now: float) -> bool:
        found = alarms.all_alarms(self.agg, self.engine(), self.members, now)
        changed = _alarm_keys(found) != _alarm_keys(self.alarms)
        self.alarms = found
        return changed

    def flush(self, now: float, alarms_changed: bool = False) -> None:
        bucket = self.agg.buckets.of(now) or 0
        if bucket != self.bucket:  # a new day: yesterday's figures go
            self.bucket = bucket
            self.agg.prune_before(bucket)
            self.agg.dirty_queues.update(self.queue_names())
            self.agg.dirty_agents.update(self.agg.agents)
        queues, agents = self.agg.drain_dirty()
        for queue, agent_ids in self.members.items():
            if not agent_ids.isdisjoint(agents):
                queues.add(queue)
        self.metrics.observe(self, now)
        if not (queues or agents or alarms_changed) or not self.connections:
            return
        queue_views = {q: self.queue_view(q, now) for q in queues}
        agent_views = {str(a): agent_view(self.agg, a, bucket, now) for a in agents}
        by_subscription: dict[frozenset[str] | None, tuple[dict[str, Any], str]] = {}
        for connection in self.connections:
            cached = by_subscription.get(connection.queues)
            if cached is None:
                message = self._delta(connection, now, queue_views, agent_views, alarms_changed)
                cached = by_subscription[connection.queues] = (message, json.dumps(message))
            connection.push(*cached)

    def _delta(
        self,
        connection: Connection,
        now: float,
        queue_views: dict[str, dict[str, Any]],
        agent_views: dict[str, dict[str, Any]],
        alarms_changed: bool,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "delta",
            "at": now,
            "queues": {q: v for q, v in queue_views.items() if connection.follows(q)},
            "agents": {a: v for a, v in agent_views.items() if self._shows(connection, int(a))},
        }
        if alarms_changed:
            message["alarms"] = self._alarms_for(connection)
        return message

    def _shows(self, connection: Connection, agent_id: int) -> bool:
        if connection.queues is None:
            return True
        return any(agent_id in self.members.get(q, ()) for q in connection.queues)

    def _alarms_for(self, connection: Connection) -> list[dict[str, Any]]:
        return [
            a
            for a in self.alarms
            if ("queue" not in a or connection.follows(a["queue"]))
            and ("agent_id" not in a or self._shows(connection, a["agent_id"]))
        ]

    def queue_names(self) -> set[str]:
        return self.agg.queue_names() | set(self.members)

    def queue_view(self, queue: str, now: float) -> dict[str, Any]:
        return queue_view(self.agg, queue, self.bucket, now, self.members.get(queue, ()))

    def snapshot(self, connection: Connection, now: float) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "at": now,
            "day_start": self.bucket * DAY,
            "queues": {
                q: self.queue_view(q, now)
                for q in sorted(self.queue_names())
                if connection.follows(q)
            },
            "agents": {
                str(a): agent_view(self.agg, a, self.bucket, now)
                for a in sorted(self.agg.agents)
                if self._shows(connection, a)
            },
            "alarms": self._alarms_for(connection),
        }


def _alarm_keys(found: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(a["kind"], a.get("queue"), a.get("agent_id"), a.get("contact_id")) for a in found}


__all__ = ["Connection", "Hub", "metrics"]
