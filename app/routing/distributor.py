"""The routing engine's I/O shell: one active router per database.

Every instance runs a ``Distributor``. The one that holds a PostgreSQL advisory lock is the
router: it bumps the lease epoch, rebuilds the engine from the database, then loops —
read unprocessed inbox rows, feed them and due timers to the engine, write the decisions,
their events, the agents' presence and the rows' results in ONE statement that writes only
while the lease is at its epoch, and only after that commit push offers to the agents'
connections. The other instances wait for the lock; when the router's connection dies
PostgreSQL frees the lock and a standby takes over within ``lease_retry_seconds``.

A batch is one round trip on the router's own connection (the one holding the lock): one
statement that writes the whole batch and commits on its own, fenced by the lease, and
reads the unprocessed inbox rows of the next batch (see ``persistence.BATCH_SQL``); the
router reads them by themselves only after a wait, or after a batch that wrote nothing.
It is the shell's own unit of work, so it does not go through a session: the ORM's cost per
transaction was as large as the batch's statements.

If a transaction fails, the in-memory engine may be ahead of the database, so it is thrown
away and rebuilt from the database: the database is the truth, the engine a fast index.

Three connections of its own live as long as the instance, each reopening by itself
(``app.resilience.reconnect``) and reported by ``/readyz``. ``router_listen`` hears the
doorbell and the answers of a router elsewhere; after reopening, the router reads the inbox
and the waiters read their results (a NOTIFY sent meanwhile is lost). ``router_doorbell``
rings a router elsewhere, and rings once after reopening (a ring may have failed).
``router_lease`` (when the instance may lead) waits for or holds the lease's lock; a router
whose lock connection ends stops leading, reconnects and takes the lease again if it is
free, rebuilding from the database as any new router does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import fastjson
from app.database import Database, connect_long_lived, driver_connection, libpq_url
from app.events.bus import EventBus
from app.resilience.faults import database_unavailable
from app.resilience.reconnect import ConnectionHealth, KeptConnection, reopen
from app.routing import inbox
from app.routing.config_schemas import to_core
from app.routing.config_service import routing_document
from app.routing.core import model as core
from app.routing.core.engine import RoutingEngine, RoutingError
from app.routing.models import RouterLease
from app.routing.persistence import DecisionWriter, PresenceChange
from app.routing.restore import load_snapshot
from app.routing.waiters import RequestWaiters
from app.telemetry import Telemetry

log = structlog.get_logger(__name__)

LEASE_LOCK_KEY = 0x726F75746572  # "router"
LISTEN_CONNECTION = "router_listen"
DOORBELL_CONNECTION = "router_doorbell"
LEASE_CONNECTION = "router_lease"


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    kind: str
    payload: dict[str, Any]
    actor_id: int | None
    created: float  # seconds since the epoch


# The oldest unprocessed requests, when the router does not know them yet: after a wait, or
# when its last batch wrote nothing (otherwise the batch statement read them, see _step).
UNPROCESSED_SQL = """
SELECT id, kind, payload, actor_id, extract(epoch FROM created_at)::float8 AS created
FROM routing_inbox WHERE processed_at IS NULL ORDER BY id LIMIT $1
"""


async def _unprocessed(connection: asyncpg.Connection, limit: int) -> list[InboxRow]:
    return [_inbox_row(r) for r in await connection.fetch(UNPROCESSED_SQL, limit)]


def _inbox_row(row: Mapping[str, Any]) -> InboxRow:
    """A row as UNPROCESSED_SQL returns it, or as the batch statement's jsonb object."""
    return InboxRow(row["id"], row["kind"], _json(row["payload"]), row["actor_id"], row["created"])


def _json(value: Any) -> dict[str, Any]:
    """jsonb as the session's connection decodes it (SQLAlchemy sets a codec), or as text."""
    decoded = fastjson.decoded(value)
    assert isinstance(decoded, dict)
    return decoded


