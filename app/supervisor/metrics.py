"""The supervisor's figures, computed from the event log: no I/O, time passed in.

One ``Aggregator`` serves both the live wallboard and the interval reports: it consumes
``contact_events`` rows in id order and adds each event's effect to the tally of the bucket
its time falls in. The live view uses one bucket per day; a report uses one bucket per
interval of ``[from, to)`` and ignores what happened before ``from`` except to know the
state (who waits, who is on a contact). The same code therefore gives the same numbers.

Definitions (docs/supervisor.md):

* offered: a contact entered the queue (``contact.queued``);
* answered: first ``contact.assigned`` of a contact; its wait runs from entering the queue
  (or from being requeued after a transfer) to the assignment;
* abandoned: ``contact.abandoned``; short abandons (the routing policy's
  ``short_abandon_seconds``, flagged in the event) are counted apart and left out of the
  service level;
* service level: answered within the queue's target / (answered + abandoned - short);
* handled: ``contact.ended``; handle time = talk (assignment to end, hold included) plus the
  agent's wrap-up that followed; AHT = (talk + wrap-up) / handled over the period;
* transfers: ``contact.requeued`` whose reason starts with "transferred", per answered.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

DAY = 86400.0
RECENT_SECONDS = 1800.0  # "service level over the last 30 minutes"
AGENT_STATES = ("available", "on_contact", "wrap_up", "not_ready")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    contact_id: int | None
    agent_id: int | None
    at: float  # seconds since the epoch
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    percent: int = 80
    seconds: float = 20.0


@dataclass(frozen=True, slots=True)
class Buckets:
    """Consecutive periods of ``width`` seconds from ``origin``, counted within [start, end)."""

    origin: float
    width: float
    start: float = -math.inf
    end: float = math.inf

    def of(self, t: float) -> int | None:
        if not self.start <= t < self.end:
            return None
        return math.floor((t - self.origin) / self.width)

    def bounds(self, bucket: int) -> tuple[float, float]:
        low = self.origin + bucket * self.width
        return max(low, self.start), min(low + self.width, self.end)

    def split(self, a: float, b: float) -> Iterator[tuple[int, float]]:
        """The seconds of [a, b) falling in each bucket."""
        a, b = max(a, self.start), min(b, self.end)
        while a < b:
            bucket = math.floor((a - self.origin) / self.width)
            edge = min(b, self.origin + (bucket + 1) * self.width)
            yield bucket, edge - a
            a = edge


@dataclass(slots=True)
class QueueTally:
    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    handled: int = 0
    transfers: int = 0
    answer_wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    longest_wait_seconds: float = 0.0  # of contacts answered or abandoned in the period

    def add(self, other: QueueTally) -> None:
        for name in self.__slots__:
            mine, theirs = getattr(self, name), getattr(other, name)
            merged = max(mine, theirs) if name == "longest_wait_seconds" else mine + theirs
            setattr(self, name, merged)

    def figures(self) -> dict[str, Any]:
        counted = self.answered + self.abandoned - self.short_abandoned
        return {
            "offered": self.offered,
            "answered": self.answered,
            "answered_in_target": self.answered_in_target,
            "handled": self.handled,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "service_level": _ratio(100 * self.answered_in_target, counted),
            "asa_seconds": _ratio(self.answer_wait_seconds, self.answered),
            "aht_seconds": _ratio(self.talk_seconds + self.wrap_up_seconds, self.handled),
            "talk_seconds": round(self.talk_seconds, 3),
            "wrap_up_seconds": round(self.wrap_up_seconds, 3),
            "longest_wait_seconds": round(self.longest_wait_seconds, 3),
            "transfers": self.transfers,
            "transfer_rate": _ratio(100 * self.transfers, self.answered),
        }


@dataclass(slots=True)
class AgentTally:
    handled: int = 0
    talk_seconds: float = 0.0
    wrap_up_seconds: float = 0.0
    state_seconds: dict[tuple[str, str | None], float] = field(default_factory=dict)

    def add(self, other: AgentTally) -> None:
        self.handled += other.handled
        self.talk_seconds += other.talk_seconds
        self.wrap_up_seconds += other.wrap_up_seconds
        for key, seconds in other.state_seconds.items():
            self.state_seconds[key] = self.state_seconds.get(key, 0.0) + seconds

    def figures(self) -> dict[str, Any]:
        by_state: dict[str, float] = defaultdict(float)
        reasons: dict[str, float] = defaultdict(float)
        for (state, reason), seconds in self.state_seconds.items():
            by_state[state] += seconds
            if state == "not_ready":
                reasons[reason or "none"] += seconds
        busy = by_state.get("on_contact", 0.0) + by_state.get("wrap_up", 0.0)
        return {
            "handled": self.handled,
            "aht_seconds": _ratio(self.talk_seconds + self.wrap_up_seconds, self.handled),
            "talk_seconds": round(self.talk_seconds, 3),
            "wrap_up_seconds": round(self.wrap_up_seconds, 3),
            "logged_in_seconds": round(sum(v for k, v in by_state.items() if k != "offline"), 3),
            "state_seconds": {k: round(v, 3) for k, v in sorted(by_state.items())},
            "not_ready_reason_seconds": {k: round(v, 3) for k, v in sorted(reasons.items())},
            "occupancy": _ratio(100 * busy, busy + by_state.get("available", 0.0)),
        }


def _ratio(top: float, bottom: float) -> float | None:
    return None if bottom == 0 else round(top / bottom, 3)


@dataclass(slots=True)
class _Contact:
    channel: str
    queue: str | None = None
    waiting_since: float | None = None  # entered (or re-entered) the queue; None: not waiting
    agent_id: int | None = None
    assigned_at: float | None = None
    answered: bool = False


@dataclass(slots=True)
class _Agent:
    state: str = "offline"
    reason: str | None = None
    since: float = 0.0
    contacts: set[int] = field(default_factory=set)
    wrap_queue: tuple[str, str] | None = None  # (queue, channel) of the last contact ended


@dataclass(frozen=True, slots=True)
class _Outcome:
    at: float
    answered: bool
    in_target: bool
    short: bool


class Aggregator:
    """Per-queue and per-agent figures from contact events, kept incrementally."""

    def __init__(self, buckets: Buckets, targets: dict[str, Target] | None = None) -> None:
        self.buckets = buckets
        self.targets = dict(targets or {})
        self.queues: dict[tuple[int, str, str], QueueTally] = {}
        self.agent_tallies: dict[tuple[int, int], AgentTally] = {}
        self.contacts: dict[int, _Contact] = {}
        self.agents: dict[int, _Agent] = {}
        self.waiting: dict[str, dict[int, float]] = defaultdict(dict)
        self.recent: dict[str, deque[_Outcome]] = defaultdict(deque)
        self.arrivals: dict[str, deque[float]] = defaultdict(deque)
        self.dirty_queues: set[str] = set()
        self.dirty_agents: set[int] = set()
        self.events_applied = 0

    # ------------------------------------------------------------------ input

    def target(self, queue: str) -> Target:
        return self.targets.get(queue, Target())

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        self.events_applied += 1
        if event.kind == "agent.state_changed":
            if event.agent_id is not None:
                self._agent_state(event.agent_id, event.payload, event.at)
            return
        if event.contact_id is None:
            return
        handler = _CONTACT_HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, event.contact_id, event)

    def _queue_tally(self, t: float, contact: _Contact) -> QueueTally | None:
        bucket = self.buckets.of(t)
        if bucket is None or contact.queue is None:
            return None
        key = (bucket, contact.queue, contact.channel)
        tally = self.queues.get(key)
        if tally is None:
            tally = self.queues[key] = QueueTally()
        return tally

    def _agent_tally(self, bucket: int, agent_id: int) -> AgentTally:
        tally = self.agent_tallies.get((bucket, agent_id))
        if tally is None:
            tally = self.agent_tallies[(bucket, agent_id)] = AgentTally()
        return tally

    def _on_created(self, contact_id: int, event: Event) -> None:
        channel = str(event.payload.get("channel", "unknown"))
        self.contacts[contact_id] = _Contact(channel=channel, queue=event.payload.get("queue"))

    def _contact(self, contact_id: int) -> _Contact | None:
        return self.contacts.get(contact_id)

    def _on_queued(self, contact_id: int, event: Event) -> None:
        contact = self._contact(contact_id)
        if contact is None:
            return
        contact.queue = str(event.payload.get("queue", contact.queue))
        self._start_waiting(contact_id, contact, event.at)
        self.arrivals[contact.queue].append(event.at)
        tally = self._queue_tally(event.at, contact)
        if tally is not None:
            tally.offered += 1

    def _start_waiting(self, contact_id: int, contact: _Contact, t: float) -> None:
        assert contact.queue is not None
        contact.waiting_since = t
        self.waiting[contact.queue][contact_id] = t
        self.dirty_queues.add(contact.queue)

    def _stop_waiting(self, contact_id: int, contact: _Contact) -> float | None:
        since, contact.waiting_since = contact.waiting_since, None
        if contact.queue is not None:
            self.waiting[contact.queue].pop(contact_id, None)
            self.dirty_queues.add(contact.queue)
        return since

    def _on_assigned(self, contact_id: int, event: Event) -> None:
        contact = self._contact(contact_id)
        if contact is None or event.agent_id is None:
            return
        since = self._stop_waiting(contact_id, contact)
        contact.agent_id, contact.assigned_at = event.agent_id, event.at
        self._agent(event.agent_id).contacts.add(contact_id)
        self.dirty_agents.add(event.agent_id)
        if contact.answered or since is None or contact.queue is None:
            return
        contact.answered = True
        wait = event.at - since
        in_target = wait <= self.target(contact.queue).seconds
        self._remember(contact.queue, _Outcome(event.at, True, in_target, False))
        tally = self._queue_tally(event.at, contact)
        if tally is not None:
            tally.answered += 1
            tally.answered_in_target += in_target
            tally.answer_wait_seconds += wait
            tally.longest_wait_seconds = max(tally.longest_wait_seconds, wait)

    def _remember(self, queue: str, outcome: _Outcome) -> None:
        self.recent[queue].append(outcome)

    def _on_abandoned(self, contact_id: int, event: Event) -> None:
        contact = self.contacts.pop(contact_id, None)
        if contact is None:
            return
        since = self._stop_waiting(contact_id, contact)
        short = bool(event.payload.get("short_abandon", False))
        wait = 0.0 if since is None else event.at - since
        if contact.queue is not None:
            self._remember(contact.queue, _Outcome(event.at, False, False, short))
        tally = self._queue_tally(event.at, contact)
        if tally is not None:
            tally.abandoned += 1
            tally.short_abandoned += short
            tally.longest_wait_seconds = max(tally.longest_wait_seconds, wait)

    def _release(self, contact_id: int, contact: _Contact, t: float) -> float:
        """The agent stops working on the contact; returns the talk time of this leg."""
        agent_id, started = contact.agent_id, contact.assigned_at
        contact.agent_id = contact.assigned_at = None
        if agent_id is None or started is None:
            return 0.0
        agent = self._agent(agent_id)
        agent.contacts.discard(contact_id)
        if contact.queue is not None:
            agent.wrap_queue = (contact.queue, contact.channel)
        talk = t - started
        bucket = self.buckets.of(t)
        if bucket is not None:
            self._agent_tally(bucket, agent_id).talk_seconds += talk
        self.dirty_agents.add(agent_id)
        return talk

    def _on_ended(self, contact_id: int, event: Event) -> None:
        contact = self.contacts.pop(contact_id, None)
        if contact is None:
            return
        self._stop_waiting(contact_id, contact)
        agent_id = contact.agent_id
        talk = self._release(contact_id, contact, event.at)
        bucket = self.buckets.of(event.at)
        if agent_id is not None and bucket is not None:
            self._agent_tally(bucket, agent_id).handled += 1
        tally = self._queue_tally(event.at, contact)
        if tally is not None:
            tally.handled += 1
            tally.talk_seconds += talk
        if contact.queue is not None:
            self.dirty_queues.add(contact.queue)

    def _on_requeued(self, contact_id: int, event: Event) -> None:
        contact = self._contact(contact_id)
        if contact is None:
            return
        reason = str(event.payload.get("reason", ""))
        was_assigned = contact.agent_id is not None
        if was_assigned:
            talk = self._release(contact_id, contact, event.at)
            tally = self._queue_tally(event.at, contact)
            if tally is not None:
                tally.talk_seconds += talk
                tally.transfers += reason.startswith("transferred")
        moved = False
        if contact.waiting_since is not None:
            since = self._stop_waiting(contact_id, contact)
        else:
            since, moved = event.at, True
        contact.queue = str(event.payload.get("queue", contact.queue))
        self._start_waiting(contact_id, contact, event.at if moved or since is None else since)

    def _on_closed(self, contact_id: int, event: Event) -> None:
        self.contacts.pop(contact_id, None)

    # ------------------------------------------------------------------ agents

    def _agent(self, agent_id: int) -> _Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self.agents[agent_id] = _Agent()
        return agent

    def _agent_state(self, agent_id: int, payload: dict[str, Any], t: float) -> None:
        agent = self._agent(agent_id)
        if agent.state != "offline" and agent.since < t:
            self._count_state(agent_id, agent, agent.since, t)
        if agent.state == "wrap_up":
            self._end_wrap_up(agent_id, agent, t)
        agent.state = str(payload.get("state", "offline"))
        agent.reason = payload.get("reason")
        agent.since = t
        if agent.state == "offline":
            agent.contacts.clear()
        self.dirty_agents.add(agent_id)
        if agent.wrap_queue is not None:
            self.dirty_queues.add(agent.wrap_queue[0])

    def _count_state(self, agent_id: int, agent: _Agent, a: float, b: float) -> None:
        key = (agent.state, agent.reason)
        for bucket, seconds in self.buckets.split(a, b):
            tally = self._agent_tally(bucket, agent_id)
            tally.state_seconds[key] = tally.state_seconds.get(key, 0.0) + seconds

    def _end_wrap_up(self, agent_id: int, agent: _Agent, t: float) -> None:
        bucket = self.buckets.of(t)
        if bucket is None:
            return
        seconds = t - agent.since
        self._agent_tally(bucket, agent_id).wrap_up_seconds += seconds
        if agent.wrap_queue is not None:
            queue, channel = agent.wrap_queue
            key = (bucket, queue, channel)
            self.queues.setdefault(key, QueueTally()).wrap_up_seconds += seconds

    def close(self, t: float) -> None:
        """End of a report: count the states still running until ``t``."""
        for agent_id, agent in self.agents.items():
            if agent.state != "offline" and agent.since < t:
                self._count_state(agent_id, agent, agent.since, t)
                agent.since = t

    # ------------------------------------------------------------------ reading

    def queue_tally(
        self, queue: str, buckets: Iterable[int] | None = None, channel: str | None = None
    ) -> QueueTally:
        wanted = None if buckets is None else set(buckets)
        total = QueueTally()
        for (bucket, name, chan), tally in self.queues.items():
            in_period = wanted is None or bucket in wanted
            if name == queue and in_period and (channel is None or chan == channel):
                total.add(tally)
        return total

    def agent_tally(self, agent_id: int, bucket: int, now: float | None = None) -> AgentTally:
        """The agent's tally of ``bucket``, with the running state counted until ``now``."""
        total = AgentTally()
        stored = self.agent_tallies.get((bucket, agent_id))
        if stored is not None:
            total.add(stored)
        agent = self.agents.get(agent_id)
        if now is not None and agent is not None and agent.state != "offline":
            key = (agent.state, agent.reason)
            for piece, seconds in self.buckets.split(agent.since, now):
                if piece == bucket:
                    total.state_seconds[key] = total.state_seconds.get(key, 0.0) + seconds
        return total

    def recent_service_level(self, queue: str, now: float) -> float | None:
        outcomes = self.recent.get(queue)
        if not outcomes:
            return None
        while outcomes and outcomes[0].at < now - RECENT_SECONDS:
            outcomes.popleft()
        counted = [o for o in outcomes if not o.short and o.at <= now]
        return _ratio(100 * sum(o.in_target for o in counted), len(counted))

    def recent_arrivals_per_hour(self, queue: str, now: float) -> float:
        arrivals = self.arrivals.get(queue)
        if not arrivals:
            return 0.0
        while arrivals and arrivals[0] < now - RECENT_SECONDS:
            arrivals.popleft()
        return len(arrivals) * 3600.0 / RECENT_SECONDS

    def longest_waiting(self, queue: str) -> float | None:
        waiting = self.waiting.get(queue)
        return min(waiting.values()) if waiting else None

    def queue_names(self) -> set[str]:
        names = {name for _, name, _ in self.queues}
        names.update(q for q, w in self.waiting.items() if w)
        names.update(self.targets)
        return names

    def prune_before(self, bucket: int) -> None:
        """Forget tallies of finished days (the live view keeps today only)."""
        for key in [k for k in self.queues if k[0] < bucket]:
            del self.queues[key]
        for agent_key in [k for k in self.agent_tallies if k[0] < bucket]:
            del self.agent_tallies[agent_key]

    def drain_dirty(self) -> tuple[set[str], set[int]]:
        queues, agents = self.dirty_queues, self.dirty_agents
        self.dirty_queues, self.dirty_agents = set(), set()
        return queues, agents


