"""Mutable bookkeeping of the routing engine: one record per agent, contact and
requirement group, plus the pure helpers that derive requirements and sort keys.

Nothing here is public; the engine owns every record and hands out frozen views.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import (
    AgentState,
    CandidateTrace,
    Channel,
    ContactStatus,
    EscalationStep,
    QueueConfig,
    SkillRequirement,
    Strategy,
    ValueSkillRule,
)

SkillPairs = tuple[tuple[str, int], ...]
"""Requirements as sorted ``(skill, min_level)`` pairs: cheap to hash and to test."""

GroupKey = tuple[str, Channel, SkillPairs, tuple[str, ...]]
"""(queue, channel, requirements, overflow queues): contacts sharing it compete for exactly
the same agents, so they live in one heap."""

ContactEntry = tuple[float, float, int, int, str]
"""(-static priority, arrived_at, seq, version, contact id) in a group's contact heap."""

AgentEntry = tuple[float, float, str, int]
"""(strategy key 1, strategy key 2, agent id, version) in a group's agent heap."""


@dataclass(slots=True, eq=False)
class AgentRec:
    id: str
    skills: dict[str, int]
    capacity: dict[Channel, int]
    queues: frozenset[str]  # empty = every queue
    idle_since: float
    presence: AgentState = AgentState.AVAILABLE  # AVAILABLE, NOT_READY or OFFLINE
    reason: str | None = None
    wrap_until: float | None = None  # inf = until WrapUpEnded
    wrap_token: int = 0
    missed_in_row: int = 0
    offers: dict[str, ContactRec] = field(default_factory=dict)
    assigned: dict[str, ContactRec] = field(default_factory=dict)
    load: dict[Channel, int] = field(default_factory=dict)  # offers + assigned per channel
    version: int = 0  # bumped on every change that can move it in a group's agent heap
    free: frozenset[Channel] = frozenset()  # channels it can take an offer on right now
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    last_offered: dict[str, int] = field(default_factory=dict)  # queue -> offer sequence
    unavailable_note: tuple[int, Channel, CandidateTrace] | None = None  # trace cache


@dataclass(slots=True, eq=False)
class ContactRec:
    id: str
    queue: str
    channel: Channel
    arrived_at: float
    seq: int  # first-enqueue order: the last tie-break, kept across transfers
    priority: int | None
    skills: tuple[SkillRequirement, ...] | None
    value_tags: tuple[str, ...]
    preferred_agent_id: str | None
    entered_at: float
    status: ContactStatus = ContactStatus.WAITING
    step: int = 0
    step_token: int = 0
    reqs: tuple[SkillRequirement, ...] = ()
    overflow: tuple[str, ...] = ()
    group_key: GroupKey = ("", "", (), ())
    base_priority: int = 0
    boosts: tuple[tuple[str, int], ...] = ()  # value tags that raise its priority, points
    static: float = 0.0  # base + boosts - rate * arrived_at: time-invariant within one rate
    rate: float = 0.0  # priority boost per second
    version: int = 0  # bumped whenever it leaves its place in line
    group: Group | None = None  # set while it waits in a group's heap
    pinned_to: str | None = None  # waits for this agent only (preferred or transfer target)
    pin_direct: bool = False  # pinned by a transfer to a named agent: no window end
    pin_token: int = 0
    agent_id: str | None = None  # offered to / assigned to
    offer_deadline: float = 0.0
    offer_token: int = 0
    assigned_at: float = 0.0
    cooldowns: dict[str, float] = field(default_factory=dict)  # agent id -> until

    def effective_priority(self, now: float) -> float:
        return self.static + self.rate * now

    def order(self, now: float) -> tuple[float, float, int]:
        """Serving order across queues: smaller is served first."""
        return (-(self.static + self.rate * now), self.arrived_at, self.seq)

    def entry(self) -> ContactEntry:
        return (-self.static, self.arrived_at, self.seq, self.version, self.id)


