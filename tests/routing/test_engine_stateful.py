"""Random event sequences against the routing engine, checked from the outside.

A small, deliberately naive model follows the engine only through the events it is sent
and the decisions it returns, and asserts after every step:

* a contact never has two outstanding offers;
* an offer never exceeds the agent's free capacity or breaks a cross-channel block;
* work conservation: no waiting contact has an eligible free agent (O(n*m) check);
* ordering: an offered contact was the best waiting contact eligible for that agent;
* nothing is lost: every enqueued contact is waiting, offered, assigned or removed;
* timers fire when due and not before (offer deadlines, wrap-up, escalation steps).

All times, priorities and boosts are multiples of 0.5 so every sum is exact in binary
floating point and the model's arithmetic cannot disagree with the engine's by rounding.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from app.routing.core import (
    AgentCapacityChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentSkillsChanged,
    AgentState,
    AgentStateChanged,
    AgentStateSet,
    Assigned,
    ConfigChanged,
    ContactAbandoned,
    ContactEnded,
    ContactEnqueued,
    ContactRemoved,
    ContactStatus,
    ContactTransferred,
    ContactUpdated,
    Decision,
    Escalated,
    EscalationStep,
    Event,
    Offer,
    OfferAccepted,
    OfferRejected,
    OffersReclaimed,
    OfferWithdrawn,
    QueueConfig,
    Requeued,
    RoutingConfig,
    RoutingEngine,
    RoutingError,
    SkillRequirement,
    StepAction,
    StepActionDue,
    Strategy,
    Tick,
    WrapUpEnded,
)

SKILLS = ("en", "fr", "tech")
CHANNELS = ("voice", "chat", "email")
QUEUES = ("qa", "qb", "qc")
AGENTS = ("a0", "a1", "a2", "a3", "a4")
R = SkillRequirement

CONFIGS = (
    RoutingConfig(
        queues={
            "qa": QueueConfig(
                "qa",
                skills=(R("en", 2),),
                steps=(
                    EscalationStep(after_seconds=10, lower_min_level_by=1),
                    EscalationStep(
                        after_seconds=20, overflow_queues=("qb",), action=StepAction.CALLBACK
                    ),
                ),
                wrap_up_seconds=5,
                reject_cooldown_seconds=15,
            ),
            "qb": QueueConfig(
                "qb",
                skills=(R("fr", 1),),
                strategy=Strategy.ROUND_ROBIN,
                priority_boost_per_minute=30,
                preferred_agent_seconds=10,
                wrap_up_seconds=0,
                reject_cooldown_seconds=10,
            ),
            "qc": QueueConfig(
                "qc",
                strategy=Strategy.MOST_SKILLED,
                priority=1,
                steps=(
                    EscalationStep(after_seconds=5, add_skills=(R("tech", 2),)),
                    EscalationStep(after_seconds=15, drop_skills=("tech",)),
                ),
                preferred_agent_seconds=20,
                wrap_up_seconds=2.5,
                reject_cooldown_seconds=0,
            ),
        },
        offer_timeout_seconds={"voice": 10.0, "chat": 15.0, "email": 20.0},
        max_missed_offers=2,
    ),
    RoutingConfig(
        queues={
            "qa": QueueConfig(
                "qa",
                skills=(R("en", 3), R("tech", 1)),
                strategy=Strategy.LEAST_OCCUPIED,
                priority_boost_per_minute=60,
                steps=(
                    EscalationStep(after_seconds=5, lower_min_level_by=2, drop_skills=("tech",)),
                ),
                wrap_up_seconds=0,
                reject_cooldown_seconds=5,
            ),
            "qb": QueueConfig(
                "qb",
                skills=(R("fr", 2),),
                priority=2,
                steps=(EscalationStep(after_seconds=0, overflow_queues=("qc",)),),
                preferred_agent_seconds=5,
                wrap_up_seconds=5,
            ),
            "qc": QueueConfig("qc", strategy=Strategy.LONGEST_IDLE, priority_boost_per_minute=30),
        },
        offer_timeout_seconds={"voice": 5.0, "chat": 10.0, "email": 10.0},
        max_missed_offers=1,
        value_priority={"vip": 3, "grade:P": 2, "class:key": 1},
        cross_channel_blocks={"voice": ("chat",), "chat": ("email",)},
        version=2,
    ),
)

DT = st.sampled_from((0.0, 0.0, 0.0, 0.5, 1.0, 2.5))  # between events; ticks add more
AGENT_SKILLS = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=1)
CAPACITY = st.dictionaries(st.sampled_from(CHANNELS), st.integers(1, 3), min_size=1)
AGENT_QUEUES = st.sampled_from(((), (), ("qa",), ("qb", "qc"), ("qa", "qc")))
OPTIONAL_SKILLS = st.sampled_from((None, None, None)) | st.lists(
    st.builds(R, st.sampled_from(SKILLS), st.integers(1, 4)),
    max_size=2,
    unique_by=lambda r: r.skill,
).map(tuple)


@dataclass
class MAgent:
    skills: dict[str, int]
    capacity: dict[str, int]
    queues: frozenset[str]
    presence: AgentState = AgentState.AVAILABLE
    wrap_until: float | None = None
    missed: int = 0
    offers: set[str] = field(default_factory=set)
    assigned: set[str] = field(default_factory=set)


@dataclass
class MContact:
    id: str
    queue: str
    channel: str
    arrived: float
    seq: int
    priority: int | None
    skills: tuple[SkillRequirement, ...] | None
    value_tags: tuple[str, ...]
    pref: str | None
    entered: float
    status: ContactStatus = ContactStatus.WAITING
    agent: str | None = None
    deadline: float = math.inf
    step: int = 0
    direct: str | None = None  # transferred to this agent
    cooldowns: dict[str, float] = field(default_factory=dict)


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cfg = CONFIGS[0]
        self.engine = RoutingEngine(self.cfg)
        self.now = 0.0
        self.agents: dict[str, MAgent] = {}
        self.contacts: dict[str, MContact] = {}
        self.ids = itertools.count()
        self.seq = itertools.count()
        self.event: Event = Tick()

    # ------------------------------------------------------------ the naive model

    def requirements(self, c: MContact) -> tuple[dict[str, int], set[str]]:
        queue = self.cfg.queues[c.queue]
        levels = {
            r.skill: r.min_level for r in (c.skills if c.skills is not None else queue.skills)
        }
        overflow: set[str] = set()
        for step in queue.steps[: c.step]:
            levels = {s: max(1, lvl - step.lower_min_level_by) for s, lvl in levels.items()}
            levels.update({r.skill: r.min_level for r in step.add_skills})
            for skill in step.drop_skills:
                levels.pop(skill, None)
            overflow.update(step.overflow_queues)
        return levels, overflow

    def pinned_to(self, c: MContact) -> str | None:
        if c.direct is not None:
            return c.direct
        window = self.cfg.queues[c.queue].preferred_agent_seconds
        return c.pref if c.pref is not None and self.now < c.arrived + window else None

    def load(self, a: MAgent) -> Counter[str]:
        return Counter(self.contacts[c].channel for c in a.offers | a.assigned)

    def has_room(self, a: MAgent, channel: str) -> bool:
        load = self.load(a)
        if load[channel] >= a.capacity.get(channel, 0):
            return False
        blocks = self.cfg.cross_channel_blocks
        return not any(n and channel in blocks.get(other, ()) for other, n in load.items())

    def eligible(self, agent_id: str, c: MContact) -> bool:
        a = self.agents[agent_id]
        if a.presence is not AgentState.AVAILABLE or a.wrap_until is not None:
            return False
        if not self.has_room(a, c.channel):
            return False
        if c.cooldowns.get(agent_id, -math.inf) > self.now:
            return False
        pin = self.pinned_to(c)
        if pin is not None and pin != agent_id:
            return False
        if c.direct is not None:
            return True
        levels, overflow = self.requirements(c)
        if a.queues and not a.queues & ({c.queue} | overflow):
            return False
        return all(a.skills.get(skill, 0) >= level for skill, level in levels.items())

    def order(self, c: MContact) -> tuple[float, float, int]:
        queue = self.cfg.queues[c.queue]
        base = c.priority if c.priority is not None else queue.priority
        value = sum(self.cfg.value_priority.get(tag, 0) for tag in c.value_tags)
        boost = queue.priority_boost_per_minute / 60 * (self.now - c.arrived)
        return (-(base + value + boost), c.arrived, c.seq)

    def waiting(self) -> list[MContact]:
        return [c for c in self.contacts.values() if c.status is ContactStatus.WAITING]

    def start_wrap_up(self, a: MAgent, queue: str) -> None:
        if a.presence is AgentState.AVAILABLE:
            seconds = self.cfg.queues[queue].wrap_up_seconds
            until = self.now + seconds if seconds > 0 else math.inf
            a.wrap_until = max(a.wrap_until or -math.inf, until)

    def release_transfers(self, agent_id: str) -> None:
        for c in self.waiting():
            if c.direct == agent_id:
                c.direct = None

    # ------------------------------------------------------------ sending events

    def send(self, event: Event, dt: float) -> list[Decision]:
        self.now += dt
        self.event = event
        decisions = self.engine.handle(event, self.now)
        wrapping = {i for i, a in self.agents.items() if a.wrap_until is not None}
        self.before_decisions(event)
        for decision in decisions:
            self.apply(decision, wrapping)
        self.after_decisions(event)
        self.engine.check_invariants()
        return decisions

    def before_decisions(self, event: Event) -> None:
        """What the event itself does, mirrored in the model."""
        match event:
            case ContactEnqueued():
                self.contacts[event.contact_id] = MContact(
                    event.contact_id,
                    event.queue,
                    event.channel,
                    event.arrived_at,
                    next(self.seq),
                    event.priority,
                    event.skills,
                    event.value_tags,
                    event.preferred_agent_id,
                    entered=self.now,
                )
            case ContactUpdated():
                c = self.contacts[event.contact_id]
                if event.priority is not None:
                    c.priority = event.priority
                if event.queue is not None and event.queue != c.queue:
                    c.queue, c.entered, c.step, c.skills = event.queue, self.now, 0, None
                if event.skills is not None:
                    c.skills = event.skills
            case ContactTransferred():
                c = self.contacts[event.contact_id]
                a = self.agents[c.agent or ""]
                a.assigned.discard(c.id)
                self.start_wrap_up(a, c.queue)
                c.status, c.agent, c.cooldowns = ContactStatus.WAITING, None, {}
                if event.to_queue is not None and event.to_queue != c.queue:
                    c.queue, c.skills = event.to_queue, None
                c.entered, c.step = self.now, 0
                c.direct = event.to_agent_id
            case ContactEnded():
                c = self.contacts[event.contact_id]
                a = self.agents[c.agent or ""]
                a.assigned.discard(c.id)
                self.start_wrap_up(a, c.queue)
            case AgentLoggedIn():
                self.agents[event.agent_id] = MAgent(
                    dict(event.skills), dict(event.capacity), frozenset(event.queues)
                )
            case AgentLoggedOut():
                self.agents[event.agent_id].presence = AgentState.OFFLINE
                self.release_transfers(event.agent_id)
            case AgentStateChanged():
                a = self.agents[event.agent_id]
                if a.presence is not AgentState.AVAILABLE and event.state is AgentState.AVAILABLE:
                    a.missed = 0
                a.presence, a.wrap_until = event.state, None
                if event.state is not AgentState.AVAILABLE:
                    self.release_transfers(event.agent_id)
            case AgentSkillsChanged():
                self.agents[event.agent_id].skills = dict(event.skills)
            case AgentCapacityChanged():
                self.agents[event.agent_id].capacity = dict(event.capacity)
            case WrapUpEnded():
                self.agents[event.agent_id].wrap_until = None
            case ConfigChanged():
                self.cfg = event.config
                for c in self.contacts.values():
                    if c.status is not ContactStatus.ASSIGNED:
                        c.step = min(c.step, len(self.cfg.queues[c.queue].steps))

    def after_decisions(self, event: Event) -> None:
        if isinstance(event, AgentLoggedOut):
            a = self.agents.pop(event.agent_id)
            assert not a.offers
            assert not a.assigned

    def apply(self, d: Decision, wrapping: set[str]) -> None:
        """Check one decision against the model, then follow it."""
        match d:
            case Offer():
                self.check_offer(d)
                c = self.contacts[d.contact_id]
                c.status, c.agent, c.deadline = ContactStatus.OFFERED, d.agent_id, d.deadline
                self.agents[d.agent_id].offers.add(c.id)
            case OfferWithdrawn():
                self.check_withdrawal(d)
            case Assigned():
                assert self.event == OfferAccepted(d.contact_id, d.agent_id)
                c = self.contacts[d.contact_id]
                a = self.agents[d.agent_id]
                assert c.status is ContactStatus.OFFERED
                assert c.agent == d.agent_id
                a.offers.remove(c.id)
                a.assigned.add(c.id)
                a.missed = 0
                c.status, c.pref, c.direct, c.cooldowns = ContactStatus.ASSIGNED, None, None, {}
            case AgentStateSet():
                self.check_state_set(d, wrapping)
            case Escalated():
                c = self.contacts[d.contact_id]
                queue = self.cfg.queues[c.queue]
                assert c.status is not ContactStatus.ASSIGNED
                assert d.step == c.step + 1 <= len(queue.steps), (d, c.step)
                assert c.entered + queue.steps[c.step].after_seconds <= self.now, "step too early"
                c.step = d.step
                levels, overflow = self.requirements(c)
                assert {r.skill: r.min_level for r in d.requirements} == levels
                assert set(d.queues) == {c.queue} | overflow
            case StepActionDue():
                c = self.contacts[d.contact_id]
                assert d.step == c.step
                assert self.cfg.queues[c.queue].steps[d.step - 1].action is d.action
            case ContactRemoved():
                c = self.contacts.pop(d.contact_id)
                if d.reason == "abandoned":
                    assert self.event == ContactAbandoned(c.id)
                    assert c.status is ContactStatus.WAITING, "withdraw the offer first"
                    assert d.waited_seconds == self.now - c.arrived
                    short = self.cfg.queues[c.queue].short_abandon_seconds
                    assert d.short_abandon == (d.waited_seconds < short)
                else:
                    assert d.reason == "ended"
                    assert self.event == ContactEnded(c.id)
            case Requeued():
                assert d.contact_id in self.contacts

    def check_offer(self, d: Offer) -> None:
        c = self.contacts.get(d.contact_id)
        assert c is not None, f"offer of unknown contact {d.contact_id}"
        assert c.status is ContactStatus.WAITING, f"{c.id} offered while {c.status}"
        assert d.agent_id in self.agents
        a = self.agents[d.agent_id]
        assert self.has_room(a, c.channel), f"{d.agent_id} has no room for {c.channel}: {a}"
        assert self.eligible(d.agent_id, c), f"{d.agent_id} is not eligible for {c}"
        assert d.deadline == self.now + self.cfg.offer_timeout_seconds[c.channel]
        mine = self.order(c)
        for other in self.waiting():
            if other is not c and self.eligible(d.agent_id, other):
                assert self.order(other) > mine, f"{other.id} was ahead of {c.id} for {a}"
        assert d.trace.candidates
        assert d.trace.candidates[0].agent_id == d.agent_id
        assert d.trace.step == c.step
        assert d.trace.queue == c.queue
        assert len(d.trace.candidates) <= 20

    def check_withdrawal(self, d: OfferWithdrawn) -> None:
        c = self.contacts[d.contact_id]
        a = self.agents[d.agent_id]
        assert c.status is ContactStatus.OFFERED
        assert c.agent == d.agent_id
        cooldown = self.cfg.queues[c.queue].reject_cooldown_seconds
        if d.reason == "timeout":
            assert c.deadline <= self.now, "timed out early"
            a.missed += 1
            if c.deadline + cooldown > self.now:
                c.cooldowns[d.agent_id] = c.deadline + cooldown
        elif d.reason == "rejected":
            assert self.event == OfferRejected(c.id, d.agent_id)
            if cooldown > 0:
                c.cooldowns[d.agent_id] = self.now + cooldown
        elif d.reason == "abandoned":
            assert self.event == ContactAbandoned(c.id)
        elif isinstance(self.event, OffersReclaimed) and d.reason == self.event.reason:
            assert d.agent_id not in self.event.keep_agents
            if cooldown > 0:
                c.cooldowns[d.agent_id] = self.now + cooldown
        else:
            assert a.presence is not AgentState.AVAILABLE, f"withdrawn ({d.reason}) for nothing"
        a.offers.remove(c.id)
        c.status, c.agent, c.deadline = ContactStatus.WAITING, None, math.inf
        if c.pref == d.agent_id:
            c.pref = None
        if c.direct == d.agent_id:
            c.direct = None

    def check_state_set(self, d: AgentStateSet, wrapping: set[str]) -> None:
        a = self.agents[d.agent_id]
        if d.state is AgentState.WRAP_UP:
            assert isinstance(self.event, ContactEnded | ContactTransferred)
            assert a.wrap_until is not None
            assert d.agent_id not in wrapping
        elif d.state is AgentState.NOT_READY:
            assert d.reason == "missed"
            assert a.missed >= self.cfg.max_missed_offers > 0
            a.presence, a.wrap_until = AgentState.NOT_READY, None
            self.release_transfers(d.agent_id)
        else:
            assert a.wrap_until is not None
            assert a.wrap_until <= self.now, "wrap-up ended early"
            a.wrap_until = None
            expected = AgentState.ON_CONTACT if a.assigned else AgentState.AVAILABLE
            assert d.state is expected

    # ------------------------------------------------------------ checks after each step

    @invariant()
    def nothing_is_lost_and_views_agree(self) -> None:
        views = {v.contact_id: v for v in self.engine.contacts()}
        assert views.keys() == self.contacts.keys()
        for c in self.contacts.values():
            view = views[c.id]
            assert (view.status, view.agent_id, view.queue) == (c.status, c.agent, c.queue)
            assert view.step == c.step
        assert {v.agent_id for v in self.engine.agents()} == self.agents.keys()
        for agent_id, a in self.agents.items():
            agent_view = self.engine.agent_view(agent_id)
            assert set(itertools.chain(*agent_view.offered.values())) == a.offers
            assert set(itertools.chain(*agent_view.assigned.values())) == a.assigned

    @invariant()
    def work_is_conserved(self) -> None:
        for c in self.waiting():
            for agent_id in self.agents:
                assert not self.eligible(agent_id, c), f"{c.id} waits while {agent_id} is free"

    @invariant()
    def due_timers_have_fired(self) -> None:
        for c in self.contacts.values():
            if c.status is ContactStatus.OFFERED:
                assert c.deadline > self.now, f"offer of {c.id} outlived its deadline"
            if c.status is not ContactStatus.ASSIGNED:
                steps = self.cfg.queues[c.queue].steps
                due = 0
                while due < len(steps) and c.entered + steps[due].after_seconds <= self.now:
                    due += 1
                assert c.step >= due, f"{c.id} should have taken {due} steps, took {c.step}"
        for agent_id, a in self.agents.items():
            assert a.wrap_until is None or a.wrap_until > self.now, f"{agent_id} wrap-up overdue"
            assert a.presence is AgentState.AVAILABLE or a.wrap_until is None

    # ------------------------------------------------------------ rules

    def contact_ids(self, *statuses: ContactStatus) -> list[str]:
        return sorted(c.id for c in self.contacts.values() if c.status in statuses)

    @initialize(staff=st.lists(st.tuples(AGENT_SKILLS, CAPACITY, AGENT_QUEUES), max_size=4))
    def staff(self, staff: list[tuple[dict[str, int], dict[str, int], tuple[str, ...]]]) -> None:
        for agent_id, (skills, capacity, queues) in zip(AGENTS, staff, strict=False):
            self.send(AgentLoggedIn(agent_id, skills, capacity, queues), 0.0)

    @rule(
        data=st.data(),
        kind=st.sampled_from(("login", "login", "logout", "skills", "capacity", "config")),
        dt=DT,
    )
    def administer(self, data: st.DataObject, kind: str, dt: float) -> None:
        """Rarer changes, folded into one rule so they do not crowd out the contact flow."""
        draw = data.draw
        if kind == "config":
            self.send(ConfigChanged(draw(st.sampled_from(CONFIGS))), dt)
            return
        if kind == "login":
            absent = [agent_id for agent_id in AGENTS if agent_id not in self.agents]
            if absent:
                login = AgentLoggedIn(
                    draw(st.sampled_from(absent)),
                    draw(AGENT_SKILLS),
                    draw(CAPACITY),
                    draw(AGENT_QUEUES),
                )
                self.send(login, dt)
            return
        if not self.agents:
            return
        agent_id = draw(st.sampled_from(sorted(self.agents)))
        if kind == "skills":
            self.send(AgentSkillsChanged(agent_id, draw(AGENT_SKILLS)), dt)
        elif kind == "capacity":
            capacity = draw(st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 3)))
            self.send(AgentCapacityChanged(agent_id, capacity), dt)
        elif not self.agents[agent_id].assigned:
            self.send(AgentLoggedOut(agent_id), dt)

    @precondition(lambda self: self.agents)
    @rule(
        data=st.data(),
        state=st.sampled_from(
            (AgentState.AVAILABLE,) * 4 + (AgentState.NOT_READY, AgentState.OFFLINE)
        ),
        dt=DT,
    )
    def change_state(self, data: st.DataObject, state: AgentState, dt: float) -> None:
        agent_id = data.draw(st.sampled_from(sorted(self.agents)))
        reason = None if state is AgentState.AVAILABLE else "break"
        self.send(AgentStateChanged(agent_id, state, reason), dt)

    @rule(
        queue=st.sampled_from(QUEUES),
        channel=st.sampled_from(CHANNELS),
        priority=st.none() | st.integers(0, 3),
        value_tags=st.sampled_from(((), (), ("vip",), ("grade:P", "class:key"), ("grade:G",))),
        pref=st.sampled_from((None, None, *AGENTS)),
        skills=OPTIONAL_SKILLS,
        waited=st.sampled_from((0.0, 5.0, 30.0)),
        dt=DT,
    )
    def enqueue(
        self,
        queue: str,
        channel: str,
        priority: int | None,
        value_tags: tuple[str, ...],
        pref: str | None,
        skills: tuple[SkillRequirement, ...] | None,
        waited: float,
        dt: float,
    ) -> None:
        contact_id = f"c{next(self.ids)}"
        arrived = self.now + dt - waited
        event = ContactEnqueued(
            contact_id, queue, channel, arrived, priority, skills, value_tags, pref
        )
        self.send(event, dt)

    @precondition(lambda self: self.contact_ids(ContactStatus.WAITING, ContactStatus.OFFERED))
    @rule(
        data=st.data(),
        abandon=st.sampled_from((False, False, True)),
        priority=st.none() | st.integers(0, 3),
        skills=OPTIONAL_SKILLS,
        queue=st.none() | st.sampled_from(QUEUES),
        dt=DT,
    )
    def update_or_abandon(
        self,
        data: st.DataObject,
        abandon: bool,
        priority: int | None,
        skills: tuple[SkillRequirement, ...] | None,
        queue: str | None,
        dt: float,
    ) -> None:
        ids = self.contact_ids(ContactStatus.WAITING, ContactStatus.OFFERED)
        contact_id = data.draw(st.sampled_from(ids))
        if abandon:
            self.send(ContactAbandoned(contact_id), dt)
        else:
            self.send(ContactUpdated(contact_id, priority, skills, queue), dt)

    @precondition(lambda self: self.contact_ids(ContactStatus.OFFERED))
    @rule(data=st.data(), accept=st.sampled_from((True, True, True, False)), dt=DT)
    def answer_offer(self, data: st.DataObject, accept: bool, dt: float) -> None:
        c = self.contacts[data.draw(st.sampled_from(self.contact_ids(ContactStatus.OFFERED)))]
        event = OfferAccepted if accept else OfferRejected
        self.send(event(c.id, c.agent or ""), dt)

    @precondition(lambda self: self.contact_ids(ContactStatus.ASSIGNED))
    @rule(
        data=st.data(),
        transfer=st.sampled_from((False, False, True)),
        to_queue=st.none() | st.sampled_from(QUEUES),
        to_agent=st.booleans(),
        dt=DT,
    )
    def end_or_transfer(
        self, data: st.DataObject, transfer: bool, to_queue: str | None, to_agent: bool, dt: float
    ) -> None:
        contact_id = data.draw(st.sampled_from(self.contact_ids(ContactStatus.ASSIGNED)))
        if not transfer:
            self.send(ContactEnded(contact_id), dt)
            return
        agent_id = data.draw(st.sampled_from(sorted(self.agents))) if to_agent else None
        if to_queue is None and agent_id is None:
            to_queue = self.contacts[contact_id].queue
        self.send(ContactTransferred(contact_id, to_queue, agent_id), dt)

    @precondition(lambda self: self.contact_ids(ContactStatus.OFFERED))
    @rule(data=st.data(), dt=DT)
    def reclaim_offers(self, data: st.DataObject, dt: float) -> None:
        keep = data.draw(st.frozensets(st.sampled_from(sorted(self.agents))))
        out = {c.id for c in self.contacts.values() if c.status is ContactStatus.OFFERED}
        decisions = self.send(OffersReclaimed(keep), dt)
        withdrawn = {d.contact_id for d in decisions if isinstance(d, OfferWithdrawn)}
        for contact_id in out - withdrawn:  # kept, or answered by a timer that fired first
            assert contact_id not in self.contacts or (
                self.contacts[contact_id].agent in keep
                or self.contacts[contact_id].status is not ContactStatus.OFFERED
                or contact_id in withdrawn
            )

    @precondition(lambda self: any(a.wrap_until is not None for a in self.agents.values()))
    @rule(data=st.data(), dt=DT)
    def wrap_up_ended(self, data: st.DataObject, dt: float) -> None:
        self.send(WrapUpEnded(data.draw(st.sampled_from(sorted(self.agents)))), dt)

    @rule(dt=st.sampled_from((None, None, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)))
    def time_passes(self, dt: float | None) -> None:
        """A tick after some time, or exactly at the engine's next timer (``None``)."""
        if dt is None:
            due = self.engine.next_timer()
            if due is None:
                return
            assert due > self.now, "a due timer was left unfired"
            dt = due - self.now
        self.send(Tick(), dt)

    @rule(data=st.data())
    def nonsense_is_refused_without_side_effects(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(self.nonsense()))
        before = self.snapshot()
        try:
            self.engine.handle(event, self.now)
        except RoutingError:
            pass
        else:
            raise AssertionError(f"{event} was accepted")
        assert self.snapshot() == before
        self.engine.check_invariants()

    def nonsense(self) -> list[Event]:
        events: list[Event] = [
            OfferAccepted("ghost", "a0"),
            ContactEnqueued("x", "nowhere", "voice", self.now),
            AgentStateChanged("ghost", AgentState.AVAILABLE),
            ContactEnded("ghost"),
        ]
        for c in self.contacts.values():
            events.append(ContactEnqueued(c.id, "qa", "voice", self.now))
            if c.status is not ContactStatus.OFFERED:
                events.append(OfferAccepted(c.id, c.agent or "a0"))
            else:
                events.append(OfferRejected(c.id, "ghost"))
            if c.status is not ContactStatus.ASSIGNED:
                events.append(ContactEnded(c.id))
                events.append(ContactTransferred(c.id, to_queue="qa"))
            else:
                events.append(ContactUpdated(c.id, priority=1))
                events.append(ContactAbandoned(c.id))
        for agent_id, a in self.agents.items():
            events.append(AgentLoggedIn(agent_id, {}, {"voice": 1}))
            events.append(AgentStateChanged(agent_id, AgentState.ON_CONTACT))
            if a.assigned:
                events.append(AgentLoggedOut(agent_id))
        return events

    def snapshot(self) -> object:
        engine = self.engine
        return (
            engine.agents(),
            engine.contacts(),
            engine.next_timer(),
            engine.waiting_contacts(now=self.now),
        )


RoutingMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRouting = RoutingMachine.TestCase