_CONTACT_HANDLERS = {
    "contact.created": Aggregator._on_created,
    "contact.queued": Aggregator._on_queued,
    "contact.assigned": Aggregator._on_assigned,
    "contact.abandoned": Aggregator._on_abandoned,
    "contact.ended": Aggregator._on_ended,
    "contact.requeued": Aggregator._on_requeued,
    "contact.queue_closed": Aggregator._on_closed,
}


def replay(
    events: Iterable[Event], buckets: Buckets, targets: dict[str, Target] | None = None
) -> Aggregator:
    """The aggregator of a report: every event applied, running states counted to its end."""
    agg = Aggregator(buckets, targets)
    agg.apply_all(events)
    if math.isfinite(buckets.end):
        agg.close(buckets.end)
    return agg


# ------------------------------------------------------------------ value breakdown

GRADES = ("P", "G", "S", "B", "none")
VALUE_CLASSES = ("key", "major", "normal")
BREAKDOWNS: dict[str, tuple[str, ...]] = {"grade": GRADES, "value_class": VALUE_CLASSES}
_TAG_PREFIX = {"grade": "grade:", "value_class": "class:"}


def value_group(tags: Iterable[str] | None, by: str) -> str:
    """The contact's group under breakdown ``by`` ("grade" or "value_class") from the value
    tags it arrived with (``grade:P``, ``class:key``, ...). No tags, or none for ``by``:
    the customer was never graded / never ranked, so "none" (grade) or "normal" (class)."""
    prefix = _TAG_PREFIX[by]
    groups = BREAKDOWNS[by]
    for tag in tags or ():
        if tag.startswith(prefix) and tag[len(prefix) :] in groups:
            return tag[len(prefix) :]
    return groups[-1]