@dataclass(slots=True, eq=False)
class Group:
    key: GroupKey
    queue: str
    channel: Channel
    pairs: SkillPairs
    queues: frozenset[str]  # the queue and its overflow queues
    strategy: Strategy
    rate: float
    contacts: list[ContactEntry] = field(default_factory=list)
    n_waiting: int = 0
    touched: bool = True  # a contact was placed in it since the last sweep of empty groups
    eligible: dict[str, AgentRec] = field(default_factory=dict)
    agents: list[AgentEntry] = field(default_factory=list)


def matching_value_rules(
    rules: tuple[ValueSkillRule, ...], tags: tuple[str, ...]
) -> tuple[int, ...]:
    """Indexes of the queue's value-skill rules that the contact's value tags meet."""
    if not rules or not tags:
        return ()
    return tuple(i for i, rule in enumerate(rules) if not rule.when_any.isdisjoint(tags))


def base_requirements(
    skills: tuple[SkillRequirement, ...] | None, queue: QueueConfig, value_rules: tuple[int, ...]
) -> tuple[SkillRequirement, ...]:
    """A contact's requirements before escalation: its own skills or its queue's, plus the
    skills of the value rules it meets (``matching_value_rules``)."""
    base = skills if skills is not None else queue.skills
    for index in value_rules:
        base = base + queue.value_skills[index].skills
    return base


def requirements_after_steps(
    base: tuple[SkillRequirement, ...], steps: tuple[EscalationStep, ...], taken: int
) -> tuple[tuple[SkillRequirement, ...], tuple[str, ...]]:
    """Requirements and overflow queues once the first ``taken`` steps applied.

    Within one step the order is: lower every level, then add skills (an added skill
    replaces an existing requirement on it), then drop skills.
    """
    levels: dict[str, int] = {}
    for req in base:
        levels[req.skill] = max(levels.get(req.skill, 0), req.min_level)
    overflow: list[str] = []
    for step in steps[:taken]:
        if step.lower_min_level_by:
            levels = {s: max(1, lvl - step.lower_min_level_by) for s, lvl in levels.items()}
        for req in step.add_skills:
            levels[req.skill] = req.min_level
        for skill in step.drop_skills:
            levels.pop(skill, None)
        overflow.extend(q for q in step.overflow_queues if q not in overflow)
    reqs = tuple(SkillRequirement(s, levels[s]) for s in sorted(levels))
    return reqs, tuple(overflow)


def agent_serves(
    agent: AgentRec, queues: frozenset[str], channel: Channel, pairs: SkillPairs
) -> bool:
    """Static eligibility: queue membership, a seat on the channel, every skill high enough."""
    if agent.capacity.get(channel, 0) <= 0:
        return False
    if agent.queues and agent.queues.isdisjoint(queues):
        return False
    skills = agent.skills
    return all(skills.get(skill, 0) >= level for skill, level in pairs)


def occupancy(agent: AgentRec) -> float:
    """Contacts in progress (offers included) over total capacity, all channels together."""
    total = sum(agent.capacity.values())
    return sum(agent.load.values()) / total if total > 0 else 1.0


def strategy_key(
    agent: AgentRec, strategy: Strategy, queue: str, pairs: SkillPairs
) -> tuple[float, float]:
    """The agent's sort key under a strategy: smaller is chosen first (agent id breaks ties)."""
    if strategy is Strategy.LONGEST_IDLE:
        return (agent.idle_since, 0.0)
    if strategy is Strategy.LEAST_OCCUPIED:
        return (occupancy(agent), agent.idle_since)
    if strategy is Strategy.MOST_SKILLED:
        skills = agent.skills
        return (-float(sum(skills.get(skill, 0) for skill, _ in pairs)), agent.idle_since)
    return (float(agent.last_offered.get(queue, -1)), 0.0)


def derived_state(agent: AgentRec) -> AgentState:
    if agent.presence is not AgentState.AVAILABLE:
        return agent.presence
    if agent.wrap_until is not None:
        return AgentState.WRAP_UP
    if agent.assigned:
        return AgentState.ON_CONTACT
    return AgentState.AVAILABLE
