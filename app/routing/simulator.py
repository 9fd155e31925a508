"""Discrete-event simulation of the routing engine on a virtual clock.

Contacts arrive (Poisson per queue, or a recorded list for replays), the real
``RoutingEngine`` decides who gets them, and simulated agents accept every offer at once,
handle the contact for an exponential time with the queue's mean (or the recorded
duration), then wrap up: with the queue's ``wrap_up_seconds`` = 0 the agent sends
``WrapUpEnded`` at once, otherwise the engine's own wrap-up timer ends it. Engine timers
are honoured by feeding a ``Tick`` whenever ``next_timer()`` is due before the next
simulated event. Each queue draws arrivals, handle times, patience and skill mix from its
own ``random.Random`` seeded from the run's seed, so a run is reproducible.

Measurement, chosen so that steady-state figures are comparable with Erlang C/A:

* warm-up: contacts arriving in the first 10% of the run (unless told otherwise) are
  routed but not counted, and agent time is measured from the end of the warm-up only;
* contacts arriving in [warm-up end, run end) are followed to their outcome: arrivals
  keep coming (unmeasured) after the end until every measured contact is answered or has
  abandoned, so the last measured contacts see a loaded system, not an emptying one;
* handled = answered (assigned to an agent); a contact's wait = answer time - arrival;
  p_abandon = abandoned / offered;
* p_wait = handled contacts with a wait > 0 (not offered at the instant they arrived)
  / handled; asa_seconds and the wait percentiles are over handled contacts;
* service_level = handled within sl_seconds / (handled + abandoned after sl_seconds):
  abandons within the threshold count neither way, the usual contact-centre definition.
  With no abandonment it is handled within sl_seconds / handled, i.e. Erlang C's figure.
  ``service_level_of_offered`` = handled within sl_seconds / offered is Erlang A's figure;
* occupancy of a queue = time the agents able to serve it spent busy (at least one
  contact or in wrap-up, whatever the contact's queue) / their staffed time (signed in,
  or busy finishing a contact after signing out), over [warm-up end, run end). An agent
  can serve a queue if it lists it, or lists none and has every skill the queue requires
  at the required level.

Agents are all signed in and available for the whole run, or, with ``presence`` (replays,
the demo's history), start offline and follow their recorded sign-ins, not-ready periods
and sign-outs. A recorded contact's own wrap-up (``wrap_up_seconds``) is ended by the
simulated agent with ``WrapUpEnded``, unless the queue's wrap-up timer ends it first.

A recorded contact may also carry its recorded offers (``responses``: an agent offered it
accepts or rejects after their recorded ringing time, or lets it time out, as they did;
an agent with no such record accepts at once) and its transfers (``transfers``: after the
recorded talk the agent transfers it to the recorded queue or agent, where it waits again).
A transferred contact counts once, in the queue it arrived in, with its first answer; the
later legs only keep agents busy.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.routing.core.engine import RoutingEngine
from app.routing.core.model import (
    AgentLoggedIn,
    AgentState,
    AgentStateChanged,
    AgentStateSet,
    AgentView,
    Assigned,
    Channel,
    ContactAbandoned,
    ContactEnded,
    ContactEnqueued,
    ContactTransferred,
    Decision,
    Event,
    Offer,
    OfferAccepted,
    OfferRejected,
    OfferWithdrawn,
    QueueConfig,
    RoutingConfig,
    SkillRequirement,
    Strategy,
    Tick,
    WrapUpEnded,
)

DEFAULT_WARMUP_FRACTION = 0.10
# After the run's end the simulation goes on (arrivals included, unmeasured) until every
# measured contact is answered or gone, but for at most this fraction of the run.
MAX_DRAIN_FRACTION = 1.0
DEFAULT_SL_SECONDS = 20.0
_MAX_TICKS_WITHOUT_PROGRESS = 10_000


class Engine(Protocol):
    """The part of ``RoutingEngine`` the simulator drives."""

    def handle(self, event: Event, now: float) -> list[Decision]: ...

    def next_timer(self) -> float | None: ...

    def agent_view(self, agent_id: str) -> AgentView: ...


EngineFactory = Callable[[RoutingConfig], Engine]


# ------------------------------------------------------------------------ set-up


@dataclass(frozen=True, slots=True)
class SkillMix:
    """A share of a queue's contacts that need these skills instead of the queue's own."""

    share: float
    skills: tuple[SkillRequirement, ...]


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """How contacts reach one queue and how long they keep an agent."""

    queue: str
    arrival_rate_per_hour: float
    aht_seconds: float
    channel: Channel = "voice"
    patience_seconds: float | None = None  # None = nobody abandons
    sl_seconds: float = DEFAULT_SL_SECONDS
    skill_mix: tuple[SkillMix, ...] = ()  # empty = every contact needs the queue's skills


@dataclass(frozen=True, slots=True)
class SimulatedAgent:
    agent_id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[Channel, int] = field(default_factory=lambda: {"voice": 1})
    queues: tuple[str, ...] = ()  # empty = every queue the skills fit


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """An agent's own change of presence at ``time`` (seconds from the run's start).

    ``AVAILABLE`` signs in (or ends a not-ready period), ``NOT_READY`` starts a break with
    its reason, ``OFFLINE`` signs out. Being on a contact or in wrap-up is the engine's to
    derive, never an input.
    """

    time: float
    agent_id: str
    state: AgentState
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SimulationSetup:
    routing: RoutingConfig
    loads: tuple[QueueLoad, ...]
    agents: tuple[SimulatedAgent, ...]
    hours: float
    seed: int = 1
    warmup_seconds: float | None = None  # None = DEFAULT_WARMUP_FRACTION of the run
    # None: every agent signs in at 0 and stays available; otherwise every agent starts
    # offline and follows its changes (an agent with none never signs in)
    presence: tuple[PresenceChange, ...] | None = None
    record_presence: bool = False  # keep every presence the engine derives (slower)

    @property
    def duration_seconds(self) -> float:
        return self.hours * 3600.0

    @property
    def measured_from(self) -> float:
        if self.warmup_seconds is not None:
            return self.warmup_seconds
        return self.duration_seconds * DEFAULT_WARMUP_FRACTION


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """How one agent answered one recorded offer of a contact.

    ``accepted`` and ``rejected`` after ``after_seconds`` of ringing; ``timeout``: the
    agent let it ring until the engine withdrew it (at the deadline of the configuration
    replayed).
    """

    agent_id: str
    outcome: Literal["accepted", "rejected", "timeout"]
    after_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RecordedTransfer:
    """A recorded transfer: after ``talk_seconds`` with the agent holding the contact, it
    goes to ``to_queue`` or to ``to_agent_id`` (one of the two) and waits again, for at
    most ``patience_seconds`` (None: as long as it takes)."""

    talk_seconds: float
    to_queue: str | None = None
    to_agent_id: str | None = None
    patience_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class RecordedArrival:
    """One contact of a recorded period, for replays. Times in seconds from its start."""

    time: float
    queue: str
    channel: Channel
    skills: tuple[SkillRequirement, ...] | None  # None = the queue's skills
    handle_seconds: float  # talk: from answer to the end of the contact
    patience_seconds: float | None = None  # None = waits as long as it takes
    # the agent's own wrap-up after it (None: the queue's wrap-up timer alone ends it, or
    # at once without one); the engine's timer still ends it first when shorter
    wrap_up_seconds: float | None = None
    priority: int | None = None  # None = the queue's default
    value_tags: tuple[str, ...] = ()  # the customer's value at arrival (grade:P, vip, ...)
    # its recorded offers, in order: an agent offered the contact answers as they did the
    # first time not yet replayed; an agent with none left accepts at once
    responses: tuple[RecordedResponse, ...] = ()
    # its transfers, in order: ``handle_seconds`` and ``wrap_up_seconds`` are the last leg's
    transfers: tuple[RecordedTransfer, ...] = ()


# ----------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ContactOutcome:
    contact_id: str
    queue: str
    arrived_at: float
    answered_at: float | None = None
    abandoned_at: float | None = None
    agent_id: str | None = None  # who answered it
    offered_at: float | None = None  # its first offer
    ended_at: float | None = None
    wrap_up_ended_at: float | None = None  # when its agent's wrap-up after it ended
    value_tags: tuple[str, ...] = ()

    @property
    def wait(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.arrived_at


@dataclass(frozen=True, slots=True)
class PresenceRecord:
    """An agent's presence as the engine reports it (``record_presence`` runs only)."""

    time: float
    agent_id: str
    state: AgentState
    reason: str | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    queue: str
    offered: int
    handled: int
    abandoned: int
    unanswered: int  # neither answered nor abandoned when the simulation ran dry
    p_wait: float | None
    asa_seconds: float | None
    service_level: float | None
    service_level_of_offered: float | None
    p_abandon: float | None  # abandoned / offered
    occupancy: float | None
    wait_p50: float | None
    wait_p90: float | None
    wait_p99: float | None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class SimulationResult:
    queues: tuple[QueueStats, ...]
    occupancy: float | None  # every agent
    measured_from: float
    measured_until: float
    contacts: tuple[ContactOutcome, ...] = field(repr=False)  # the measured ones
    presence_log: tuple[PresenceRecord, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queues": [stats.as_dict() for stats in self.queues],
            "occupancy": self.occupancy,
            "measured_seconds": [self.measured_from, self.measured_until],
        }