# The router's connection runs three statements, for hours: the lock, the inbox read and the
# batch statement, and all three find their rows by key. So it plans each once, for any
# arguments, and never with a sequential or bitmap scan:
#  * planned for each batch's arguments, the batch statement took 0.3 ms of planning a
#    batch, for the same plan every time; planning was 4.8% of the machine's CPU in one
#    run at 950 contacts/s (perf), 70% of it the router's two statements;
#  * a generic plan made while the tables are empty would scan them in full as they grow
#    (see ``connect_long_lived``); with scans by index only, it cannot;
#  * every answered request leaves a dead entry in the partial index of unprocessed rows
#    until VACUUM. An index scan marks the dead entries it passes, so later scans skip them
#    without visiting the table; a bitmap scan marks nothing and visits them all, each
#    batch. On statistics older than the table's growth (no ANALYZE since, as with
#    autovacuum off) the planner chose the bitmap, and the read grew with every contact
#    routed: 0.9 ms a batch after 14,000 contacts, 0.03 ms by the index.
ROUTER_CONNECTION_SETTINGS = {
    "plan_cache_mode": "force_generic_plan",
    "enable_seqscan": "off",
    "enable_bitmapscan": "off",
}


class LeaseLost(Exception):
    """Another instance took over: this one must stop writing at once."""


@dataclass
class _Batch:
    rows: list[InboxRow] = field(default_factory=list)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    decisions: list[core.Decision] = field(default_factory=list)
    touched_agents: dict[str, int | None] = field(default_factory=dict)  # agent -> actor
    config_version: int | None = None
    wrap_ups_to_end: list[int] = field(default_factory=list)  # agents, see Snapshot


