"""The routing engine: skill-based automatic contact distribution as a pure state machine.

``handle(event, now)`` applies one event, fires every timer due at ``now`` and then
matches waiting contacts with free agents until no (waiting contact, eligible free agent)
pair is left. It returns the decisions in the order they happened.

How it stays fast
-----------------
Waiting contacts are grouped by requirement signature (queue, channel, requirements,
overflow queues); contacts of one group compete for exactly the same agents. Each group
keeps two heaps with lazy deletion:

* its waiting contacts, keyed ``(-static priority, arrived_at, seq)``. Within one queue the
  priority boost rate is the same for everyone, so this order never changes with time;
* its *free* eligible agents, keyed by the queue's strategy and stamped with the agent's
  version, which is bumped whenever the agent's freeness or key may have changed.

Which groups an agent belongs to is worked out at login, skill, capacity or config change
(and when a new group appears, through inverted skill indexes), never per decision. After an
event only "dirty" groups are examined: those a contact was put into and those of agents
that became freer. Matching then repeatedly takes the best contact (across groups, compared
at ``now``) that has a free eligible agent and offers it to that group's best agent, so both
"best contact first" and the queue's agent-selection strategy hold.

Semantics the contract left open
--------------------------------
* An event is applied before the timers due at the same ``now`` fire: an ``OfferAccepted``
  that reaches the engine in the same call as its deadline (or before a late ``Tick``) wins.
* Wrap-up is per agent, not per channel: when any contact ends or is transferred away the
  agent takes no new offers on any channel until the wrap-up of that contact's queue ends
  (the later end wins if several overlap; 0 s means until ``WrapUpEnded``). Contacts still
  assigned on other channels carry on. The agent is reported WRAP_UP meanwhile and, when a
  wrap-up timer ends, ``AgentStateSet`` reports AVAILABLE or ON_CONTACT (if it still has
  contacts). A contact ending while the agent is not ready or offline starts no wrap-up.
* An explicit ``AgentStateChanged`` ends a running wrap-up; becoming AVAILABLE again after
  NOT_READY/OFFLINE also resets the missed-offer count. ``WrapUpEnded`` when no wrap-up runs
  is a no-op (the timer and the agent's button race).
* ``AgentLoggedOut`` while contacts are still assigned to the agent is refused with
  ``RoutingError("invalid_state")``: the shell must end or transfer them first, so no
  contact is ever lost. ``AgentStateChanged(OFFLINE)`` keeps assigned contacts.
* The preferred-agent window runs from ``arrived_at``. A preference (or a transfer to a named
  agent) ends as soon as an offer to that agent is withdrawn for any reason; a transfer
  target that logs out or becomes not ready/offline also releases its waiting contacts to
  the queue (``Requeued``). A transfer to a named agent ignores skills and queue membership.
* A skill override given for a queue is dropped when the contact moves to another queue.
* ``ConfigChanged`` keeps the number of escalation steps each contact has taken (capped at
  the new number of steps) and recomputes requirements, priorities and preference windows.
* Within one escalation step: lower levels, then add skills, then drop skills.
* A contact's value tags (``grade:P``, ``vip``, ``class:key``, ``segment:NAME``) add the
  routing document's points for each tag to its priority (the trace names them), and a
  queue's value-skill rules add skills to the requirements of contacts carrying their tags,
  before escalation steps apply (a step may drop them again).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import Any

from .indexes import AgentIndex
from .invariants import find_violations
from .model import (
    AgentCapacityChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentSkillsChanged,
    AgentSnapshot,
    AgentState,
    AgentStateChanged,
    AgentStateSet,
    AgentView,
    Assigned,
    CandidateTrace,
    Channel,
    ConfigChanged,
    ContactAbandoned,
    ContactEnded,
    ContactEnqueued,
    ContactRemoved,
    ContactSnapshot,
    ContactStatus,
    ContactTransferred,
    ContactUpdated,
    ContactView,
    Decision,
    DecisionTrace,
    Escalated,
    Event,
    Offer,
    OfferAccepted,
    OfferRejected,
    OffersReclaimed,
    OfferWithdrawn,
    QueueConfig,
    QueuePosition,
    Requeued,
    RoutingConfig,
    SkillRequirement,
    StepAction,
    StepActionDue,
    Strategy,
    Tick,
    WaitingView,
    WrapUpEnded,
)
from .records import (
    AgentEntry,
    AgentRec,
    ContactEntry,
    ContactRec,
    Group,
    GroupKey,
    SkillPairs,
    agent_serves,
    base_requirements,
    derived_state,
    matching_value_rules,
    requirements_after_steps,
    strategy_key,
)
from .trace import MAX_SKIPPED, MAX_WINNERS, TraceNotes

WAITING = ContactStatus.WAITING
OFFERED = ContactStatus.OFFERED
ASSIGNED = ContactStatus.ASSIGNED
AVAILABLE = AgentState.AVAILABLE

DEFAULT_OFFER_TIMEOUT = 30.0
HANDLE_TIME_SAMPLES = 50
INF = math.inf

# timer kinds
_OFFER, _STEP, _PIN, _WRAP, _COOLDOWN = range(5)
Timer = tuple[float, int, int, str, str, float]
"""(due, seq, kind, contact or agent id, agent id for cooldowns, token)."""

_RULES = {
    Strategy.LONGEST_IDLE: "longest idle among eligible",
    Strategy.LEAST_OCCUPIED: "least occupied among eligible",
    Strategy.MOST_SKILLED: "most skilled among eligible",
    Strategy.ROUND_ROBIN: "round robin among eligible",
}
_FREED_RULE = "agent became free: best waiting contact"
_NO_CHANNELS: frozenset[Channel] = frozenset()


def _unload(agent: AgentRec, channel: Channel) -> None:
    """One contact fewer on a channel; zero entries are dropped so an idle agent's load is {}."""
    left = agent.load[channel] - 1
    if left:
        agent.load[channel] = left
    else:
        del agent.load[channel]