# -------------------------------------------------------------- pending events


@dataclass(frozen=True, slots=True)
class _Arrival:
    contact: RecordedArrival


@dataclass(frozen=True, slots=True)
class _PatienceOver:
    contact_id: str
    leg: int = 0  # the wait it ends: 0 the first, n the one after the n-th transfer


@dataclass(frozen=True, slots=True)
class _OfferAnswer:
    contact_id: str
    agent_id: str
    offer: int  # the contact's offer it answers; a later offer makes it stale
    accept: bool


@dataclass(frozen=True, slots=True)
class _HandleDone:
    contact_id: str


@dataclass(frozen=True, slots=True)
class _WrapUpDone:
    agent_id: str
    generation: int  # the agent's wrap-up this ends; a later contact's starts a new one


@dataclass(frozen=True, slots=True)
class _Presence:
    change: PresenceChange


_Pending = _Arrival | _PatienceOver | _HandleDone | _WrapUpDone | _Presence | _OfferAnswer


@dataclass(slots=True)
class _Contact:
    contact_id: str
    arrival: RecordedArrival
    measured: bool
    answered_at: float | None = None
    abandoned_at: float | None = None
    agent_id: str | None = None
    offered_at: float | None = None
    ended_at: float | None = None
    wrap_up_ended_at: float | None = None
    queue: str = ""  # the queue it waits in now (set at arrival, changed by transfers)
    leg: int = 0  # transfers replayed so far
    holder: str | None = None  # the agent it is assigned to now
    offers: int = 0  # offers made so far
    offered_to: str | None = None  # the agent it is offered to now
    responses_used: list[int] | None = None  # indexes of the recorded responses replayed

    @property
    def resolved(self) -> bool:
        return self.answered_at is not None or self.abandoned_at is not None

    def outcome(self) -> ContactOutcome:
        return ContactOutcome(
            self.contact_id,
            self.arrival.queue,
            self.arrival.time,
            self.answered_at,
            self.abandoned_at,
            self.agent_id,
            self.offered_at,
            self.ended_at,
            self.wrap_up_ended_at,
            self.arrival.value_tags,
        )