def replay_by_group(
    events: Iterable[Event],
    group_of: dict[int, str],
    buckets: Buckets,
    targets: dict[str, Target] | None = None,
    default: str = "",
) -> dict[str, Aggregator]:
    """One aggregator per group of contacts (``group_of``: contact id → group, ``default``
    for a contact not in it), each fed the contact events of its own contacts only.

    Contact figures (offered, answered, service level, ASA, abandoned, handled, talk) are
    those of the whole replay split by group: they depend on a contact's own events alone.
    Agent events are left out, so wrap-up, and with it AHT, is not split."""
    groups: dict[str, Aggregator] = {}
    for event in events:
        if event.contact_id is None:
            continue
        name = group_of.get(event.contact_id, default)
        agg = groups.get(name)
        if agg is None:
            agg = groups[name] = Aggregator(buckets, targets)
        agg.apply(event)
    return groups


def value_figures(tally: QueueTally) -> dict[str, Any]:
    """The breakdown's figures: volumes, service level, ASA and abandons (docs/supervisor.md);
    abandon_rate = abandoned / offered, in percent."""
    figures = tally.figures()
    kept = (
        "offered",
        "answered",
        "answered_in_target",
        "handled",
        "abandoned",
        "short_abandoned",
        "service_level",
        "asa_seconds",
        "longest_wait_seconds",
    )
    return {name: figures[name] for name in kept} | {
        "abandon_rate": _ratio(100 * tally.abandoned, tally.offered)
    }
