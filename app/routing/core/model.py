"""Value types of the pure routing core: its configuration, the events it takes and the
decisions it returns.

Everything here is plain data: no I/O, no clock. Times are seconds as ``float`` on whatever
clock the caller uses (epoch seconds in the service, virtual seconds in the simulator).
Identifiers are strings so the same core serves database ids and simulated ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

Channel = str
"""``"voice"``, ``"email"`` or ``"chat"``."""


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    NOT_READY = "not_ready"
    # An agent with at least one contact in progress and no free capacity left for it is
    # reported as on_contact; one whose last contact ended and whose wrap-up timer runs is in
    # wrap_up. Both are derived by the engine, never set by the caller.
    ON_CONTACT = "on_contact"
    WRAP_UP = "wrap_up"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    MOST_SKILLED = "most_skilled"
    ROUND_ROBIN = "round_robin"


class ContactStatus(StrEnum):
    WAITING = "waiting"  # in line, no offer outstanding
    OFFERED = "offered"  # reserved for one agent until it accepts, rejects or times out
    ASSIGNED = "assigned"  # accepted: the agent works on it


class StepAction(StrEnum):
    NONE = "none"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    skill: str
    min_level: int = 1  # proficiency 1..5


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """What changes for a contact once it has waited ``after_seconds`` in its queue.

    Steps are cumulative and applied in order: step 2 starts from what step 1 left.
    """

    after_seconds: float
    lower_min_level_by: int = 0
    add_skills: tuple[SkillRequirement, ...] = ()
    drop_skills: tuple[str, ...] = ()
    overflow_queues: tuple[str, ...] = ()  # agents of these queues become eligible too
    action: StepAction = StepAction.NONE


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    skills: tuple[SkillRequirement, ...] = ()
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = 0
    priority_boost_per_minute: float = 0.0
    steps: tuple[EscalationStep, ...] = ()
    preferred_agent_seconds: float = 0.0
    wrap_up_seconds: float = 0.0  # 0 = no automatic wrap-up timer: the agent says when done
    reject_cooldown_seconds: float = 60.0
    short_abandon_seconds: float = 5.0
    value_skills: tuple[ValueSkillRule, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueSkillRule:
    """A contact carrying any of ``when_any`` (value tags such as ``grade:P`` or ``vip``)
    needs ``skills`` too, on top of its queue's or its own; escalation steps may drop
    them later (e.g. Platinum and VIP callers to the senior team first)."""

    when_any: frozenset[str]
    skills: tuple[SkillRequirement, ...]


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    queues: dict[str, QueueConfig]
    offer_timeout_seconds: dict[Channel, float] = field(
        default_factory=lambda: {"voice": 20.0, "chat": 30.0, "email": 120.0}
    )
    max_missed_offers: int = 3
    # value tag (grade:P, vip, class:key, segment:NAME, status:new) -> priority points;
    # a contact's boost is the sum over the tags it carries
    value_priority: dict[str, int] = field(default_factory=lambda: {"vip": 10})
    # channel -> channels that cannot be offered while the agent has a contact on it
    cross_channel_blocks: dict[Channel, tuple[Channel, ...]] = field(
        default_factory=lambda: {"voice": ("chat", "email")}
    )
    version: int = 1
    # used for expected-wait estimates until a queue has handled contacts of its own
    default_handle_seconds: float = 180.0


# ---------------------------------------------------------------- events (inputs)


@dataclass(frozen=True, slots=True)
class ContactEnqueued:
    contact_id: str
    queue: str
    channel: Channel
    arrived_at: float  # original arrival: kept across transfers and callbacks
    priority: int | None = None  # None = the queue's default
    skills: tuple[SkillRequirement, ...] | None = None  # None = the queue's skills
    value_tags: tuple[str, ...] = ()  # the customer's value at arrival: grade:P, vip, ...
    preferred_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactUpdated:
    contact_id: str
    priority: int | None = None
    skills: tuple[SkillRequirement, ...] | None = None
    queue: str | None = None
    to_agent_id: str | None = None  # a supervisor assigns the waiting contact to this agent


@dataclass(frozen=True, slots=True)
class ContactAbandoned:
    contact_id: str


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    """An assigned contact leaves its agent for a queue or for a named agent."""

    contact_id: str
    to_queue: str | None = None
    to_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContactEnded:
    """The agent's work on an assigned contact ends; wrap-up begins."""

    contact_id: str


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    agent_id: str
    skills: dict[str, int]  # skill -> proficiency 1..5
    capacity: dict[Channel, int]
    queues: tuple[str, ...] = ()  # queues served; empty = every queue the skills fit


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    agent_id: str
    state: AgentState  # available, not_ready or offline
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AgentSkillsChanged:
    agent_id: str
    skills: dict[str, int]


@dataclass(frozen=True, slots=True)
class AgentCapacityChanged:
    agent_id: str
    capacity: dict[Channel, int]


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferRejected:
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    agent_id: str


@dataclass(frozen=True, slots=True)
class ConfigChanged:
    config: RoutingConfig


@dataclass(frozen=True, slots=True)
class OffersReclaimed:
    """The consoles of every agent not in ``keep_agents`` may be gone (a new router took
    over from one whose instance died): their outstanding offers are withdrawn at once,
    with the reject cooldown (so the contact goes to another agent first) and without
    counting as missed, instead of waiting out their deadlines."""

    keep_agents: frozenset[str]
    reason: str = "router took over"