@dataclass(slots=True)
class _Span:
    """Seconds during which something held, clipped to the measurement window."""

    since: float | None = None
    seconds: float = 0.0

    def update(self, holds: bool, now: float, window: tuple[float, float]) -> None:
        if holds and self.since is None:
            self.since = now
        elif not holds and self.since is not None:
            self.close(now, window)
            self.since = None

    def close(self, now: float, window: tuple[float, float]) -> None:
        if self.since is None:
            return
        start, end = max(self.since, window[0]), min(now, window[1])
        self.seconds += max(0.0, end - start)


@dataclass(slots=True)
class _AgentClock:
    """Busy and staffed time of one agent, clipped to the measurement window.

    Busy: at least one contact or in wrap-up. Staffed: signed in, or busy (an agent who
    signs out finishes the contact in hand).
    """

    active_contacts: int = 0
    wrapping_up: bool = False
    signed_in: bool = False
    wrap_generation: int = 0
    awaiting_wrap_end: list[_Contact] = field(default_factory=list)
    busy_span: _Span = field(default_factory=_Span)
    staffed_span: _Span = field(default_factory=_Span)

    @property
    def busy(self) -> bool:
        return self.active_contacts > 0 or self.wrapping_up

    @property
    def busy_seconds(self) -> float:
        return self.busy_span.seconds

    @property
    def staffed_seconds(self) -> float:
        return self.staffed_span.seconds

    def update(self, now: float, window: tuple[float, float]) -> None:
        busy = self.active_contacts > 0 or self.wrapping_up
        if busy != (self.busy_span.since is not None):
            self.busy_span.update(busy, now, window)
        staffed = busy or self.signed_in
        if staffed != (self.staffed_span.since is not None):
            self.staffed_span.update(staffed, now, window)

    def close(self, now: float, window: tuple[float, float]) -> None:
        self.busy_span.close(now, window)
        self.staffed_span.close(now, window)


# ------------------------------------------------------------------ the run