class Distributor:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        database_url: str,
        *,
        instance: str,
        clock: Callable[[], float] = time.time,
        lease_retry_seconds: float = 1.0,
        batch_size: int = 500,
        telemetry: Telemetry | None = None,
        may_lead: bool = True,
        consoles_here: Callable[[], Iterable[int]] | None = None,
        health: ConnectionHealth | None = None,
        idle_poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.bus = bus
        self.url = libpq_url(database_url)
        self.instance = instance
        self.clock = clock
        self.lease_retry_seconds = lease_retry_seconds
        self.batch_size = batch_size
        self.telemetry = telemetry
        # False: this instance never routes, but still rings the leader's doorbell and waits
        # for its answers (CONTACTD_ROUTER_ENABLED=false).
        self.may_lead = may_lead
        # The agents whose consoles are connected to this instance. Given, a router taking
        # the lease withdraws (and re-offers at once) the offers out to every other agent:
        # their consoles may have been on the instance that died (``OffersReclaimed``).
        self.consoles_here = consoles_here
        self.health = health or ConnectionHealth()
        # How long an idle router waits for a ring before reading the inbox anyway; also how
        # often it notices a lost lock connection when idle.
        self.idle_poll_seconds = idle_poll_seconds
        self.engine: RoutingEngine | None = None
        self.epoch: int | None = None
        self.config_version = 0
        self.queue_ids: dict[str, int] = {}
        self._presence: dict[str, tuple[str, str | None]] = {}
        self._lock_conn: asyncpg.Connection | None = None
        self._listen = KeptConnection(
            LISTEN_CONNECTION,
            lambda: connect_long_lived(self.url, name=LISTEN_CONNECTION),
            self.health,
            prepare=self._listen_on,
            caught_up=self._caught_up,
        )
        self._doorbell = KeptConnection(
            DOORBELL_CONNECTION,
            lambda: connect_long_lived(self.url, name=DOORBELL_CONNECTION),
            self.health,
            caught_up=self.ring,  # a ring may have been dropped while it was down
        )
        self._wake = asyncio.Event()
        self.waiters = RequestWaiters(db)
        self._task: asyncio.Task[None] | None = None
        self._last_now = 0.0
        self._rebuild_after_batch = False
        self._stopping = False
        self._ringing = asyncio.Lock()
        self._ring_again = False
        # The requests the last batch statement read for the next step; None: read them.
        self._next_rows: list[InboxRow] | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def is_leader(self) -> bool:
        return self.engine is not None

    async def start(self) -> None:
        await self._doorbell.open()
        await self._listen.open()
        if self.may_lead:
            self._task = asyncio.create_task(self._run(), name=f"distributor:{self.instance}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._release_lease()
        self.health.forget(LEASE_CONNECTION)
        await self._listen.close()
        await self._doorbell.close()
        await self.waiters.close()

    async def _run(self) -> None:
        while True:
            try:
                await self._acquire_lease()
                await self._lead()
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                log.warning("router_lease_lost", instance=self.instance, epoch=self.epoch)
            except Exception as exc:
                if not database_unavailable(exc):
                    log.exception("router_failed", instance=self.instance, epoch=self.epoch)
                else:
                    log.warning("router_database_unavailable", instance=self.instance)
            self.engine = None
            await self._release_lease()
            await asyncio.sleep(self.lease_retry_seconds / 2)

    def _now(self) -> float:
        """The clock, never going back (the engine refuses time travel; NTP does not)."""
        self._last_now = max(self._last_now, self.clock())
        return self._last_now

    # ------------------------------------------------------------------ the lease

    async def _acquire_lease(self) -> None:
        conn = await reopen(
            LEASE_CONNECTION,
            lambda: connect_long_lived(self.url, ROUTER_CONNECTION_SETTINGS, name=LEASE_CONNECTION),
            self.health,
        )
        conn.add_termination_listener(self._lock_connection_ended)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEASE_LOCK_KEY):  # noqa: ASYNC110
                await asyncio.sleep(self.lease_retry_seconds)
        except BaseException:
            await conn.close()
            raise
        self._lock_conn = conn
        async with self.db.unit_of_work() as session:
            statement = pg_insert(RouterLease).values(
                id=1, epoch=1, holder=self.instance, acquired_at=func.now()
            )
            self.epoch = await session.scalar(
                statement.on_conflict_do_update(
                    index_elements=[RouterLease.id],
                    set_={
                        "epoch": RouterLease.epoch + 1,
                        "holder": self.instance,
                        "acquired_at": func.now(),
                    },
                ).returning(RouterLease.epoch)
            )
        log.info("router_lease_acquired", instance=self.instance, epoch=self.epoch)

    async def _release_lease(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._lock_connection_ended)
            with contextlib.suppress(Exception):
                await conn.close()

    def _lock_connection_ended(self, conn: object) -> None:
        """The lock connection ended without ``_release_lease``: the lease is lost (the
        router notices at its next step and reconnects, see ``_run``)."""
        if self._stopping:
            return
        self.health.down(LEASE_CONNECTION)
        self._wake.set()

    async def _check_epoch(self, session: AsyncSession) -> None:
        """Lock the lease row and refuse to write under a stale epoch."""
        current = await session.scalar(
            select(RouterLease.epoch).where(RouterLease.id == 1).with_for_update()
        )
        self._refuse_stale(current)

    def _refuse_stale(self, current: int | None) -> None:
        if current != self.epoch:
            raise LeaseLost(f"epoch {self.epoch} is stale, the lease is at {current}")

    # ------------------------------------------------------------------ leading

    async def _lead(self) -> None:
        self._next_rows = None
        await self._rebuild(taking_over=True)
        while True:
            if self._lock_conn is None or self._lock_conn.is_closed():
                raise LeaseLost("the lock connection is gone")
            started = time.perf_counter()
            if await self._step():
                if self.telemetry is not None:
                    self.telemetry.routing_batch.observe(time.perf_counter() - started)
                if self._rebuild_after_batch:
                    self._rebuild_after_batch = False
                    await self._rebuild()
                continue
            await self._sleep_until_needed()

    async def _sleep_until_needed(self) -> None:
        assert self.engine is not None
        timeout = self.idle_poll_seconds
        due = self.engine.next_timer()
        if due is not None:
            timeout = min(timeout, max(0.0, due - self.clock()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _rebuild(self, *, taking_over: bool = False) -> None:
        now = self._now()
        async with self.db.unit_of_work() as session:
            await self._check_epoch(session)
            version, document = await routing_document(session)
            engine = RoutingEngine(to_core(document, version))
            snapshot = await load_snapshot(session)
            decisions = engine.restore(snapshot.agents, snapshot.contacts, now)
            if taking_over and self.consoles_here is not None:
                keep = frozenset(str(agent) for agent in self.consoles_here())
                decisions += engine.handle(core.OffersReclaimed(keep), now)
            self.engine, self.config_version = engine, version
            self.queue_ids = snapshot.queue_ids
            self._presence = {a.agent_id: (a.state.value, a.reason) for a in engine.agents()}
            batch = _Batch(decisions=decisions, wrap_ups_to_end=snapshot.wrap_ups_to_end)
            effects = await self._write(await driver_connection(session), batch, now)
        await effects()
        log.info(
            "router_rebuilt",
            epoch=self.epoch,
            agents=len(snapshot.agents),
            contacts=len(snapshot.contacts),
            wrap_ups_ended_for_agents=len(snapshot.wrap_ups_to_end),
            config_version=version,
        )

    async def _step(self) -> bool:
        """Apply one batch of inbox rows and due timers; False when there was nothing to do."""
        assert self.engine is not None
        connection = self._lock_conn
        if connection is None or connection.is_closed():
            raise LeaseLost("the lock connection is gone")
        rows, self._next_rows = self._next_rows, None
        if rows is None:
            # Cleared before reading, so a ring during this step wakes the next wait at once.
            self._wake.clear()
            rows = await _unprocessed(connection, self.batch_size)
        now = self._now()
        due = self.engine.next_timer()
        if not rows and (due is None or due > now):
            return False
        batch = _Batch(rows=rows)
        for row in rows:
            await self._apply(row, batch, now)
        batch.decisions += self.engine.handle(core.Tick(), now)
        # The statement reads the next batch too: cleared before it, for the same reason.
        self._wake.clear()
        effects = await self._write(connection, batch, now, read_next=self.batch_size)
        await effects()
        return True

    async def _apply(self, row: InboxRow, batch: _Batch, now: float) -> None:
        assert self.engine is not None
        if row.kind == "config.changed":
            await self._reload_config(batch, now)
            batch.results[row.id] = {"ok": True}
            return
        agent_id = row.payload.get("agent_id")
        try:
            events = inbox.to_events(row.kind, row.payload, agent_known=self._agent_known(agent_id))
            for event in events:
                batch.decisions += self.engine.handle(event, now)
        except RoutingError as exc:
            batch.results[row.id] = {"ok": False, "error": exc.code, "message": str(exc)}
            return
        except inbox.BadRequest as exc:
            log.error("router_bad_inbox_row", inbox_id=row.id, kind=row.kind, error=str(exc))
            batch.results[row.id] = {"ok": False, "error": "bad_request", "message": str(exc)}
            return
        except Exception:
            # A bug, not a bad request: refuse this row (so it cannot wedge the router in a
            # retry loop), keep the batch, and rebuild the engine from the database after it.
            log.exception("router_inbox_row_crashed", inbox_id=row.id, kind=row.kind)
            batch.results[row.id] = {"ok": False, "error": "internal", "message": "router error"}
            self._rebuild_after_batch = True
            return
        batch.results[row.id] = {"ok": True}
        if agent_id is not None:
            batch.touched_agents[str(agent_id)] = row.actor_id

    def _agent_known(self, agent_id: object) -> bool:
        assert self.engine is not None
        if agent_id is None:
            return False
        try:
            self.engine.agent_view(str(agent_id))
        except RoutingError:
            return False
        return True

    async def _reload_config(self, batch: _Batch, now: float) -> None:
        """The document in force, read in a transaction of its own: it committed before the
        ``config.changed`` row that announced it, so any later snapshot has it."""
        assert self.engine is not None
        async with self.db.unit_of_work() as session:
            version, document = await routing_document(session)
            if version == self.config_version:
                return
            rows = (await session.execute(text("SELECT name, id FROM queues"))).all()
            queue_ids: dict[str, int] = {row[0]: row[1] for row in rows}
        batch.decisions += self.engine.handle(core.ConfigChanged(to_core(document, version)), now)
        self.config_version, self.queue_ids = version, queue_ids
        batch.config_version = version

    # ------------------------------------------------------------------ writing

    def _presence_changes(
        self, batch: _Batch
    ) -> list[tuple[int, str, str | None, str | None, int | None]]:
        assert self.engine is not None
        agents = dict(batch.touched_agents)
        for decision in batch.decisions:
            agent_id = getattr(decision, "agent_id", None)
            if agent_id is not None:
                agents.setdefault(agent_id, None)
        changes: list[PresenceChange] = []
        for agent_id, actor in agents.items():
            try:
                view = self.engine.agent_view(agent_id)
                now_state = (view.state.value, view.reason)
            except RoutingError:  # logged out
                now_state = ("offline", None)
            before = self._presence.get(agent_id, ("offline", None))
            if now_state != before:
                self._presence[agent_id] = now_state
                changes.append((int(agent_id), now_state[0], now_state[1], before[0], actor))
        return changes

    async def _write(
        self, connection: asyncpg.Connection, batch: _Batch, now: float, *, read_next: int = 0
    ) -> Callable[[], Awaitable[None]]:
        """Write the batch in the caller's transaction; return what to do once it commits.

        With ``read_next``, the same statement reads up to that many of the oldest requests
        it left unanswered, and the next step takes them instead of reading: a batch is then
        one round trip, not two. Unprocessed rows stay unprocessed until this router answers
        them, so they are still the oldest when that step runs; a request committed after
        the statement rang after ``_wake`` was cleared, so the router reads again for it."""
        assert self.epoch is not None
        writer = DecisionWriter(now, self.queue_ids, self.epoch)
        for decision in batch.decisions:
            writer.decision(decision)
        presence = self._presence_changes(batch)
        writer.presence_changes(presence, self._wrap_up_until)
        writer.end_wrap_ups_of(
            self._handled_without_wrap_up(batch.decisions) + batch.wrap_ups_to_end
        )
        for row in batch.rows:
            writer.answer(row.id, batch.results[row.id])
        epoch, next_rows = await writer.flush(
            connection, notify_channel=inbox.DONE_CHANNEL, read_next=read_next
        )
        self._refuse_stale(epoch)
        if read_next and next_rows is not None:
            self._next_rows = [_inbox_row(r) for r in fastjson.decoded(next_rows)]
        messages = _bus_messages(batch.decisions, presence, self._channel_of)
        results = {row.id: batch.results[row.id] for row in batch.rows}
        if self.telemetry is not None:
            latency = self.telemetry.routing_request_latency
            for row in batch.rows:
                latency.observe(max(0.0, now - row.created))

        async def after_commit() -> None:
            await self._publish(messages)
            self.waiters.applied_here(results)  # no need to wait for our own NOTIFY

        return after_commit

    def _handled_without_wrap_up(self, decisions: list[core.Decision]) -> list[int]:
        """The agents of contacts ended in this batch who are not in wrap-up after it: not
        ready when the contact ended (no wrap-up starts), or ready again within the batch.
        Their contacts have no after-contact work to wait for."""
        return [
            int(d.agent_id)
            for d in decisions
            if isinstance(d, core.ContactRemoved)
            and d.agent_id is not None
            and self._presence.get(d.agent_id, ("offline", None))[0] != "wrap_up"
        ]

    def _wrap_up_until(self, agent_id: int) -> float | None:
        assert self.engine is not None
        try:
            return self.engine.agent_view(str(agent_id)).wrap_up_until
        except RoutingError:
            return None

    def _channel_of(self, contact_id: str) -> str | None:
        view = self.engine.contact_view(contact_id) if self.engine is not None else None
        return None if view is None else view.channel

    async def _publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        await self.bus.publish_many(messages)  # one round trip to the bus for the batch

    # ------------------------------------------------------------------ notifications

    async def ring(self) -> None:
        """The doorbell (see ``inbox.Doorbell``): wake the router after inbox rows commit.

        Here, directly. Elsewhere, by NOTIFY in a transaction of its own (it writes nothing,
        so it costs no disk flush), coalesced: a burst of rings sends a few NOTIFYs.
        """
        self._wake.set()
        doorbell = self._doorbell.connection
        if self.engine is not None or doorbell is None:  # none: the router still polls
            return
        if self._ringing.locked():
            self._ring_again = True
            return
        async with self._ringing:
            self._ring_again = True
            while self._ring_again:
                self._ring_again = False
                try:
                    await doorbell.execute(f"NOTIFY {inbox.INBOX_CHANNEL}")
                except Exception as exc:  # the router still polls
                    log.warning("router_doorbell_failed", error_type=type(exc).__name__)
                    return

    async def _listen_on(self, connection: asyncpg.Connection) -> None:
        await connection.add_listener(inbox.INBOX_CHANNEL, self._on_inbox_notify)
        await connection.add_listener(inbox.DONE_CHANNEL, self._on_done_notify)

    async def _caught_up(self) -> None:
        """The LISTEN connection is back: what it may have missed is read at once."""
        self._wake.set()
        self.waiters.applied_elsewhere()

    def _on_inbox_notify(self, *_: object) -> None:
        self._wake.set()

    def _on_done_notify(self, *_: object) -> None:
        self.waiters.applied_elsewhere()

    async def wait_processed(
        self, inbox_id: int, wait_seconds: float = 5.0
    ) -> dict[str, Any] | None:
        """Wait until the router has applied inbox row ``inbox_id``; return its result.

        None when no router answered in time (none running, or failing over).
        """
        return await self.waiters.wait(inbox_id, wait_seconds)


def _bus_messages(
    decisions: list[core.Decision],
    presence: list[PresenceChange],
    channel_of: Callable[[str], str | None],
) -> list[tuple[str, dict[str, Any]]]:
    """What the agents' consoles, the contacts' channels and supervisors hear after commit.

    Topics: ``agent:{id}`` (offers, state), ``contact:{id}`` (one contact's progress, e.g. a
    chat visitor), ``channel:{voice|email|chat}`` (what a channel must act on: bridge an
    answered call, offer a callback) and ``routing`` (something changed, for wallboards).
    """
    messages: list[tuple[str, dict[str, Any]]] = []
    for decision in decisions:
        if isinstance(decision, core.Assigned | core.StepActionDue):
            channel = channel_of(decision.contact_id)
            if channel is not None:
                event: dict[str, Any] = {"contact_id": int(decision.contact_id)}
                if isinstance(decision, core.Assigned):
                    event |= {"type": "assigned", "agent_id": int(decision.agent_id)}
                else:
                    event |= {"type": "step_action_due", "action": decision.action.value}
                messages.append((f"channel:{channel}", event))
        match decision:
            case core.Offer(contact_id, agent_id, deadline, _):
                message = {"type": "offer", "contact_id": int(contact_id), "deadline": deadline}
                messages.append((f"agent:{agent_id}", message))
            case core.OfferWithdrawn(contact_id, agent_id, reason):
                message = {
                    "type": "offer_withdrawn",
                    "contact_id": int(contact_id),
                    "reason": reason,
                }
                messages.append((f"agent:{agent_id}", message))
            case core.Assigned(contact_id, agent_id):
                messages.append(
                    (f"agent:{agent_id}", {"type": "assigned", "contact_id": int(contact_id)})
                )
                messages.append(
                    (f"contact:{contact_id}", {"type": "assigned", "agent_id": int(agent_id)})
                )
            case core.StepActionDue(contact_id, step, action):
                message = {"type": "step_action_due", "step": step, "action": action.value}
                messages.append((f"contact:{contact_id}", message))
            case core.ContactRemoved(contact_id, reason, _, _):
                messages.append((f"contact:{contact_id}", {"type": "removed", "reason": reason}))
    for agent, state, why, before, _ in presence:
        change = {"type": "state", "state": state, "reason": why, "previous": before}
        messages.append((f"agent:{agent}", change))
    if decisions or presence:
        messages.append(("routing", {"type": "changed", "decisions": len(decisions)}))
    return messages