def _boosts(points: dict[str, int], tags: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """The value tags that carry priority points, with their points, in the tags' order."""
    return tuple((tag, points[tag]) for tag in tags if points.get(tag))


class RoutingError(Exception):
    """An event that makes no sense in the current state; the state is left untouched."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


@dataclass(slots=True)
class _Candidate:
    order: tuple[float, float, int]
    contact: ContactRec
    agent: AgentRec
    group: Group | None  # None: the contact waits for this agent only
    cooling: tuple[str, ...] = ()  # better-scored agents passed over: rejected it recently


Handler = Callable[[Any, float, list[Decision]], None]


class RoutingEngine:
    def __init__(self, config: RoutingConfig, *, explain: bool = True) -> None:
        """``explain=False`` (simulations) gives offers a trace naming only the queue,
        strategy, step and requirements, not the candidates: the same decisions, faster."""
        self._config = config
        self._explain = explain
        self._agents: dict[str, AgentRec] = {}
        self._contacts: dict[str, ContactRec] = {}
        self._groups: dict[GroupKey, Group] = {}
        self._pins: dict[str, dict[str, ContactRec]] = {}  # agent id -> contacts waiting for it
        self._waiting: dict[tuple[str, Channel], dict[str, ContactRec]] = {}
        self._index = AgentIndex()
        self._timers: list[Timer] = []
        self._counter = itertools.count(1)  # versions, tokens, timer and offer sequence
        self._seq = itertools.count()
        self._handle_times: dict[str, deque[float]] = {}
        self._notes = TraceNotes()
        self._req_cache: dict[
            tuple[str, tuple[SkillRequirement, ...] | None, int, tuple[int, ...]],
            tuple[tuple[SkillRequirement, ...], tuple[str, ...], GroupKey],
        ] = {}
        self._now = -INF
        self._collect_groups_at = 256
        # per-event scratch: where new (contact, agent) pairs may have appeared
        self._dirty_groups: dict[Group, None] = {}
        self._dirty_pins: dict[str, None] = {}
        self._freed: set[str] = set()
        self._fresh: set[str] = set()
        self._handlers: dict[type[Any], Handler] = {
            ContactEnqueued: self._on_enqueued,
            ContactUpdated: self._on_updated,
            ContactAbandoned: self._on_abandoned,
            ContactTransferred: self._on_transferred,
            ContactEnded: self._on_ended,
            AgentLoggedIn: self._on_logged_in,
            AgentLoggedOut: self._on_logged_out,
            AgentStateChanged: self._on_state_changed,
            AgentSkillsChanged: self._on_skills_changed,
            AgentCapacityChanged: self._on_capacity_changed,
            OfferAccepted: self._on_accepted,
            OfferRejected: self._on_rejected,
            OffersReclaimed: self._on_reclaimed,
            WrapUpEnded: self._on_wrap_up_ended,
            ConfigChanged: self._on_config_changed,
            Tick: self._on_tick,
        }

    # ------------------------------------------------------------------ public API

    @property
    def config(self) -> RoutingConfig:
        return self._config

    def handle(self, event: Event, now: float) -> list[Decision]:
        if now < self._now:
            raise RoutingError("invalid_time", f"time went back from {self._now} to {now}")
        handler = self._handlers.get(type(event))
        if handler is None:
            raise RoutingError("invalid_event", type(event).__name__)
        out: list[Decision] = []
        handler(event, now, out)  # validates before it changes anything
        self._now = now
        self._fire_timers(now, out)
        self._match(now, out)
        self._freed.clear()
        self._fresh.clear()
        return out

    def next_timer(self) -> float | None:
        timers = self._timers
        while timers:
            due, _, kind, key, sub, token = timers[0]
            if self._timer_live(kind, key, sub, token):
                return due
            heappop(timers)
        return None

    def waiting_contacts(self, queue: str | None = None, *, now: float) -> list[WaitingView]:
        if queue is not None:
            self._queue(queue)
        waiting = [
            contact
            for (name, _), contacts in self._waiting.items()
            if queue is None or name == queue
            for contact in contacts.values()
        ]
        waiting.sort(key=lambda contact: contact.order(now))
        return [
            WaitingView(
                contact_id=c.id,
                queue=c.queue,
                channel=c.channel,
                arrived_at=c.arrived_at,
                effective_priority=c.effective_priority(now),
                step=c.step,
                requirements=c.reqs,
                pinned_to=c.pinned_to,
            )
            for c in waiting
        ]

    def position(self, contact_id: str, now: float) -> QueuePosition:
        """Position among waiting contacts of the same queue and channel, and a wait estimate.

        The estimate is position x recent average handle time of the queue / number of
        logged-in (not offline) agents who can serve the contact: crude but monotone, and
        cheap enough for an IVR to ask often. It is ``None`` (unknown) when no such agent is
        logged in, or when every one of them is cooling down on this contact after rejecting
        it: then no figure would be true, and the contact waits for a login or the end of
        the cool-down.
        """
        contact = self._contact(contact_id)
        if contact.status is not WAITING:
            return QueuePosition(contact.id, contact.queue, contact.status, 0, 0.0)
        key = contact.order(now)
        peers = self._waiting[(contact.queue, contact.channel)].values()
        place = 1 + sum(1 for other in peers if other.order(now) < key)
        servers = self._servers(contact, now)
        if servers == 0:
            return QueuePosition(contact.id, contact.queue, WAITING, place, None)
        wait = place * self._average_handle_time(contact.queue) / servers
        return QueuePosition(contact.id, contact.queue, WAITING, place, wait)

    def agent_view(self, agent_id: str) -> AgentView:
        return self._agent_view(self._agent(agent_id))

    def contact_view(self, contact_id: str) -> ContactView | None:
        contact = self._contacts.get(contact_id)
        return None if contact is None else self._contact_view(contact)

    def agents(self) -> list[AgentView]:
        return [self._agent_view(agent) for agent in self._agents.values()]

    def contacts(self) -> list[ContactView]:
        return [self._contact_view(contact) for contact in self._contacts.values()]

    def check_invariants(self) -> None:
        problems = find_violations(self)
        if problems:
            shown = "\n  ".join(problems[:25])
            raise AssertionError(f"{len(problems)} routing invariant(s) broken:\n  {shown}")

    def restore(
        self, agents: Sequence[AgentSnapshot], contacts: Sequence[ContactSnapshot], now: float
    ) -> list[Decision]:
        """Load the state a shell stored (after a restart or a failover) into a new engine.

        Offers keep their deadlines, assignments their agents, waiting contacts their place
        (by arrival) and escalation step; then due timers fire and matching runs, so the
        decisions returned are only what the time spent restarting made due.
        """
        if self._agents or self._contacts:
            raise RoutingError("invalid_state", "restore needs an engine with no state")
        for snapshot in contacts:
            self._queue(snapshot.queue)
        out: list[Decision] = []
        for agent_snapshot in agents:
            self._restore_agent(agent_snapshot, now, out)
        for contact_snapshot in sorted(contacts, key=lambda c: (c.arrived_at, c.contact_id)):
            self._restore_contact(contact_snapshot, now)
        for agent in self._agents.values():
            self._reindex(agent, dirty=True)
        self._now = max(self._now, now)
        self._fire_timers(now, out)
        self._match(now, out)
        self._freed.clear()
        self._fresh.clear()
        return out

    def _restore_agent(self, snapshot: AgentSnapshot, now: float, out: list[Decision]) -> None:
        login = AgentLoggedIn(
            snapshot.agent_id, snapshot.skills, snapshot.capacity, snapshot.queues
        )
        self._on_logged_in(login, now, out)
        agent = self._agents[snapshot.agent_id]
        agent.idle_since = snapshot.idle_since
        if snapshot.state in (AgentState.NOT_READY, AgentState.OFFLINE):
            agent.presence = snapshot.state
            agent.reason = snapshot.reason
        elif snapshot.state is AgentState.WRAP_UP and snapshot.wrap_up_until is not None:
            agent.wrap_until = until = snapshot.wrap_up_until
            agent.wrap_token = token = next(self._counter)
            if until != INF:
                self._push_timer(until, _WRAP, agent.id, "", token)

    def _restore_contact(self, snapshot: ContactSnapshot, now: float) -> None:
        contact = ContactRec(
            id=snapshot.contact_id,
            queue=snapshot.queue,
            channel=snapshot.channel,
            arrived_at=snapshot.arrived_at,
            seq=next(self._seq),
            priority=snapshot.priority,
            skills=snapshot.skills,
            value_tags=snapshot.value_tags,
            preferred_agent_id=snapshot.preferred_agent_id,
            entered_at=snapshot.entered_queue_at,
        )
        contact.step = min(snapshot.step, len(self._config.queues[snapshot.queue].steps))
        self._contacts[contact.id] = contact
        self._derive(contact)
        agent = self._agents.get(snapshot.agent_id or "")
        if snapshot.status is ASSIGNED and agent is not None:
            contact.status = ASSIGNED
            contact.agent_id = agent.id
            contact.assigned_at = now
            agent.assigned[contact.id] = contact
            agent.load[contact.channel] = agent.load.get(contact.channel, 0) + 1
            return
        self._refresh_pin(contact, now)
        self._schedule_step(contact, now)
        if snapshot.status is OFFERED and agent is not None:
            contact.status = OFFERED
            contact.agent_id = agent.id
            deadline = now if snapshot.offer_deadline is None else snapshot.offer_deadline
            contact.offer_deadline = deadline
            contact.offer_token = token = next(self._counter)
            self._push_timer(deadline, _OFFER, contact.id, "", token)
            agent.offers[contact.id] = contact
            agent.load[contact.channel] = agent.load.get(contact.channel, 0) + 1
            return
        self._place(contact)  # waiting, or its agent is gone: back in line at its place

    # ------------------------------------------------------------------ lookups

    def _queue(self, name: str) -> QueueConfig:
        queue = self._config.queues.get(name)
        if queue is None:
            raise RoutingError("unknown_queue", name)
        return queue

    def _contact(self, contact_id: str) -> ContactRec:
        contact = self._contacts.get(contact_id)
        if contact is None:
            raise RoutingError("unknown_contact", contact_id)
        return contact

    def _agent(self, agent_id: str) -> AgentRec:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise RoutingError("unknown_agent", agent_id)
        return agent

    def _offered(self, contact_id: str, agent_id: str) -> tuple[ContactRec, AgentRec]:
        contact = self._contact(contact_id)
        if contact.status is not OFFERED or contact.agent_id != agent_id:
            raise RoutingError("no_such_offer", f"{contact_id} is not offered to {agent_id}")
        return contact, self._agents[agent_id]

    def _assigned(self, contact_id: str) -> ContactRec:
        contact = self._contact(contact_id)
        if contact.status is not ASSIGNED:
            raise RoutingError("invalid_state", f"{contact_id} is {contact.status}, not assigned")
        return contact

    # ------------------------------------------------------------------ contact events

    def _on_enqueued(self, event: ContactEnqueued, now: float, out: list[Decision]) -> None:
        if event.contact_id in self._contacts:
            raise RoutingError("duplicate_contact", event.contact_id)
        self._queue(event.queue)
        contact = ContactRec(
            id=event.contact_id,
            queue=event.queue,
            channel=event.channel,
            arrived_at=event.arrived_at,
            seq=next(self._seq),
            priority=event.priority,
            skills=event.skills,
            value_tags=event.value_tags,
            preferred_agent_id=event.preferred_agent_id,
            entered_at=now,
        )
        self._contacts[contact.id] = contact
        self._derive(contact)
        self._refresh_pin(contact, now)
        self._schedule_step(contact, now)
        self._place(contact)

    def _on_updated(self, event: ContactUpdated, now: float, out: list[Decision]) -> None:
        contact = self._contact(event.contact_id)
        if contact.status is ASSIGNED:
            raise RoutingError("invalid_state", f"{contact.id} is already assigned")
        if event.queue is not None:
            self._queue(event.queue)
        if event.to_agent_id is not None:
            self._agent(event.to_agent_id)
        waiting = contact.status is WAITING
        if waiting:
            self._unplace(contact)
        elif event.to_agent_id is not None and contact.agent_id != event.to_agent_id:
            offered_to = self._agents[contact.agent_id or ""]
            self._drop_offer(contact, offered_to)
            out.append(OfferWithdrawn(contact.id, offered_to.id, "reassigned"))
            self._reindex(offered_to, dirty=True)
            waiting = True
        if event.priority is not None:
            contact.priority = event.priority
        moved = event.queue is not None and event.queue != contact.queue
        if event.queue is not None and moved:
            contact.queue = event.queue
            contact.entered_at = now
            contact.step = 0
            contact.skills = None
        if event.skills is not None:
            contact.skills = event.skills
        self._derive(contact)
        if event.to_agent_id is not None and waiting:
            contact.pin_direct = True
            contact.pinned_to = event.to_agent_id
            contact.preferred_agent_id = None
        if moved:
            self._refresh_pin(contact, now)
            self._schedule_step(contact, now)
            out.append(Requeued(contact.id, contact.queue, "queue changed"))
        if waiting:
            self._place(contact)

    def _on_abandoned(self, event: ContactAbandoned, now: float, out: list[Decision]) -> None:
        contact = self._contact(event.contact_id)
        if contact.status is ASSIGNED:
            raise RoutingError("invalid_state", f"{contact.id} is assigned: end it instead")
        if contact.status is OFFERED:
            agent = self._agents[contact.agent_id or ""]
            self._drop_offer(contact, agent)
            out.append(OfferWithdrawn(contact.id, agent.id, "abandoned"))
            self._reindex(agent, dirty=True)
        else:
            self._unplace(contact)
        self._forget(contact)
        waited = now - contact.arrived_at
        short = waited < self._config.queues[contact.queue].short_abandon_seconds
        out.append(ContactRemoved(contact.id, "abandoned", waited, short))

    def _on_transferred(self, event: ContactTransferred, now: float, out: list[Decision]) -> None:
        contact = self._assigned(event.contact_id)
        if event.to_queue is None and event.to_agent_id is None:
            raise RoutingError("invalid_state", "a transfer needs a queue or an agent")
        if event.to_queue is not None:
            self._queue(event.to_queue)
        if event.to_agent_id is not None:
            self._agent(event.to_agent_id)
        agent = self._agents[contact.agent_id or ""]
        self._release_assigned(contact, agent, now)
        self._start_wrap_up(agent, contact.queue, now, out)
        self._reindex(agent, dirty=True)
        contact.status = WAITING
        contact.agent_id = None
        contact.cooldowns.clear()
        if event.to_queue is not None and event.to_queue != contact.queue:
            contact.queue = event.to_queue
            contact.skills = None
        contact.entered_at = now
        contact.step = 0
        self._derive(contact)
        if event.to_agent_id is not None:
            contact.pin_direct = True
            contact.pinned_to = event.to_agent_id
            contact.preferred_agent_id = None
            reason = f"transferred to agent {event.to_agent_id}"
        else:
            self._refresh_pin(contact, now)
            reason = "transferred"
        self._schedule_step(contact, now)
        out.append(Requeued(contact.id, contact.queue, reason))
        self._place(contact)

    def _on_ended(self, event: ContactEnded, now: float, out: list[Decision]) -> None:
        contact = self._assigned(event.contact_id)
        agent = self._agents[contact.agent_id or ""]
        self._release_assigned(contact, agent, now)
        self._forget(contact)
        waited = contact.assigned_at - contact.arrived_at
        out.append(ContactRemoved(contact.id, "ended", waited, agent_id=agent.id))
        self._start_wrap_up(agent, contact.queue, now, out)
        self._reindex(agent, dirty=True)

    # ------------------------------------------------------------------ agent events

    def _on_logged_in(self, event: AgentLoggedIn, now: float, out: list[Decision]) -> None:
        if event.agent_id in self._agents:
            raise RoutingError("invalid_state", f"{event.agent_id} is already logged in")
        agent = AgentRec(
            id=event.agent_id,
            skills=dict(event.skills),
            capacity=dict(event.capacity),
            queues=frozenset(event.queues),
            idle_since=now,
        )
        self._agents[agent.id] = agent
        self._index.add(agent)
        self._join_groups(agent)
        self._reindex(agent, dirty=True)

    def _on_logged_out(self, event: AgentLoggedOut, now: float, out: list[Decision]) -> None:
        agent = self._agent(event.agent_id)
        if agent.assigned:
            raise RoutingError(
                "invalid_state", f"{agent.id} still has assigned contacts: end or transfer them"
            )
        agent.presence = AgentState.OFFLINE
        agent.wrap_until = None
        for contact in list(agent.offers.values()):
            self._withdraw(contact, agent, "agent logged out", now, out, cooldown_from=None)
        self._release_transfers(agent, "transfer target logged out", out)
        self._leave_groups(agent)
        self._index.remove(agent)
        del self._agents[agent.id]
        agent.version = next(self._counter)

    def _on_state_changed(self, event: AgentStateChanged, now: float, out: list[Decision]) -> None:
        agent = self._agent(event.agent_id)
        if event.state is AVAILABLE:
            if agent.presence is not AVAILABLE:
                agent.missed_in_row = 0
            if agent.presence is not AVAILABLE or agent.wrap_until is not None:
                agent.presence = AVAILABLE
                agent.wrap_until = None
                agent.idle_since = now
                self._reindex(agent, dirty=True)
            agent.reason = event.reason
        elif event.state in (AgentState.NOT_READY, AgentState.OFFLINE):
            self._make_unavailable(agent, event.state, event.reason, now, out)
        else:
            raise RoutingError("invalid_state", f"agents cannot set themselves {event.state}")

    def _on_skills_changed(
        self, event: AgentSkillsChanged, now: float, out: list[Decision]
    ) -> None:
        agent = self._agent(event.agent_id)
        self._index.remove(agent)
        agent.skills = dict(event.skills)
        self._index.add(agent)
        self._regroup(agent)

    def _on_capacity_changed(
        self, event: AgentCapacityChanged, now: float, out: list[Decision]
    ) -> None:
        """Lowering capacity below current load withdraws nothing: it only stops new offers."""
        agent = self._agent(event.agent_id)
        self._index.remove(agent)
        agent.capacity = dict(event.capacity)
        self._index.add(agent)
        self._regroup(agent)

    def _on_accepted(self, event: OfferAccepted, now: float, out: list[Decision]) -> None:
        contact, agent = self._offered(event.contact_id, event.agent_id)
        del agent.offers[contact.id]
        agent.assigned[contact.id] = contact
        agent.missed_in_row = 0
        contact.status = ASSIGNED
        contact.assigned_at = now
        contact.offer_token = 0
        contact.step_token = 0
        contact.cooldowns.clear()
        contact.pinned_to = None
        contact.pin_direct = False
        contact.preferred_agent_id = None
        out.append(Assigned(contact.id, agent.id))

    def _on_rejected(self, event: OfferRejected, now: float, out: list[Decision]) -> None:
        contact, agent = self._offered(event.contact_id, event.agent_id)
        self._withdraw(contact, agent, "rejected", now, out, cooldown_from=now)

    def _on_reclaimed(self, event: OffersReclaimed, now: float, out: list[Decision]) -> None:
        offered = sorted(
            (c for c in self._contacts.values() if c.status is OFFERED),
            key=lambda c: c.id,
        )
        for contact in offered:
            if contact.agent_id is not None and contact.agent_id not in event.keep_agents:
                agent = self._agents[contact.agent_id]
                self._withdraw(contact, agent, event.reason, now, out, cooldown_from=now)

    def _on_wrap_up_ended(self, event: WrapUpEnded, now: float, out: list[Decision]) -> None:
        agent = self._agent(event.agent_id)
        if agent.wrap_until is not None:
            agent.wrap_until = None
            agent.idle_since = now
            self._reindex(agent, dirty=True)

    def _on_config_changed(self, event: ConfigChanged, now: float, out: list[Decision]) -> None:
        config = event.config
        for contact in self._contacts.values():
            if contact.queue not in config.queues:
                raise RoutingError(
                    "unknown_queue", f"{contact.queue} is removed but {contact.id} is in it"
                )
        for contact in self._contacts.values():
            if contact.status is WAITING:
                self._unplace(contact)
        self._config = config
        self._req_cache.clear()
        self._groups = {}
        self._collect_groups_at = 256
        for agent in self._agents.values():
            agent.groups = {}
        for contact in self._contacts.values():
            if contact.status is ASSIGNED:
                continue
            contact.step = min(contact.step, len(config.queues[contact.queue].steps))
            self._derive(contact)
            self._refresh_pin(contact, now)
            self._schedule_step(contact, now)
            if contact.status is WAITING:
                self._place(contact)
        for agent in self._agents.values():  # groups were rebuilt with their agents above
            self._reindex(agent, dirty=True)

    def _on_tick(self, event: Tick, now: float, out: list[Decision]) -> None:
        return

    # ------------------------------------------------------------------ contact bookkeeping

    def _derive(self, contact: ContactRec) -> None:
        """Recompute what follows from the config: requirements, group, priority terms."""
        queue = self._config.queues[contact.queue]
        value_rules = matching_value_rules(queue.value_skills, contact.value_tags)
        cache_key = (contact.queue, contact.skills, contact.step, value_rules)
        cached = self._req_cache.get(cache_key)
        if cached is None:
            base = base_requirements(contact.skills, queue, value_rules)
            reqs, overflow = requirements_after_steps(base, queue.steps, contact.step)
            pairs: SkillPairs = tuple((req.skill, req.min_level) for req in reqs)
            key: GroupKey = (contact.queue, "", pairs, tuple(sorted(overflow)))
            cached = self._req_cache[cache_key] = (reqs, overflow, key)
        contact.reqs, contact.overflow, key = cached
        contact.group_key = (key[0], contact.channel, key[2], key[3])
        contact.base_priority = contact.priority if contact.priority is not None else queue.priority
        contact.boosts = _boosts(self._config.value_priority, contact.value_tags)
        boost = sum(points for _, points in contact.boosts)
        contact.rate = queue.priority_boost_per_minute / 60.0
        contact.static = contact.base_priority + boost - contact.rate * contact.arrived_at

    def _refresh_pin(self, contact: ContactRec, now: float) -> None:
        """Pin a contact to its preferred agent while the queue's window runs.

        Only for a contact that is not in line right now (offered or unplaced).
        """
        if contact.pin_direct:
            return
        until = contact.arrived_at + self._config.queues[contact.queue].preferred_agent_seconds
        if contact.preferred_agent_id is not None and now < until:
            contact.pinned_to = contact.preferred_agent_id
            contact.pin_token = token = next(self._counter)
            self._push_timer(until, _PIN, contact.id, "", token)
        else:
            contact.pinned_to = None

    def _schedule_step(self, contact: ContactRec, earliest: float) -> None:
        steps = self._config.queues[contact.queue].steps
        contact.step_token = token = next(self._counter)
        if contact.step < len(steps):
            due = max(contact.entered_at + steps[contact.step].after_seconds, earliest)
            self._push_timer(due, _STEP, contact.id, "", token)

    def _place(self, contact: ContactRec) -> None:
        """Put a waiting contact in line: its group's heap, or its pinned agent's list."""
        self._fresh.add(contact.id)
        line = (contact.queue, contact.channel)
        self._waiting.setdefault(line, {})[contact.id] = contact
        pinned_to = contact.pinned_to
        if pinned_to is not None:
            self._pins.setdefault(pinned_to, {})[contact.id] = contact
            self._dirty_pins[pinned_to] = None
            return
        group = self._groups.get(contact.group_key)
        if group is None:
            group = self._new_group(contact.group_key)
        contact.version = next(self._counter)
        contact.group = group
        group.touched = True
        group.n_waiting += 1
        heappush(group.contacts, contact.entry())
        if len(group.contacts) > 2 * group.n_waiting + 32:
            self._compact_contacts(group)
        self._dirty_groups[group] = None

    def _unplace(self, contact: ContactRec) -> None:
        line = self._waiting[(contact.queue, contact.channel)]
        del line[contact.id]
        if not line:
            del self._waiting[(contact.queue, contact.channel)]
        contact.version = next(self._counter)
        group = contact.group
        if group is not None:
            group.n_waiting -= 1
            contact.group = None
        elif contact.pinned_to is not None:
            pins = self._pins[contact.pinned_to]
            del pins[contact.id]
            if not pins:
                del self._pins[contact.pinned_to]

    def _forget(self, contact: ContactRec) -> None:
        del self._contacts[contact.id]
        contact.version = next(self._counter)
        contact.offer_token = contact.step_token = contact.pin_token = 0
        contact.cooldowns.clear()

    def _drop_offer(self, contact: ContactRec, agent: AgentRec) -> None:
        del agent.offers[contact.id]
        _unload(agent, contact.channel)
        contact.status = WAITING
        contact.agent_id = None
        contact.offer_token = 0

    def _withdraw(
        self,
        contact: ContactRec,
        agent: AgentRec,
        reason: str,
        now: float,
        out: list[Decision],
        *,
        cooldown_from: float | None,
    ) -> None:
        """Take an offer back and put the contact back at its place in line."""
        self._drop_offer(contact, agent)
        out.append(OfferWithdrawn(contact.id, agent.id, reason))
        if cooldown_from is not None:
            queue = self._config.queues[contact.queue]
            until = cooldown_from + queue.reject_cooldown_seconds
            if until > now:
                contact.cooldowns[agent.id] = until
                self._push_timer(until, _COOLDOWN, contact.id, agent.id, until)
        if contact.preferred_agent_id == agent.id:
            contact.preferred_agent_id = None
            if not contact.pin_direct:
                contact.pinned_to = None
        if contact.pin_direct and contact.pinned_to == agent.id:
            contact.pin_direct = False
            contact.pinned_to = None
            out.append(Requeued(contact.id, contact.queue, "transfer target did not take it"))
        self._place(contact)
        self._reindex(agent, dirty=True)

    def _release_transfers(self, agent: AgentRec, reason: str, out: list[Decision]) -> None:
        """Contacts transferred to this agent go back to their queue."""
        pins = self._pins.get(agent.id)
        if not pins:
            return
        for contact in [c for c in pins.values() if c.pin_direct]:
            self._unplace(contact)
            contact.pin_direct = False
            contact.pinned_to = None
            out.append(Requeued(contact.id, contact.queue, reason))
            self._place(contact)

    def _release_assigned(self, contact: ContactRec, agent: AgentRec, now: float) -> None:
        del agent.assigned[contact.id]
        _unload(agent, contact.channel)
        samples = self._handle_times.get(contact.queue)
        if samples is None:
            samples = self._handle_times[contact.queue] = deque(maxlen=HANDLE_TIME_SAMPLES)
        samples.append(now - contact.assigned_at)

    # ------------------------------------------------------------------ agent bookkeeping

    def _start_wrap_up(self, agent: AgentRec, queue: str, now: float, out: list[Decision]) -> None:
        if agent.presence is not AVAILABLE:
            return
        seconds = self._config.queues[queue].wrap_up_seconds
        until = now + seconds if seconds > 0 else INF
        was = agent.wrap_until
        if was is not None and was >= until:
            return
        agent.wrap_until = until
        agent.wrap_token = token = next(self._counter)
        if until != INF:
            self._push_timer(until, _WRAP, agent.id, "", token)
        if was is None:
            out.append(AgentStateSet(agent.id, AgentState.WRAP_UP))

    def _make_unavailable(
        self,
        agent: AgentRec,
        state: AgentState,
        reason: str | None,
        now: float,
        out: list[Decision],
    ) -> None:
        agent.presence = state
        agent.reason = reason
        agent.wrap_until = None
        why = "agent offline" if state is AgentState.OFFLINE else "agent not ready"
        for contact in list(agent.offers.values()):
            self._withdraw(contact, agent, why, now, out, cooldown_from=None)
        self._release_transfers(agent, f"transfer target {state}", out)
        self._reindex(agent, dirty=False)

    def _free_channels(self, agent: AgentRec) -> frozenset[Channel]:
        if agent.presence is not AVAILABLE or agent.wrap_until is not None:
            return _NO_CHANNELS
        load = agent.load
        if not load:
            return frozenset(channel for channel, seats in agent.capacity.items() if seats > 0)
        blocked: set[Channel] = set()
        blocks = self._config.cross_channel_blocks
        for channel, count in load.items():
            if count > 0:
                blocked.update(blocks.get(channel, ()))
        return frozenset(
            channel
            for channel, seats in agent.capacity.items()
            if seats > load.get(channel, 0) and channel not in blocked
        )

    def _reindex(self, agent: AgentRec, *, dirty: bool) -> None:
        """Re-file an agent in its groups' heaps after any change to it.

        ``dirty`` says the agent may have become freer, so its groups must be matched again.
        """
        agent.version = version = next(self._counter)
        agent.free = free = self._free_channels(agent)
        if free:
            dirty_groups = self._dirty_groups
            agent_id = agent.id
            idle = (agent.idle_since, 0.0)
            for group in agent.groups.values():
                if group.channel in free:
                    if group.strategy is Strategy.LONGEST_IDLE:
                        first, second = idle
                    else:
                        first, second = strategy_key(
                            agent, group.strategy, group.queue, group.pairs
                        )
                    heap = group.agents
                    heappush(heap, (first, second, agent_id, version))
                    if len(heap) > 2 * len(group.eligible) + 16:
                        self._compact_agents(group)
                    if dirty:
                        dirty_groups[group] = None
            if dirty:
                self._freed.add(agent_id)
        if dirty and agent.id in self._pins:
            self._dirty_pins[agent.id] = None

    def _regroup(self, agent: AgentRec) -> None:
        self._leave_groups(agent)
        self._join_groups(agent)
        self._reindex(agent, dirty=True)

    def _join_groups(self, agent: AgentRec) -> None:
        for group in self._groups.values():
            if agent_serves(agent, group.queues, group.channel, group.pairs):
                group.eligible[agent.id] = agent
                agent.groups[group.key] = group

    def _leave_groups(self, agent: AgentRec) -> None:
        for group in agent.groups.values():
            del group.eligible[agent.id]
        agent.groups = {}

    # ------------------------------------------------------------------ groups

    def _new_group(self, key: GroupKey) -> Group:
        queue_name, channel, pairs, overflow = key
        queue = self._config.queues[queue_name]
        self._collect_groups()
        group = Group(
            key=key,
            queue=queue_name,
            channel=channel,
            pairs=pairs,
            queues=frozenset((queue_name, *overflow)),
            strategy=queue.strategy,
            rate=queue.priority_boost_per_minute / 60.0,
        )
        self._groups[key] = group
        for agent in self._index.candidates(channel, pairs):
            if agent_serves(agent, group.queues, channel, pairs):
                group.eligible[agent.id] = agent
                agent.groups[key] = group
                if channel in agent.free:
                    first, second = strategy_key(agent, group.strategy, queue_name, pairs)
                    group.agents.append((first, second, agent.id, agent.version))
        heapify(group.agents)
        return group

    def _collect_groups(self) -> None:
        """Drop groups that stayed empty since the last sweep, once their number doubled.

        One-off requirement sets (per-contact overrides, rare step combinations) must not pile
        up in agents' group lists, but recurring groups survive: they were touched since.
        """
        if len(self._groups) < self._collect_groups_at:
            return
        for key, group in list(self._groups.items()):
            if group.n_waiting == 0 and not group.touched and group not in self._dirty_groups:
                del self._groups[key]
                for agent in group.eligible.values():
                    del agent.groups[key]
            group.touched = False
        self._collect_groups_at = max(256, 2 * len(self._groups))

    def _compact_contacts(self, group: Group) -> None:
        contacts = self._contacts
        live: list[ContactEntry] = []
        for entry in group.contacts:
            contact = contacts.get(entry[4])
            if contact is not None and contact.version == entry[3]:
                live.append(entry)
        heapify(live)
        group.contacts = live

    def _compact_agents(self, group: Group) -> None:
        agents = self._agents
        live: list[AgentEntry] = []
        for entry in group.agents:
            agent = agents.get(entry[2])
            if agent is not None and agent.version == entry[3]:
                live.append(entry)
        heapify(live)
        group.agents = live

    # ------------------------------------------------------------------ timers

    def _push_timer(self, due: float, kind: int, key: str, sub: str, token: float) -> None:
        heappush(self._timers, (due, next(self._counter), kind, key, sub, token))

    def _timer_live(self, kind: int, key: str, sub: str, token: float) -> bool:
        if kind == _WRAP:
            agent = self._agents.get(key)
            return agent is not None and agent.wrap_token == token and agent.wrap_until is not None
        contact = self._contacts.get(key)
        if contact is None:
            return False
        if kind == _OFFER:
            return contact.status is OFFERED and contact.offer_token == token
        if kind == _STEP:
            return contact.status is not ASSIGNED and contact.step_token == token
        if kind == _PIN:
            return (
                contact.pin_token == token
                and contact.pinned_to is not None
                and not contact.pin_direct
            )
        return contact.cooldowns.get(sub) == token

    def _fire_timers(self, now: float, out: list[Decision]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, _, kind, key, sub, token = heappop(timers)
            if not self._timer_live(kind, key, sub, token):
                continue
            if kind == _OFFER:
                self._offer_timed_out(self._contacts[key], due, now, out)
            elif kind == _STEP:
                self._take_step(self._contacts[key], due, out)
            elif kind == _PIN:
                self._end_pin(self._contacts[key])
            elif kind == _WRAP:
                self._end_wrap_up(self._agents[key], due, out)
            else:
                self._end_cooldown(self._contacts[key], sub)

    def _offer_timed_out(
        self, contact: ContactRec, due: float, now: float, out: list[Decision]
    ) -> None:
        agent = self._agents[contact.agent_id or ""]
        self._withdraw(contact, agent, "timeout", now, out, cooldown_from=due)
        agent.missed_in_row += 1
        limit = self._config.max_missed_offers
        if limit > 0 and agent.missed_in_row >= limit and agent.presence is AVAILABLE:
            out.append(AgentStateSet(agent.id, AgentState.NOT_READY, "missed"))
            self._make_unavailable(agent, AgentState.NOT_READY, "missed", now, out)

    def _take_step(self, contact: ContactRec, due: float, out: list[Decision]) -> None:
        steps = self._config.queues[contact.queue].steps
        if contact.step >= len(steps):
            return
        step = steps[contact.step]
        waiting = contact.status is WAITING
        if waiting:
            self._unplace(contact)
        contact.step += 1
        self._derive(contact)
        if waiting:
            self._place(contact)
        queues = (contact.queue, *contact.overflow)
        out.append(Escalated(contact.id, contact.step, contact.reqs, queues))
        if step.action is not StepAction.NONE:
            out.append(StepActionDue(contact.id, contact.step, step.action))
        self._schedule_step(contact, due)

    def _end_pin(self, contact: ContactRec) -> None:
        if contact.status is WAITING:
            self._unplace(contact)
            contact.pinned_to = None
            self._place(contact)
        else:
            contact.pinned_to = None

    def _end_wrap_up(self, agent: AgentRec, due: float, out: list[Decision]) -> None:
        agent.wrap_until = None
        agent.idle_since = due
        out.append(AgentStateSet(agent.id, derived_state(agent)))
        self._reindex(agent, dirty=True)

    def _end_cooldown(self, contact: ContactRec, agent_id: str) -> None:
        del contact.cooldowns[agent_id]
        if contact.status is not WAITING:
            return
        if contact.pinned_to is not None:
            self._dirty_pins[contact.pinned_to] = None
        elif contact.group is not None:
            self._dirty_groups[contact.group] = None

    # ------------------------------------------------------------------ matching

    def _match(self, now: float, out: list[Decision]) -> None:
        """Offer the best matchable contact to its best agent until no pair is left."""
        dirty_groups = self._dirty_groups
        dirty_pins = self._dirty_pins
        cache: dict[object, _Candidate | None] = {}
        while dirty_groups or dirty_pins:
            best: _Candidate | None = None
            for group in list(dirty_groups):
                if group in cache:
                    candidate = cache[group]
                else:
                    candidate = cache[group] = self._group_candidate(group, now)
                if candidate is None:
                    del dirty_groups[group]
                elif best is None or candidate.order < best.order:
                    best = candidate
            for agent_id in list(dirty_pins):
                if agent_id in cache:
                    candidate = cache[agent_id]
                else:
                    candidate = cache[agent_id] = self._pinned_candidate(agent_id, now)
                if candidate is None:
                    del dirty_pins[agent_id]
                elif best is None or candidate.order < best.order:
                    best = candidate
            if best is None:
                return
            self._offer(best, now, out)
            for key, candidate in list(cache.items()):
                if candidate is not None and (
                    candidate.agent is best.agent or candidate.contact is best.contact
                ):
                    del cache[key]

    def _group_candidate(self, group: Group, now: float) -> _Candidate | None:
        contacts_heap = group.contacts
        contacts = self._contacts
        while contacts_heap:
            entry = contacts_heap[0]
            contact = contacts.get(entry[4])
            if contact is not None and contact.version == entry[3]:
                break
            heappop(contacts_heap)
        else:
            return None
        agents_heap = group.agents
        agents = self._agents
        while agents_heap:
            top = agents_heap[0]
            agent = agents.get(top[2])
            if agent is not None and agent.version == top[3]:
                break
            heappop(agents_heap)
        else:
            return None
        cooldowns = contact.cooldowns
        if not cooldowns or cooldowns.get(agent.id, -INF) <= now:
            return _Candidate(contact.order(now), contact, agent, group)
        return self._group_candidate_past_cooldowns(group, now)

    def _group_candidate_past_cooldowns(self, group: Group, now: float) -> _Candidate | None:
        """Slow path: the best free agents rejected the head contact recently.

        Walks contacts in order and agents in strategy order, so the result is the first
        contact that has a free agent not cooling down on it, with the best such agent.
        Everything popped is pushed back.
        """
        contacts = self._contacts
        popped: list[ContactEntry] = []
        free_agents: list[AgentEntry] = []  # live entries popped so far, best first
        found: _Candidate | None = None
        while found is None and group.contacts:
            entry = heappop(group.contacts)
            contact = contacts.get(entry[4])
            if contact is None or contact.version != entry[3]:
                continue
            popped.append(entry)
            found = self._first_agent_not_cooling(group, contact, free_agents, now)
            if not free_agents:
                break
        for entry in popped:
            heappush(group.contacts, entry)
        for agent_entry in free_agents:
            heappush(group.agents, agent_entry)
        return found

    def _first_agent_not_cooling(
        self, group: Group, contact: ContactRec, free_agents: list[AgentEntry], now: float
    ) -> _Candidate | None:
        passed: list[str] = []
        index = 0
        while True:
            if index == len(free_agents):
                entry = self._pop_live_agent(group)
                if entry is None:
                    return None
                free_agents.append(entry)
            agent_id = free_agents[index][2]
            index += 1
            if contact.cooldowns.get(agent_id, -INF) > now:
                passed.append(agent_id)
                continue
            agent = self._agents[agent_id]
            return _Candidate(contact.order(now), contact, agent, group, tuple(passed))

    def _pop_live_agent(self, group: Group) -> AgentEntry | None:
        agents = self._agents
        while group.agents:
            entry = heappop(group.agents)
            agent = agents.get(entry[2])
            if agent is not None and agent.version == entry[3]:
                return entry
        return None

    def _best_free_agents(self, group: Group, count: int) -> list[AgentEntry]:
        """The ``count`` best free agents of a group, by popping and pushing back.

        heapq's C code beats walking the heap tree in Python, and the stale entries this pops
        on the way (agents that just got offers elsewhere cluster at the top) stay gone.
        """
        found: list[AgentEntry] = []
        while len(found) < count:
            entry = self._pop_live_agent(group)
            if entry is None:
                break
            found.append(entry)
        for entry in found:
            heappush(group.agents, entry)
        return found

    def _pinned_candidate(self, agent_id: str, now: float) -> _Candidate | None:
        agent = self._agents.get(agent_id)
        pins = self._pins.get(agent_id)
        if agent is None or not pins or not agent.free:
            return None
        best: _Candidate | None = None
        for contact in pins.values():
            if contact.channel not in agent.free:
                continue
            if contact.cooldowns.get(agent_id, -INF) > now:
                continue
            if not contact.pin_direct and not self._serves_contact(agent, contact):
                continue
            order = contact.order(now)
            if best is None or order < best.order:
                best = _Candidate(order, contact, agent, None)
        return best

    def _serves_contact(self, agent: AgentRec, contact: ContactRec) -> bool:
        queues = frozenset((contact.queue, *contact.overflow))
        return agent_serves(agent, queues, contact.channel, contact.group_key[2])

    def _offer(self, candidate: _Candidate, now: float, out: list[Decision]) -> None:
        contact, agent = candidate.contact, candidate.agent
        trace = self._trace(candidate, now) if self._explain else self._unexplained(contact)
        self._unplace(contact)
        contact.status = OFFERED
        contact.agent_id = agent.id
        timeout = self._config.offer_timeout_seconds.get(contact.channel, DEFAULT_OFFER_TIMEOUT)
        contact.offer_deadline = deadline = now + timeout
        contact.offer_token = token = next(self._counter)
        self._push_timer(deadline, _OFFER, contact.id, "", token)
        agent.offers[contact.id] = contact
        agent.load[contact.channel] = agent.load.get(contact.channel, 0) + 1
        agent.last_offered[contact.queue] = next(self._counter)
        self._reindex(agent, dirty=False)
        out.append(Offer(contact.id, agent.id, deadline, trace))

    def _unexplained(self, contact: ContactRec) -> DecisionTrace:
        strategy = self._config.queues[contact.queue].strategy
        return DecisionTrace(
            contact.queue, strategy, contact.step, "not explained", contact.reqs, ()
        )

    def _trace(self, candidate: _Candidate, now: float) -> DecisionTrace:
        contact, chosen, group = candidate.contact, candidate.agent, candidate.group
        strategy = self._config.queues[contact.queue].strategy
        if group is None:
            rule = "transferred to agent" if contact.pin_direct else "preferred agent"
            score = strategy_key(chosen, strategy, contact.queue, contact.group_key[2])
            only = (CandidateTrace(chosen.id, score),)
            return DecisionTrace(
                contact.queue, strategy, contact.step, rule, contact.reqs, only, contact.boosts
            )
        if contact.id not in self._fresh and chosen.id in self._freed:
            rule = _FREED_RULE
        else:
            rule = _RULES[strategy]
        notes = self._notes
        entries = [notes.skipped(agent_id, "rejected recently") for agent_id in candidate.cooling]
        cooldowns = contact.cooldowns
        winners: list[CandidateTrace] = []
        for first, second, agent_id, _ in self._best_free_agents(
            group, MAX_WINNERS + len(candidate.cooling)
        ):
            if agent_id in candidate.cooling or cooldowns.get(agent_id, -INF) > now:
                continue
            trace = notes.scored(agent_id, first, second)
            if agent_id == chosen.id:
                winners.insert(0, trace)
            elif len(winners) < MAX_WINNERS - 1:
                winners.append(trace)
        entries[:0] = winners
        entries += notes.passed_over(
            eligible=group.eligible.values(),
            members=self._index.queue_members(contact.queue),
            queues=group.queues,
            channel=group.channel,
            pairs=group.pairs,
            blocks=self._config.cross_channel_blocks,
            room=MAX_SKIPPED - len(candidate.cooling),
        )
        return DecisionTrace(
            contact.queue,
            strategy,
            contact.step,
            rule,
            contact.reqs,
            tuple(entries),
            contact.boosts,
        )

    # ------------------------------------------------------------------ views

    def _average_handle_time(self, queue: str) -> float:
        samples = self._handle_times.get(queue)
        if not samples:
            return self._config.default_handle_seconds
        return sum(samples) / len(samples)

    def _servers(self, contact: ContactRec, now: float) -> int:
        """Logged-in (not offline) agents who can serve the contact and are not cooling down
        on it."""
        if contact.pinned_to is not None:
            agent = self._agents.get(contact.pinned_to)
            candidates = [] if agent is None else [agent]
        elif contact.group is None:
            return 0
        else:
            candidates = list(contact.group.eligible.values())
        cooling = contact.cooldowns
        return sum(
            1
            for agent in candidates
            if agent.presence is not AgentState.OFFLINE and cooling.get(agent.id, -INF) <= now
        )

    def _agent_view(self, agent: AgentRec) -> AgentView:
        offered: dict[Channel, list[str]] = {}
        for contact in agent.offers.values():
            offered.setdefault(contact.channel, []).append(contact.id)
        assigned: dict[Channel, list[str]] = {}
        for contact in agent.assigned.values():
            assigned.setdefault(contact.channel, []).append(contact.id)
        blocked = {
            other
            for channel, count in agent.load.items()
            if count > 0
            for other in self._config.cross_channel_blocks.get(channel, ())
        }
        free = {
            channel: 0 if channel in blocked else max(0, seats - agent.load.get(channel, 0))
            for channel, seats in agent.capacity.items()
        }
        return AgentView(
            agent_id=agent.id,
            state=derived_state(agent),
            reason=agent.reason if agent.presence is not AVAILABLE else None,
            skills=dict(agent.skills),
            capacity=dict(agent.capacity),
            queues=tuple(sorted(agent.queues)),
            offered={channel: tuple(ids) for channel, ids in offered.items()},
            assigned={channel: tuple(ids) for channel, ids in assigned.items()},
            free_capacity=free,
            idle_since=agent.idle_since,
            missed_in_row=agent.missed_in_row,
            wrap_up_until=agent.wrap_until,
        )

    def _contact_view(self, contact: ContactRec) -> ContactView:
        return ContactView(
            contact_id=contact.id,
            queue=contact.queue,
            channel=contact.channel,
            status=contact.status,
            arrived_at=contact.arrived_at,
            entered_queue_at=contact.entered_at,
            priority=contact.base_priority,
            value_tags=contact.value_tags,
            step=contact.step,
            requirements=contact.reqs,
            overflow_queues=contact.overflow,
            agent_id=contact.agent_id,
            offer_deadline=contact.offer_deadline if contact.status is OFFERED else None,
            preferred_agent_id=contact.preferred_agent_id,
            pinned_to=contact.pinned_to,
        )