class _Simulation:
    def __init__(
        self, setup: SimulationSetup, arrivals: Iterator[RecordedArrival], engine: Engine
    ) -> None:
        self.setup = setup
        self.engine = engine
        self.arrivals = arrivals
        self.window = (setup.measured_from, setup.duration_seconds)
        self.now = 0.0
        self.heap: list[tuple[float, int, _Pending]] = []
        self.sequence = itertools.count()
        self.contacts: dict[str, _Contact] = {}
        self.measured: list[_Contact] = []
        self.unresolved_measured = 0
        self.clocks = {agent.agent_id: _AgentClock() for agent in setup.agents}
        self.agents = {agent.agent_id: agent for agent in setup.agents}
        self.presence_log: list[PresenceRecord] = []
        self.record_presence = setup.record_presence
        self.last_presence: dict[str, tuple[AgentState, str | None]] = {}

    # -- scheduling

    def schedule(self, at: float, pending: _Pending) -> None:
        heapq.heappush(self.heap, (at, next(self.sequence), pending))

    def schedule_next_arrival(self) -> None:
        arrival = next(self.arrivals, None)
        if arrival is not None:
            self.schedule(arrival.time, _Arrival(arrival))

    # -- engine

    def feed(self, event: Event) -> None:
        """Hand one event to the engine and play out what it decides, in order."""
        events: list[Event] = [event]
        touched: set[str] = set()
        handle, react, now = self.engine.handle, self.react, self.now
        while events:
            next_event = events.pop(0)
            decisions = handle(next_event, now)
            if self.record_presence:
                touched.update(_agents_named(next_event, decisions))
            for decision in decisions:
                follow_up = react(decision)
                if follow_up is not None:
                    events.append(follow_up)
        if touched:
            self.log_presence(sorted(touched))

    def log_presence(self, agent_ids: Iterable[str]) -> None:
        for agent_id in agent_ids:
            view = self.engine.agent_view(agent_id)
            now_state = (view.state, view.reason)
            if self.last_presence.get(agent_id, (AgentState.OFFLINE, None)) != now_state:
                self.last_presence[agent_id] = now_state
                self.presence_log.append(PresenceRecord(self.now, agent_id, *now_state))

    def react(self, decision: Decision) -> Event | None:
        """Simulated agents accept an offer at once, unless the contact's recording says how
        this agent answered it (``on_offer``): the one event a decision may cause now."""
        kind = type(decision)
        if kind is Offer:
            assert isinstance(decision, Offer)
            contact = self.contacts[decision.contact_id]
            if contact.offered_at is None:
                contact.offered_at = self.now
            if contact.arrival.responses:
                return self.on_offer(contact, decision.agent_id)
            return OfferAccepted(decision.contact_id, decision.agent_id)
        if kind is Assigned:
            assert isinstance(decision, Assigned)
            self.on_assigned(decision.contact_id, decision.agent_id)
        elif kind is AgentStateSet:
            assert isinstance(decision, AgentStateSet)
            self.set_wrapping_up(decision.agent_id, decision.state is AgentState.WRAP_UP)
        elif kind is OfferWithdrawn:
            assert isinstance(decision, OfferWithdrawn)
            self.contacts[decision.contact_id].offered_to = None
        return None

    def on_offer(self, contact: _Contact, agent_id: str) -> Event | None:
        """The agent answers as recorded: the first of their recorded responses to this
        contact not yet replayed (accept or reject after its ringing time, or let it time
        out); with none left, accept at once."""
        used = contact.responses_used if contact.responses_used is not None else []
        contact.responses_used = used
        response = next(
            (
                (index, r)
                for index, r in enumerate(contact.arrival.responses)
                if r.agent_id == agent_id and index not in used
            ),
            None,
        )
        if response is None:
            return OfferAccepted(contact.contact_id, agent_id)
        index, recorded = response
        used.append(index)
        contact.offers += 1
        contact.offered_to = agent_id
        if recorded.outcome != "timeout":
            accept = recorded.outcome == "accepted"
            answer = _OfferAnswer(contact.contact_id, agent_id, contact.offers, accept)
            self.schedule(self.now + recorded.after_seconds, answer)
        return None

    def on_offer_answer(self, answer: _OfferAnswer) -> None:
        contact = self.contacts[answer.contact_id]
        if contact.offered_to != answer.agent_id or contact.offers != answer.offer:
            return  # withdrawn meanwhile (the caller hung up, the agent signed out, ...)
        contact.offered_to = None
        kind = OfferAccepted if answer.accept else OfferRejected
        self.feed(kind(answer.contact_id, answer.agent_id))

    def set_wrapping_up(self, agent_id: str, wrapping_up: bool) -> None:
        clock = self.clocks[agent_id]
        clock.wrapping_up = wrapping_up
        clock.update(self.now, self.window)
        if not wrapping_up:
            for contact in clock.awaiting_wrap_end:
                contact.wrap_up_ended_at = self.now
            clock.awaiting_wrap_end.clear()

    def on_assigned(self, contact_id: str, agent_id: str) -> None:
        """The first answer is the contact's (its wait); a later one, after a transfer, is
        only more work for the agent."""
        contact = self.contacts[contact_id]
        if contact.holder is not None:
            return
        contact.holder = agent_id
        contact.offered_to = None
        if contact.answered_at is None:
            contact.answered_at = self.now
            contact.agent_id = agent_id
            self.resolve(contact)
        clock = self.clocks[agent_id]
        clock.active_contacts += 1
        clock.update(self.now, self.window)
        transfers = contact.arrival.transfers
        talk = (
            transfers[contact.leg].talk_seconds
            if contact.leg < len(transfers)
            else contact.arrival.handle_seconds
        )
        self.schedule(self.now + talk, _HandleDone(contact_id))

    def resolve(self, contact: _Contact) -> None:
        if contact.measured:
            self.unresolved_measured -= 1

    # -- pending events

    def run(self) -> None:
        if self.setup.presence is None:
            self.log_agents_in()
        else:
            self.register_agents_offline()
            for change in sorted(self.setup.presence, key=lambda change: change.time):
                self.schedule(change.time, _Presence(change))
        self.schedule_next_arrival()
        stalled_ticks = 0
        while not self.finished():
            timer = self.engine.next_timer()
            upcoming = self.heap[0][0] if self.heap else math.inf
            if timer is not None and timer <= upcoming:
                stalled_ticks = stalled_ticks + 1 if timer <= self.now else 0
                if stalled_ticks > _MAX_TICKS_WITHOUT_PROGRESS:
                    raise RuntimeError(f"engine.next_timer() stays at {timer} after Ticks")
                self.now = max(self.now, timer)
                self.feed(Tick())
                continue
            if not self.heap:
                break
            at, _, pending = heapq.heappop(self.heap)
            self.now = max(self.now, at)
            self.process(pending)
        self.close_clocks()

    def finished(self) -> bool:
        end = self.setup.duration_seconds
        if self.now >= end + end * MAX_DRAIN_FRACTION:
            return True  # contacts nobody can serve: report them as unanswered
        return (self.now >= end or not self.heap) and self.unresolved_measured == 0

    def process(self, pending: _Pending) -> None:
        kind = type(pending)  # a type test per kind: the hottest line of a long replay
        if kind is _Arrival:
            self.on_arrival(pending.contact)  # type: ignore[union-attr]
        elif kind is _HandleDone:
            self.on_handle_done(pending.contact_id)  # type: ignore[union-attr]
        elif kind is _WrapUpDone:
            self.on_wrap_up_done(pending.agent_id, pending.generation)  # type: ignore[union-attr]
        elif kind is _PatienceOver:
            self.on_patience_over(pending)  # type: ignore[arg-type]
        elif kind is _OfferAnswer:
            self.on_offer_answer(pending)  # type: ignore[arg-type]
        else:
            assert isinstance(pending, _Presence)
            self.on_presence(pending.change)

    def log_agents_in(self) -> None:
        for agent in self.setup.agents:
            self.log_in(agent.agent_id)
            self.feed(AgentStateChanged(agent.agent_id, AgentState.AVAILABLE))

    def log_in(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        clock = self.clocks[agent_id]
        clock.signed_in = True
        clock.update(self.now, self.window)
        self.feed(
            AgentLoggedIn(agent.agent_id, dict(agent.skills), dict(agent.capacity), agent.queues)
        )

    def register_agents_offline(self) -> None:
        """Every agent known to the engine and offline before anything happens, so that a
        first change to not-ready never passes through available (and an offer)."""
        recording, self.record_presence = self.record_presence, False
        for agent_id in self.agents:
            self.log_in(agent_id)
            self.feed(AgentStateChanged(agent_id, AgentState.OFFLINE))
            self.clocks[agent_id].signed_in = False
            self.clocks[agent_id].update(self.now, self.window)
        self.record_presence = recording

    def on_presence(self, change: PresenceChange) -> None:
        """Follow an agent's own change; an agent made unavailable ends its wrap-up."""
        clock = self.clocks.get(change.agent_id)
        if clock is None:
            raise ValueError(f"presence of an unknown agent {change.agent_id!r}")
        self.feed(AgentStateChanged(change.agent_id, change.state, change.reason))
        clock.signed_in = change.state is not AgentState.OFFLINE
        if change.state is not AgentState.AVAILABLE:
            self.set_wrapping_up(change.agent_id, False)
        clock.update(self.now, self.window)

    def on_arrival(self, arrival: RecordedArrival) -> None:
        contact_id = f"c{len(self.contacts) + 1}"
        measured = self.window[0] <= arrival.time < self.window[1]
        contact = _Contact(contact_id, arrival, measured, queue=arrival.queue)
        self.contacts[contact_id] = contact
        if measured:
            self.measured.append(contact)
            self.unresolved_measured += 1
        if arrival.patience_seconds is not None:
            self.schedule(arrival.time + arrival.patience_seconds, _PatienceOver(contact_id))
        self.schedule_next_arrival()
        self.feed(
            ContactEnqueued(
                contact_id,
                arrival.queue,
                arrival.channel,
                arrival.time,
                priority=arrival.priority,
                skills=arrival.skills,
                value_tags=arrival.value_tags,
            )
        )

    def on_patience_over(self, pending: _PatienceOver) -> None:
        """The caller hangs up, unless answered in that wait first. Hanging up after a
        transfer ends the contact; its outcome stays the first answer."""
        contact = self.contacts[pending.contact_id]
        if contact.leg != pending.leg or contact.holder is not None:
            return  # answered before its patience ran out
        if contact.answered_at is None:
            if contact.abandoned_at is not None:
                return
            contact.abandoned_at = self.now
            self.resolve(contact)
        elif contact.ended_at is not None:
            return
        else:
            contact.ended_at = contact.wrap_up_ended_at = self.now
        self.feed(ContactAbandoned(pending.contact_id))

    def on_handle_done(self, contact_id: str) -> None:
        """End the contact (or transfer it, as recorded), then the agent's wrap-up: their
        own (recorded) or the queue's.

        The engine's wrap-up timer (fired by Ticks) ends a wrap-up with ``AgentStateSet``,
        which is also how overlapping wrap-ups are resolved; a recorded wrap-up sends
        ``WrapUpEnded`` when it is over unless the timer or another contact came first.
        """
        contact = self.contacts[contact_id]
        agent_id = contact.holder
        assert agent_id is not None
        contact.holder = None
        clock = self.clocks[agent_id]
        clock.active_contacts -= 1
        clock.update(self.now, self.window)
        clock.wrap_generation += 1
        transfers = contact.arrival.transfers
        queue = contact.queue  # the engine starts the wrap-up of the queue it leaves
        if contact.leg < len(transfers):
            self.transfer(contact, transfers[contact.leg])
            wrap_up = None  # the first agent's wrap-up after a transfer is not recorded
        else:
            contact.ended_at = self.now
            self.feed(ContactEnded(contact_id))
            wrap_up = contact.arrival.wrap_up_seconds
            if clock.wrapping_up:
                clock.awaiting_wrap_end.append(contact)
            else:
                contact.wrap_up_ended_at = self.now  # not available: no wrap-up
        if not clock.wrapping_up:
            return
        if wrap_up is not None:
            self.schedule(self.now + wrap_up, _WrapUpDone(agent_id, clock.wrap_generation))
        elif self.setup.routing.queues[queue].wrap_up_seconds <= 0:
            self.end_wrap_up(agent_id)

    def transfer(self, contact: _Contact, transfer: RecordedTransfer) -> None:
        """The recorded transfer: the contact waits again, in the target queue or for the
        target agent, with that wait's patience."""
        contact.leg += 1
        contact.queue = transfer.to_queue or contact.queue
        event = ContactTransferred(contact.contact_id, transfer.to_queue, transfer.to_agent_id)
        self.feed(event)
        if transfer.patience_seconds is not None:
            pending = _PatienceOver(contact.contact_id, contact.leg)
            self.schedule(self.now + transfer.patience_seconds, pending)

    def on_wrap_up_done(self, agent_id: str, generation: int) -> None:
        clock = self.clocks[agent_id]
        if clock.wrapping_up and clock.wrap_generation == generation:
            self.end_wrap_up(agent_id)

    def end_wrap_up(self, agent_id: str) -> None:
        self.set_wrapping_up(agent_id, False)
        self.feed(WrapUpEnded(agent_id))

    def close_clocks(self) -> None:
        """States still running when the run stops run on until the window's end."""
        until = max(self.now, self.window[1])
        for clock in self.clocks.values():
            clock.close(until, self.window)


def _agents_named(event: Event, decisions: Iterable[Decision]) -> Iterator[str]:
    agent_id = getattr(event, "agent_id", None)
    if isinstance(agent_id, str):
        yield agent_id
    for decision in decisions:
        agent_id = getattr(decision, "agent_id", None)
        if isinstance(agent_id, str):
            yield agent_id


# ------------------------------------------------------------------ statistics


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def queue_stats(
    queue: str, outcomes: Sequence[ContactOutcome], sl_seconds: float, occupancy: float | None
) -> QueueStats:
    waits = sorted(o.wait for o in outcomes if o.wait is not None)
    abandoned = [o for o in outcomes if o.abandoned_at is not None]
    late_abandons = sum(
        1
        for o in abandoned
        if o.abandoned_at is not None and o.abandoned_at - o.arrived_at > sl_seconds
    )
    within = sum(1 for wait in waits if wait <= sl_seconds)
    return QueueStats(
        queue=queue,
        offered=len(outcomes),
        handled=len(waits),
        abandoned=len(abandoned),
        unanswered=len(outcomes) - len(waits) - len(abandoned),
        p_wait=_ratio(sum(1 for wait in waits if wait > 0), len(waits)),
        asa_seconds=_ratio(math.fsum(waits), len(waits)),
        service_level=_ratio(within, len(waits) + late_abandons),
        service_level_of_offered=_ratio(within, len(outcomes)),
        p_abandon=_ratio(len(abandoned), len(outcomes)),
        occupancy=occupancy,
        wait_p50=percentile(waits, 0.50),
        wait_p90=percentile(waits, 0.90),
        wait_p99=percentile(waits, 0.99),
    )


def _meets(agent: SimulatedAgent, requirements: Iterable[SkillRequirement]) -> bool:
    return all(agent.skills.get(r.skill, 0) >= r.min_level for r in requirements)


def serves(agent: SimulatedAgent, queue: QueueConfig) -> bool:
    if agent.queues:
        return queue.name in agent.queues
    return _meets(agent, queue.skills)


def _occupancy(agent_ids: Sequence[str], clocks: Mapping[str, _AgentClock]) -> float | None:
    busy = math.fsum(clocks[agent_id].busy_seconds for agent_id in agent_ids)
    staffed = math.fsum(clocks[agent_id].staffed_seconds for agent_id in agent_ids)
    return _ratio(busy, staffed)


def _summarise(setup: SimulationSetup, simulation: _Simulation) -> SimulationResult:
    outcomes = [contact.outcome() for contact in simulation.measured]
    sl_by_queue = {load.queue: load.sl_seconds for load in setup.loads}
    names = list(sl_by_queue) + sorted({o.queue for o in outcomes} - set(sl_by_queue))
    stats = []
    for name in names:
        config = setup.routing.queues.get(name, QueueConfig(name))
        pool = [agent.agent_id for agent in setup.agents if serves(agent, config)]
        stats.append(
            queue_stats(
                name,
                [o for o in outcomes if o.queue == name],
                sl_by_queue.get(name, DEFAULT_SL_SECONDS),
                _occupancy(pool, simulation.clocks),
            )
        )
    everyone = [agent.agent_id for agent in setup.agents]
    return SimulationResult(
        queues=tuple(stats),
        occupancy=_occupancy(everyone, simulation.clocks),
        measured_from=setup.measured_from,
        measured_until=setup.duration_seconds,
        contacts=tuple(outcomes),
        presence_log=tuple(simulation.presence_log),
    )


# ------------------------------------------------------------------ arrivals


def _draw_skills(rng: random.Random, load: QueueLoad) -> tuple[SkillRequirement, ...] | None:
    if not load.skill_mix:
        return None
    weights = [mix.share for mix in load.skill_mix]
    return rng.choices(load.skill_mix, weights=weights)[0].skills


def poisson_arrivals(load: QueueLoad, rng: random.Random) -> Iterator[RecordedArrival]:
    """An endless Poisson stream for one queue; its consumer decides when to stop."""
    if load.arrival_rate_per_hour <= 0:
        return
    rate = load.arrival_rate_per_hour / 3600.0
    time = 0.0
    while True:
        time += rng.expovariate(rate)
        patience = None
        handle = rng.expovariate(1.0 / load.aht_seconds)
        skills = _draw_skills(rng, load)
        if load.patience_seconds is not None:
            patience = rng.expovariate(1.0 / load.patience_seconds)
        yield RecordedArrival(time, load.queue, load.channel, skills, handle, patience)


def _merged_poisson(setup: SimulationSetup) -> Iterator[RecordedArrival]:
    master = random.Random(setup.seed)
    streams = [
        poisson_arrivals(load, random.Random(master.getrandbits(64))) for load in setup.loads
    ]
    return heapq.merge(*streams, key=lambda arrival: arrival.time)


def _default_engine(config: RoutingConfig) -> Engine:
    return RoutingEngine(config, explain=False)  # nobody reads a simulated offer's why


def _run(
    setup: SimulationSetup, arrivals: Iterator[RecordedArrival], engine_factory: EngineFactory
) -> SimulationResult:
    _check_setup(setup)
    simulation = _Simulation(setup, arrivals, engine_factory(setup.routing))
    simulation.run()
    return _summarise(setup, simulation)


def _check_setup(setup: SimulationSetup) -> None:
    unknown = [load.queue for load in setup.loads if load.queue not in setup.routing.queues]
    if unknown:
        raise ValueError(f"loads name queues missing from the routing config: {unknown}")
    if not 0 <= setup.measured_from < setup.duration_seconds:
        raise ValueError("the warm-up must be shorter than the run")


def run_simulation(
    setup: SimulationSetup, engine_factory: EngineFactory = _default_engine
) -> SimulationResult:
    """Simulate ``setup.hours`` of Poisson arrivals; same setup and seed, same result."""
    return _run(setup, _merged_poisson(setup), engine_factory)


def replay_arrivals(
    setup: SimulationSetup,
    arrivals: Iterable[RecordedArrival],
    engine_factory: EngineFactory = _default_engine,
) -> SimulationResult:
    """Replay recorded arrivals instead of Poisson ones (hook for ``--replay FROM TO``).

    ``setup.loads`` still give each queue's sl_seconds (their rates, AHTs and patience are
    not used); ``setup.hours`` is the length of the recorded period. Set
    ``setup.warmup_seconds`` (often 0) to say which arrivals are measured.
    """
    ordered = sorted(arrivals, key=lambda arrival: arrival.time)
    named = {a.queue for a in ordered}
    named.update(t.to_queue for a in ordered for t in a.transfers if t.to_queue is not None)
    unknown = sorted(named - set(setup.routing.queues))
    if unknown:
        raise ValueError(f"recorded arrivals name queues missing from the config: {unknown}")
    agents = {agent.agent_id for agent in setup.agents}
    strangers = sorted(
        {t.to_agent_id for a in ordered for t in a.transfers if t.to_agent_id is not None} - agents
    )
    if strangers:
        raise ValueError(f"recorded transfers name agents not simulated: {strangers}")
    return _run(setup, iter(ordered), engine_factory)


# ------------------------------------------------------------------ scenarios


class ScenarioError(ValueError):
    """A scenario file that cannot be simulated; the message says why, for people."""


Level = Annotated[int, Field(ge=1, le=5)]
ChannelName = Literal["voice", "chat", "email"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SkillMixSpec(_Spec):
    share: float = Field(gt=0, description="relative weight; shares need not add up to 1")
    skills: dict[str, Level]


class QueueSpec(_Spec):
    name: str = Field(min_length=1)
    arrival_rate_per_hour: float = Field(ge=0)
    aht_seconds: float = Field(gt=0)
    channel: ChannelName = "voice"
    patience_seconds: float | None = Field(default=None, gt=0)
    sl_seconds: float = Field(default=DEFAULT_SL_SECONDS, ge=0)
    wrap_up_seconds: float = Field(default=0.0, ge=0)
    skills: dict[str, Level] = Field(default_factory=dict)
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = 0
    skill_mix: list[SkillMixSpec] = Field(default_factory=list)


def _one_voice_line() -> dict[ChannelName, int]:
    return {"voice": 1}


class AgentGroupSpec(_Spec):
    name: str = Field(min_length=1)
    count: int = Field(default=1, ge=1, le=100_000)
    skills: dict[str, Level] = Field(default_factory=dict)
    capacity: dict[ChannelName, Annotated[int, Field(ge=0)]] = Field(
        default_factory=_one_voice_line
    )
    queues: list[str] = Field(default_factory=list)


class ScenarioSpec(_Spec):
    hours: float = Field(default=8.0, gt=0)
    warmup_hours: float | None = Field(default=None, ge=0)
    seed: int = 1
    queues: list[QueueSpec] = Field(min_length=1)
    agents: list[AgentGroupSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _require_unique("queue names", [queue.name for queue in self.queues])
        _require_unique("agent group names", [group.name for group in self.agents])
        known = {queue.name for queue in self.queues}
        for group in self.agents:
            unknown = sorted(set(group.queues) - known)
            if unknown:
                raise ValueError(f"agent group {group.name!r} serves unknown queues {unknown}")
        if self.warmup_hours is not None and self.warmup_hours >= self.hours:
            raise ValueError("warmup_hours must be shorter than hours")
        return self


def _require_unique(what: str, names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique, repeated: {repeated}")


def _requirements(skills: Mapping[str, int]) -> tuple[SkillRequirement, ...]:
    return tuple(SkillRequirement(skill, level) for skill, level in sorted(skills.items()))


def _queue_config(spec: QueueSpec) -> QueueConfig:
    return QueueConfig(
        name=spec.name,
        skills=_requirements(spec.skills),
        strategy=spec.strategy,
        priority=spec.priority,
        wrap_up_seconds=spec.wrap_up_seconds,
    )


def _queue_load(spec: QueueSpec) -> QueueLoad:
    return QueueLoad(
        queue=spec.name,
        arrival_rate_per_hour=spec.arrival_rate_per_hour,
        aht_seconds=spec.aht_seconds,
        channel=spec.channel,
        patience_seconds=spec.patience_seconds,
        sl_seconds=spec.sl_seconds,
        skill_mix=tuple(SkillMix(mix.share, _requirements(mix.skills)) for mix in spec.skill_mix),
    )


def _capacity(group: AgentGroupSpec) -> dict[Channel, int]:
    return {str(channel): lines for channel, lines in group.capacity.items()}


def _agents(group: AgentGroupSpec) -> list[SimulatedAgent]:
    ids = (
        [group.name]
        if group.count == 1
        else [f"{group.name}-{i}" for i in range(1, group.count + 1)]
    )
    return [
        SimulatedAgent(agent_id, dict(group.skills), _capacity(group), tuple(group.queues))
        for agent_id in ids
    ]


def setup_from_spec(
    spec: ScenarioSpec, *, hours: float | None = None, seed: int | None = None
) -> SimulationSetup:
    """``hours`` and ``seed``, when given, override the scenario's."""
    warmup = None if spec.warmup_hours is None else spec.warmup_hours * 3600.0
    return SimulationSetup(
        routing=RoutingConfig(queues={q.name: _queue_config(q) for q in spec.queues}),
        loads=tuple(_queue_load(q) for q in spec.queues),
        agents=tuple(agent for group in spec.agents for agent in _agents(group)),
        hours=spec.hours if hours is None else hours,
        seed=spec.seed if seed is None else seed,
        warmup_seconds=warmup,
    )


def parse_scenario(text: str) -> ScenarioSpec:
    """Read and validate a YAML scenario, or raise ScenarioError with every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise ScenarioError("a scenario is a YAML mapping with 'queues' and 'agents'")
    try:
        return ScenarioSpec.model_validate(document)
    except ValidationError as error:
        raise ScenarioError(_describe(error)) from error


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "scenario"
        lines.append(f"{where}: {problem['msg']}")
    return "invalid scenario:\n  " + "\n  ".join(lines)