@dataclass(frozen=True, slots=True)
class Tick:
    """Nothing happened but time passed: fire due deadlines and timers."""


Event = (
    ContactEnqueued
    | ContactUpdated
    | ContactAbandoned
    | ContactTransferred
    | ContactEnded
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentStateChanged
    | AgentSkillsChanged
    | AgentCapacityChanged
    | OfferAccepted
    | OfferRejected
    | WrapUpEnded
    | ConfigChanged
    | OffersReclaimed
    | Tick
)


# ------------------------------------------------------------ decisions (outputs)


@dataclass(frozen=True, slots=True)
class CandidateTrace:
    agent_id: str
    score: tuple[float, ...] | None  # the strategy's sort key; None when skipped
    skipped_because: str | None = None  # e.g. "no capacity", "rejected recently", "skill below"


@dataclass(frozen=True, slots=True)
class DecisionTrace:
    """Why an offer went where it went: enough to answer "why her and not him?"."""

    queue: str
    strategy: Strategy
    step: int  # 0 = the queue's own requirements, n = after escalation step n
    rule: str  # e.g. "preferred agent", "best agent for waiting contact"
    requirements: tuple[SkillRequirement, ...]
    candidates: tuple[CandidateTrace, ...]
    priority_boosts: tuple[tuple[str, int], ...] = ()  # the value tags that raised priority


@dataclass(frozen=True, slots=True)
class Offer:
    contact_id: str
    agent_id: str
    deadline: float
    trace: DecisionTrace


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    contact_id: str
    agent_id: str
    reason: str  # "abandoned", "timeout", "rejected", "agent offline", "transferred", ...


@dataclass(frozen=True, slots=True)
class Assigned:
    """The offer was accepted: the contact is the agent's until it ends."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class Escalated:
    contact_id: str
    step: int
    requirements: tuple[SkillRequirement, ...]
    queues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepActionDue:
    """An escalation step asks the shell to offer a callback or voicemail."""

    contact_id: str
    step: int
    action: StepAction


@dataclass(frozen=True, slots=True)
class Requeued:
    contact_id: str
    queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class ContactRemoved:
    contact_id: str
    reason: str  # "abandoned", "ended"
    waited_seconds: float
    short_abandon: bool = False
    agent_id: str | None = None  # who handled an ended contact


@dataclass(frozen=True, slots=True)
class AgentStateSet:
    """The engine changed an agent's state on its own: missed offers, wrap-up timers."""

    agent_id: str
    state: AgentState
    reason: str | None = None


Decision = (
    Offer
    | OfferWithdrawn
    | Assigned
    | Escalated
    | StepActionDue
    | Requeued
    | ContactRemoved
    | AgentStateSet
)


# ------------------------------------------------------------- read-only views


@dataclass(frozen=True, slots=True)
class WaitingView:
    contact_id: str
    queue: str
    channel: Channel
    arrived_at: float
    effective_priority: float  # at the ``now`` of the query
    step: int
    requirements: tuple[SkillRequirement, ...]
    pinned_to: str | None  # preferred or transfer-target agent it waits for, if any


@dataclass(frozen=True, slots=True)
class QueuePosition:
    contact_id: str
    queue: str
    status: ContactStatus
    position: int  # 1-based among waiting contacts of its queue and channel; 0 unless waiting
    expected_wait_seconds: float | None  # None: unknown (nobody who can take it is free to)


def rounded_wait(seconds: float | None) -> float | None:
    """An expected wait as clients are told it: tenths of a second, ``None`` for unknown."""
    return None if seconds is None else round(seconds, 1)


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    state: AgentState
    reason: str | None
    skills: dict[str, int]
    capacity: dict[Channel, int]
    queues: tuple[str, ...]
    offered: dict[Channel, tuple[str, ...]]
    assigned: dict[Channel, tuple[str, ...]]
    free_capacity: dict[Channel, int]  # capacity left per channel, 0 where blocked by another
    idle_since: float
    missed_in_row: int
    wrap_up_until: float | None  # inf = until WrapUpEnded


@dataclass(frozen=True, slots=True)
class ContactView:
    contact_id: str
    queue: str
    channel: Channel
    status: ContactStatus
    arrived_at: float
    entered_queue_at: float  # escalation steps count from here
    priority: int  # base priority: the contact's own or its queue's default
    value_tags: tuple[str, ...]
    step: int
    requirements: tuple[SkillRequirement, ...]
    overflow_queues: tuple[str, ...]
    agent_id: str | None  # offered to or assigned to
    offer_deadline: float | None
    preferred_agent_id: str | None
    pinned_to: str | None


# ------------------------------------------------------------ restoring state


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """A logged-in agent as the shell stored it, for ``RoutingEngine.restore``."""

    agent_id: str
    skills: dict[str, int]
    capacity: dict[Channel, int]
    state: AgentState  # available, not_ready, offline (still holding contacts), on_contact, wrap_up
    reason: str | None = None
    idle_since: float = 0.0
    wrap_up_until: float | None = None  # with state wrap_up: inf = until WrapUpEnded
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    """A contact still being routed (waiting, offered or assigned), as the shell stored it."""

    contact_id: str
    queue: str
    channel: Channel
    arrived_at: float
    entered_queue_at: float
    status: ContactStatus
    priority: int | None = None
    skills: tuple[SkillRequirement, ...] | None = None
    value_tags: tuple[str, ...] = ()
    preferred_agent_id: str | None = None
    agent_id: str | None = None  # offered to / assigned to
    offer_deadline: float | None = None
    step: int = 0
