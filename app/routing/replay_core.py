"""The pure part of ``--replay``: a recorded period in, faithful and what-if figures out.

A replay first runs the recorded period under the configuration that was in force, with
the agents as they were (their recorded sign-ins, not-ready periods and sign-outs), each
answered contact's recorded talk and wrap-up, and patience drawn from each queue's
Kaplan–Meier estimate; it compares that with the recording per queue (the fidelity check).
A candidate configuration or staffing change is then reported as a difference from the
faithful replay, seed by seed, never from the recording. No I/O: ``app.routing.replay``
reads the database and prints.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal

from app.customers.value.core.history import OrderFact, tags_as_of
from app.customers.value.core.rules import ValueRules
from app.routing.core.model import (
    AgentState,
    Channel,
    QueueConfig,
    RoutingConfig,
    SkillRequirement,
)
from app.routing.simulator import (
    AgentChange,
    ContactOutcome,
    PresenceChange,
    PresenceRecord,
    QueueLoad,
    RecordedArrival,
    RecordedResponse,
    RecordedTransfer,
    SimulatedAgent,
    SimulationResult,
    SimulationSetup,
    replay_arrivals,
    serves,
)
from app.staffing.erlang import agents_needed
from app.staffing.patience import PatienceCurve, WaitObservation, kaplan_meier

DEFAULT_SEEDS = 5
DEFAULT_SL_SECONDS = 20.0
FALLBACK_HANDLE = (300.0, 0.0)  # talk, wrap-up: a queue with nothing answered to draw from
FALLBACK_POOL = (FALLBACK_HANDLE,)
METRICS = ("offered", "handled", "abandoned", "service_level", "asa_seconds", "occupancy")

# the fidelity goal: how far a faithful replay may be from the recording, per queue
SL_TOLERANCE = 0.05
ASA_RELATIVE_TOLERANCE = 0.15
ASA_ABSOLUTE_TOLERANCE = 5.0  # seconds, used while the recorded ASA is under 30 s
ASA_ABSOLUTE_BELOW = 30.0
ABANDON_TOLERANCE = 0.03  # of the abandonment rate


# ------------------------------------------------------------------ the recording


@dataclass(frozen=True, slots=True)
class RecordedContact:
    """One inbound contact of the period as it happened. Times in seconds."""

    time: float  # entered its queue, from the period's start
    queue: str
    channel: Channel
    skills: tuple[SkillRequirement, ...] | None
    priority: int | None
    value_tags: tuple[str, ...]  # the customer's value at arrival, as routing weighed it
    wait_seconds: float  # until answered, or until it hung up
    answered: bool
    talk_seconds: float | None = None  # answered: (last) answer to end
    wrap_up_seconds: float | None = None  # answered: end to the end of wrap-up
    responses: tuple[RecordedResponse, ...] = ()  # its offers' answers, in order
    transfers: tuple[TransferRecord, ...] = ()  # in order; talk_seconds is the last leg's
    callback_after: float | None = None  # took a callback this long after entering
    customer_id: int | None = None  # whose value_tags these are (None: no known customer)


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A recorded transfer: the talk before it, where it went, and the wait after it."""

    talk_seconds: float
    to_queue: str | None  # None: to an agent, in the same queue
    to_agent_id: str | None
    wait_seconds: float  # in the target, until answered or until the caller hung up
    abandoned: bool = False  # hung up in that wait
    callback: bool = False  # took a callback in that wait: waits as long as it takes


@dataclass(frozen=True, slots=True)
class RecordedPeriod:
    seconds: float
    contacts: tuple[RecordedContact, ...]
    agents: tuple[SimulatedAgent, ...]  # everyone with presence in the period
    presence: tuple[PresenceChange, ...]  # their own changes, from ``presence_schedule``
    states: tuple[PresenceRecord, ...]  # every recorded state, for recorded occupancy
    sl_seconds: Mapping[str, float] = field(default_factory=dict)
    sl_percent: Mapping[str, float] = field(default_factory=dict)  # the queues' targets
    # skills and capacity changed in the period; ``agents`` are as they were at its start
    agent_changes: tuple[AgentChange, ...] = ()


# the routing events that say more than a contact's columns: a contact with one of these
# (beside its contact.queued, contact.offered, contact.assigned, ...) is read event by event
JOURNEY_KINDS = (
    "contact.queued",
    "contact.offered",
    "contact.offer_withdrawn",
    "contact.assigned",
    "contact.requeued",
    "contact.callback_requested",
    "contact.abandoned",
)
TELLING_KINDS = ("contact.offer_withdrawn", "contact.requeued", "contact.callback_requested")
_TO_AGENT = "transferred to agent "


@dataclass(frozen=True, slots=True)
class RoutingEventRecord:
    """One of a contact's recorded routing events (``JOURNEY_KINDS``), seconds from the
    period's start."""

    time: float
    kind: str
    agent_id: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Journey:
    """What a contact's routing events say: where it entered first, its first wait's end,
    how each offer was answered, its transfers and whether it took a callback."""

    queue: str
    entered: float
    first_answer: float | None
    abandoned: float | None  # hung up in the first wait
    responses: tuple[RecordedResponse, ...]
    transfers: tuple[TransferRecord, ...]
    callback_after: float | None


@dataclass(slots=True)
class _Walk:
    queue: str
    entered: float
    leg_start: float
    first_answer: float | None = None
    abandoned: float | None = None
    callback_after: float | None = None
    held_since: float | None = None
    offered: dict[str, float] = field(default_factory=dict)
    responses: list[RecordedResponse] = field(default_factory=list)
    transfers: list[TransferRecord] = field(default_factory=list)
    leg_open: bool = False  # the wait after the last transfer has not ended

    def end_leg(self, at: float, *, abandoned: bool) -> None:
        if self.leg_open:
            last = self.transfers[-1]
            self.transfers[-1] = replace(
                last, wait_seconds=max(0.0, at - self.leg_start), abandoned=abandoned
            )
            self.leg_open = False


def journey(events: Iterable[RoutingEventRecord]) -> Journey | None:
    """Read a contact's routing events in order; None without a ``contact.queued``.

    An offer withdrawn as ``rejected`` or ``timeout`` is that agent's response, with the
    time it rang; an assignment is the response ``accepted``; other withdrawals (the caller
    hung up, the agent signed out) are no one's answer. ``contact.requeued`` with reason
    ``transferred`` (to its payload's queue) or ``transferred to agent N`` is a transfer
    after the talk since the last assignment; other requeues (a supervisor's move, a target
    agent who did not take it) are left to the engine.
    """
    walk: _Walk | None = None
    for event in events:
        if walk is None:
            if event.kind == "contact.queued":
                queue = str(event.payload.get("queue", ""))
                walk = _Walk(queue, event.time, event.time)
            continue
        _step(walk, event)
    if walk is None:
        return None
    return Journey(
        queue=walk.queue,
        entered=walk.entered,
        first_answer=walk.first_answer,
        abandoned=walk.abandoned,
        responses=tuple(walk.responses),
        transfers=tuple(walk.transfers),
        callback_after=walk.callback_after,
    )


def _step(walk: _Walk, event: RoutingEventRecord) -> None:
    kind, at, agent = event.kind, event.time, event.agent_id
    if kind == "contact.offered" and agent is not None:
        walk.offered[agent] = at
    elif kind == "contact.offer_withdrawn" and agent is not None:
        since = walk.offered.pop(agent, None)
        reason = event.payload.get("reason")
        if since is not None and reason in ("rejected", "timeout"):
            outcome: Literal["rejected", "timeout"] = (
                "rejected" if reason == "rejected" else "timeout"
            )
            walk.responses.append(RecordedResponse(agent, outcome, max(0.0, at - since)))
    elif kind == "contact.assigned" and agent is not None:
        since = walk.offered.pop(agent, at)
        walk.responses.append(RecordedResponse(agent, "accepted", max(0.0, at - since)))
        if walk.first_answer is None:
            walk.first_answer = at
        walk.end_leg(at, abandoned=False)
        walk.held_since = at
    elif kind == "contact.requeued" and walk.held_since is not None:
        _transfer(walk, event)
    elif kind == "contact.callback_requested":
        if walk.first_answer is None:
            walk.callback_after = max(0.0, at - walk.entered)
        elif walk.leg_open:
            walk.transfers[-1] = replace(walk.transfers[-1], callback=True)
    elif kind == "contact.abandoned":
        if walk.first_answer is None:
            walk.abandoned = at
        walk.end_leg(at, abandoned=True)


def _transfer(walk: _Walk, event: RoutingEventRecord) -> None:
    reason = str(event.payload.get("reason", ""))
    target = str(event.payload.get("queue", walk.queue))
    to_queue: str | None
    to_agent: str | None
    if reason == "transferred":
        to_queue, to_agent = target, None
    elif reason.startswith(_TO_AGENT):
        to_agent = reason.removeprefix(_TO_AGENT)
        to_queue = target if target != _current_queue(walk) else None
    else:
        return
    assert walk.held_since is not None
    talk = max(0.0, event.time - walk.held_since)
    walk.transfers.append(TransferRecord(talk, to_queue, to_agent, 0.0))
    walk.leg_open = True
    walk.leg_start = event.time
    walk.held_since = None
    walk.offered.clear()


def _current_queue(walk: _Walk) -> str:
    for transfer in reversed(walk.transfers):
        if transfer.to_queue is not None:
            return transfer.to_queue
    return walk.queue


AgentAttribute = Literal["skills", "capacity"]


@dataclass(frozen=True, slots=True)
class AgentUpdateRecord:
    """A recorded change of one agent's skills or capacity (``agent.skills_changed``,
    ``agent.capacity_changed``), seconds from the period's start (negative: before it, and
    past its length: after it)."""

    time: float
    agent_id: str
    attribute: AgentAttribute
    value: Mapping[str, int]
    previous: Mapping[str, int] | None = None  # None: not recorded


def agents_as_they_were(
    agents_now: Iterable[SimulatedAgent], updates: Iterable[AgentUpdateRecord], seconds: float
) -> tuple[tuple[SimulatedAgent, ...], tuple[AgentChange, ...]]:
    """The agents as they were at the period's start, and their changes within it.

    An attribute at the start is the value of its last change before the start; without
    one, what its first change from the start on replaced; without any change, its value
    now. Changes in [0, ``seconds``) are returned in time order, one per record.
    """
    timeline: dict[tuple[str, AgentAttribute], list[AgentUpdateRecord]] = defaultdict(list)
    for update in sorted(updates, key=lambda u: u.time):
        timeline[(update.agent_id, update.attribute)].append(update)
    agents = []
    for agent in agents_now:
        skills = _at_start(timeline.get((agent.agent_id, "skills"), ()), agent.skills)
        capacity = _at_start(timeline.get((agent.agent_id, "capacity"), ()), agent.capacity)
        agents.append(replace(agent, skills=dict(skills), capacity=dict(capacity)))
    known = {agent.agent_id for agent in agents}
    changes = tuple(
        AgentChange(u.time, u.agent_id, skills=dict(u.value))
        if u.attribute == "skills"
        else AgentChange(u.time, u.agent_id, capacity=dict(u.value))
        for history in timeline.values()
        for u in history
        if 0.0 <= u.time < seconds and u.agent_id in known
    )
    return tuple(agents), tuple(sorted(changes, key=lambda change: change.time))


def _at_start(history: Sequence[AgentUpdateRecord], now: Mapping[str, int]) -> Mapping[str, int]:
    before = [u for u in history if u.time < 0.0]
    if before:
        return before[-1].value
    after = [u for u in history if u.time >= 0.0]
    if after and after[0].previous is not None:
        return after[0].previous
    return now


def own_state(state: str) -> AgentState:
    """What an agent chose: on a contact or in wrap-up an agent is signed in and ready."""
    if state == AgentState.OFFLINE.value:
        return AgentState.OFFLINE
    if state == AgentState.NOT_READY.value:
        return AgentState.NOT_READY
    return AgentState.AVAILABLE


def presence_schedule(states: Iterable[PresenceRecord]) -> list[PresenceChange]:
    """The agents' own presence changes within a log of every recorded state.

    Records before the period (negative times) give each agent's state at its start.
    """
    current: dict[str, tuple[AgentState, str | None]] = {}
    changes: list[PresenceChange] = []
    for record in sorted(states, key=lambda r: r.time):
        state = own_state(record.state.value)
        reason = record.reason if state is AgentState.NOT_READY else None
        if current.get(record.agent_id, (AgentState.OFFLINE, None)) == (state, reason):
            continue
        current[record.agent_id] = (state, reason)
        changes.append(PresenceChange(max(record.time, 0.0), record.agent_id, state, reason))
    return changes


def patience_curves(
    contacts: Iterable[RecordedContact],
) -> dict[tuple[str, Channel], PatienceCurve]:
    """Kaplan–Meier per queue and channel, from each contact's first wait: abandons are
    events, answers censor, and so does taking a callback (from then on nobody waits)."""
    observations: dict[tuple[str, Channel], list[WaitObservation]] = defaultdict(list)
    for contact in contacts:
        if contact.callback_after is not None:
            waited = min(contact.callback_after, contact.wait_seconds)
            observation = WaitObservation(waited, abandoned=False)
        else:
            observation = WaitObservation(contact.wait_seconds, abandoned=not contact.answered)
        observations[(contact.queue, contact.channel)].append(observation)
    return {key: kaplan_meier(values) for key, values in sorted(observations.items())}


def handle_pools(
    contacts: Iterable[RecordedContact],
) -> dict[tuple[str, Channel], list[tuple[float, float]]]:
    """Each queue and channel's recorded (talk, wrap-up) pairs, in recorded order, from the
    answered contacts handled in one piece (not transferred)."""
    pools: dict[tuple[str, Channel], list[tuple[float, float]]] = defaultdict(list)
    for contact in contacts:
        if contact.answered and contact.talk_seconds is not None and not contact.transfers:
            pools[(contact.queue, contact.channel)].append(
                (contact.talk_seconds, contact.wrap_up_seconds or 0.0)
            )
    return pools


def seeded_arrivals(
    period: RecordedPeriod,
    curves: Mapping[tuple[str, Channel], PatienceCurve],
    pools: Mapping[tuple[str, Channel], Sequence[tuple[float, float]]],
    seed: int,
) -> list[RecordedArrival]:
    """The period's contacts for one seed.

    Answered: recorded talk and wrap-up; a patience drawn from the curve knowing it
    outlasted the recorded wait (it only matters if the replay makes it wait longer).
    Abandoned: the recorded wait is the patience; talk and wrap-up are drawn from the
    queue's recorded ones. A contact that took a callback waits as long as it takes.
    Recorded offers and transfers go along (``replayed_transfers``).
    """
    rng = random.Random(seed)
    agents = {agent.agent_id for agent in period.agents}
    arrivals = []
    for contact in period.contacts:
        key = (contact.queue, contact.channel)
        if contact.answered:
            talk, wrap_up = contact.talk_seconds or 0.0, contact.wrap_up_seconds
            curve = curves.get(key)
            patience = None if curve is None else curve.draw(rng, contact.wait_seconds)
            if contact.callback_after is not None:
                patience = None
        else:
            pool = pools.get(key) or FALLBACK_POOL
            talk, wrap_up = pool[rng.randrange(len(pool))]
            patience = contact.wait_seconds
        transfers = replayed_transfers(contact, curves, agents, rng) if contact.transfers else ()
        arrivals.append(
            RecordedArrival(
                time=contact.time,
                queue=contact.queue,
                channel=contact.channel,
                skills=contact.skills,
                handle_seconds=max(talk, 0.001),
                patience_seconds=patience,
                wrap_up_seconds=wrap_up,
                priority=contact.priority,
                value_tags=contact.value_tags,
                responses=contact.responses,
                transfers=transfers,
            )
        )
    return arrivals


def replayed_transfers(
    contact: RecordedContact,
    curves: Mapping[tuple[str, Channel], PatienceCurve],
    agents: Collection[str],
    rng: random.Random,
) -> tuple[RecordedTransfer, ...]:
    """The contact's transfers as the simulator replays them, after the recorded talk.

    The wait after a transfer has the patience of a first wait: the recorded wait if the
    caller hung up in it, none after a callback, else a draw from the target queue's curve
    knowing it outlasted the recorded wait. A transfer to an agent who is not among the
    period's agents goes back to the contact's queue instead.
    """
    replayed = []
    queue = contact.queue
    for transfer in contact.transfers:
        to_queue, to_agent = transfer.to_queue, transfer.to_agent_id
        if to_agent is not None and to_agent not in agents:
            to_queue, to_agent = to_queue or queue, None
        queue = to_queue or queue
        patience: float | None = None
        if transfer.abandoned:
            patience = transfer.wait_seconds
        elif not transfer.callback and (curve := curves.get((queue, contact.channel))):
            patience = curve.draw(rng, transfer.wait_seconds)
        replayed.append(
            RecordedTransfer(max(transfer.talk_seconds, 0.001), to_queue, to_agent, patience)
        )
    return tuple(replayed)


def _run_seconds(period: RecordedPeriod) -> float:
    return max(period.seconds, 0.0036)


def replay_once(
    period: RecordedPeriod, routing: RoutingConfig, arrivals: Sequence[RecordedArrival]
) -> SimulationResult:
    """One seed: the agents' recorded presence, the seed's contacts, under ``routing``."""
    queues = sorted({contact.queue for contact in period.contacts})
    loads = tuple(
        QueueLoad(q, 0.0, 1.0, sl_seconds=period.sl_seconds.get(q, DEFAULT_SL_SECONDS))
        for q in queues
    )
    setup = SimulationSetup(
        routing=routing,
        loads=loads,
        agents=period.agents,
        hours=_run_seconds(period) / 3600.0,
        warmup_seconds=0.0,
        presence=period.presence,
        agent_changes=period.agent_changes,
    )
    return replay_arrivals(setup, arrivals)


# ------------------------------------------------------------------ figures


@dataclass(frozen=True, slots=True)
class Figures:
    """One queue's figures: recorded, or the means over seeds with their spread."""

    values: dict[str, float | None]
    spread: dict[str, float | None] = field(default_factory=dict)  # sample std. dev.

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = dict(self.values)
        if self.spread:
            document["spread"] = dict(self.spread)
        return document


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def recorded_figures(
    period: RecordedPeriod, routing: RoutingConfig
) -> dict[str, dict[str, float | None]]:
    """What really happened per queue, in the simulator's definitions."""
    occupancy = recorded_occupancy(period, routing)
    by_queue: dict[str, list[RecordedContact]] = defaultdict(list)
    for contact in period.contacts:
        by_queue[contact.queue].append(contact)
    figures = {}
    for queue, contacts in sorted(by_queue.items()):
        threshold = period.sl_seconds.get(queue, DEFAULT_SL_SECONDS)
        waits = [c.wait_seconds for c in contacts if c.answered]
        late = sum(1 for c in contacts if not c.answered and c.wait_seconds > threshold)
        within = sum(1 for wait in waits if wait <= threshold)
        figures[queue] = {
            "offered": float(len(contacts)),
            "handled": float(len(waits)),
            "abandoned": float(len(contacts) - len(waits)),
            "service_level": _ratio(within, len(waits) + late),
            "asa_seconds": _ratio(math.fsum(waits), len(waits)),
            "occupancy": occupancy.get(queue),
        }
    return figures


def recorded_occupancy(period: RecordedPeriod, routing: RoutingConfig) -> dict[str, float | None]:
    """Per queue: busy time (on a contact, in wrap-up) / staffed time (not offline) of the
    agents able to serve it, from the recorded states, clipped to the period."""
    busy: dict[str, float] = defaultdict(float)
    staffed: dict[str, float] = defaultdict(float)
    by_agent: dict[str, list[PresenceRecord]] = defaultdict(list)
    for record in sorted(period.states, key=lambda r: r.time):
        by_agent[record.agent_id].append(record)
    for agent_id, records in by_agent.items():
        ends = [r.time for r in records[1:]] + [period.seconds]
        for record, end in zip(records, ends, strict=True):
            seconds = max(0.0, min(end, period.seconds) - max(record.time, 0.0))
            if record.state is not AgentState.OFFLINE:
                staffed[agent_id] += seconds
            if record.state in (AgentState.ON_CONTACT, AgentState.WRAP_UP):
                busy[agent_id] += seconds
    result: dict[str, float | None] = {}
    for name, queue in routing.queues.items():
        pool = [a.agent_id for a in period.agents if serves(a, queue)]
        result[name] = _ratio(sum(busy[a] for a in pool), sum(staffed[a] for a in pool))
    return result


UNTAGGED = "untagged"  # the grade group of contacts whose customer had no value tags


def grades_of(value_tags: Sequence[str]) -> tuple[str, ...]:
    """The grade groups a contact counts in: each of its value tags (``grade:P``, ``vip``,
    ``class:key``, ...), or ``untagged``."""
    return tuple(value_tags) or (UNTAGGED,)


def _grade_tally(
    entries: Iterable[tuple[Sequence[str], float, bool | None, float]],
) -> dict[str, dict[str, float | None]]:
    """Per grade, from (value tags, wait, answered: True / hung up: False / neither: None,
    the contact's queue's SL threshold): the queue figures' definitions; occupancy belongs
    to agents, not to grades (None)."""
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    for tags, wait, answered, threshold in entries:
        for grade in grades_of(tags):
            tally = counts[grade]  # offered, handled, abandoned, within, late abandons, waits
            tally[0] += 1
            if answered:
                tally[1] += 1
                tally[3] += wait <= threshold
                tally[5] += wait
            elif answered is not None:
                tally[2] += 1
                tally[4] += wait > threshold
    return {
        grade: {
            "offered": offered,
            "handled": handled,
            "abandoned": abandoned,
            "service_level": _ratio(within, handled + late),
            "asa_seconds": _ratio(waits, handled),
            "occupancy": None,
        }
        for grade, (offered, handled, abandoned, within, late, waits) in sorted(counts.items())
    }


def recorded_grade_figures(period: RecordedPeriod) -> dict[str, dict[str, float | None]]:
    """What really happened per grade group (``grades_of``)."""
    return _grade_tally(
        (
            c.value_tags,
            c.wait_seconds,
            c.answered,
            period.sl_seconds.get(c.queue, DEFAULT_SL_SECONDS),
        )
        for c in period.contacts
    )


def seed_grade_figures(
    result: SimulationResult, sl_seconds: Mapping[str, float]
) -> dict[str, dict[str, float | None]]:
    """One seed's figures per grade group."""
    entries = []
    for outcome in result.contacts:
        answered = True if outcome.answered_at is not None else None
        end = outcome.answered_at
        if end is None and outcome.abandoned_at is not None:
            answered, end = False, outcome.abandoned_at
        wait = (end if end is not None else result.measured_until) - outcome.arrived_at
        threshold = sl_seconds.get(outcome.queue, DEFAULT_SL_SECONDS)
        entries.append((outcome.value_tags, wait, answered, threshold))
    return _grade_tally(entries)


def seed_figures(result: SimulationResult) -> dict[str, dict[str, float | None]]:
    return {
        stats.queue: {
            "offered": float(stats.offered),
            "handled": float(stats.handled),
            "abandoned": float(stats.abandoned),
            "service_level": stats.service_level,
            "asa_seconds": stats.asa_seconds,
            "occupancy": stats.occupancy,
        }
        for stats in result.queues
    }


def summarise(runs: Sequence[Mapping[str, Mapping[str, float | None]]], queue: str) -> Figures:
    """Mean and sample standard deviation of each metric over seeds (None where undefined)."""
    values: dict[str, float | None] = {}
    spread: dict[str, float | None] = {}
    for metric in METRICS:
        samples = [v for run in runs if (v := run.get(queue, {}).get(metric)) is not None]
        values[metric] = statistics.fmean(samples) if samples else None
        spread[metric] = statistics.stdev(samples) if len(samples) > 1 else 0.0 if samples else None
    return Figures(values, spread)


def differences(
    candidate: Sequence[Mapping[str, Mapping[str, float | None]]],
    replayed: Sequence[Mapping[str, Mapping[str, float | None]]],
    queue: str,
) -> Figures:
    """Candidate minus faithful replay, seed by seed (same contacts, same draws)."""
    paired = []
    for after, before in zip(candidate, replayed, strict=True):
        a, b = after.get(queue, {}), before.get(queue, {})
        paired.append(
            {
                queue: {
                    m: (
                        x - y
                        if (x := a.get(m)) is not None and (y := b.get(m)) is not None
                        else None
                    )
                    for m in METRICS
                }
            }
        )
    return summarise(paired, queue)


@dataclass(frozen=True, slots=True)
class Verdict:
    faithful: bool
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": "faithful" if self.faithful else "not faithful",
                "problems": list(self.problems)}  # fmt: skip


def fidelity(recorded: Mapping[str, float | None], replayed: Figures) -> Verdict:
    """The goal: offered exact, SL within ±0.05, ASA within ±15 % (±5 s under 30 s),
    abandonment rate within ±0.03."""
    problems = []
    got = replayed.values
    if recorded["offered"] != got["offered"]:
        problems.append(f"offered {got['offered']} vs {recorded['offered']} recorded")
    sl, sl_now = recorded["service_level"], got["service_level"]
    if sl is not None and sl_now is not None and abs(sl_now - sl) > SL_TOLERANCE:
        problems.append(f"service level {sl_now:.3f} vs {sl:.3f} recorded (±{SL_TOLERANCE})")
    asa, asa_now = recorded["asa_seconds"], got["asa_seconds"]
    if asa is not None and asa_now is not None:
        allowed = (
            ASA_ABSOLUTE_TOLERANCE if asa < ASA_ABSOLUTE_BELOW else asa * ASA_RELATIVE_TOLERANCE
        )
        if abs(asa_now - asa) > allowed:
            problems.append(f"ASA {asa_now:.1f} s vs {asa:.1f} s recorded (±{allowed:.1f} s)")
    offered = recorded["offered"] or 0.0
    if offered > 0 and got["abandoned"] is not None and recorded["abandoned"] is not None:
        rate, rate_now = recorded["abandoned"] / offered, got["abandoned"] / offered
        if abs(rate_now - rate) > ABANDON_TOLERANCE:
            problems.append(
                f"abandonment {rate_now:.3f} vs {rate:.3f} recorded (±{ABANDON_TOLERANCE})"
            )
    return Verdict(not problems, tuple(problems))


def worst_waits(period: RecordedPeriod) -> dict[str, float]:
    """Each queue's longest recorded wait, answered or not."""
    worst: dict[str, float] = defaultdict(float)
    for contact in period.contacts:
        worst[contact.queue] = max(worst[contact.queue], contact.wait_seconds)
    return dict(worst)


def waited_longer_than(
    result: SimulationResult, worst: Mapping[str, float]
) -> tuple[dict[str, int], dict[str, int]]:
    """Contacts that waited (answered or not) longer than their queue's recorded worst,
    counted per queue and per grade group."""
    by_queue: dict[str, int] = defaultdict(int)
    by_grade: dict[str, int] = defaultdict(int)
    for outcome in result.contacts:
        end = outcome.answered_at if outcome.answered_at is not None else outcome.abandoned_at
        waited = (end if end is not None else result.measured_until) - outcome.arrived_at
        if waited > worst.get(outcome.queue, math.inf):
            by_queue[outcome.queue] += 1
            for grade in grades_of(outcome.value_tags):
                by_grade[grade] += 1
    return dict(by_queue), dict(by_grade)


# ------------------------------------------------------------------ staffing what-if


def with_agents_delta(
    period: RecordedPeriod, routing: RoutingConfig, deltas: Mapping[str, int]
) -> RecordedPeriod:
    """``queue=+n``: n more agents for that queue, each a copy of one of the queue's
    recorded agents (skills, capacity, shifts, their changes) serving only that queue;
    ``-n``: the queue's last n agents (by id) never sign in."""
    agents = list(period.agents)
    presence = list(period.presence)
    changes = list(period.agent_changes)
    for queue_name, delta in sorted(deltas.items()):
        queue = routing.queues.get(queue_name)
        if queue is None:
            raise ValueError(f"--agents-delta names an unknown queue {queue_name!r}")
        pool = sorted(
            (a for a in agents if _ever_serves(a, queue, changes)), key=lambda a: a.agent_id
        )
        if not pool:
            raise ValueError(f"no recorded agent serves {queue_name!r} to copy")
        if delta < 0:
            gone = {a.agent_id for a in pool[delta:]}
            presence = [p for p in presence if p.agent_id not in gone]
            changes = [c for c in changes if c.agent_id not in gone]
            continue
        for n in range(delta):
            model = pool[n % len(pool)]
            extra = f"extra-{queue_name}-{n + 1}"
            agents.append(replace(model, agent_id=extra, queues=(queue_name,)))
            presence += [
                replace(p, agent_id=extra) for p in presence if p.agent_id == model.agent_id
            ]
            changes += [replace(c, agent_id=extra) for c in changes if c.agent_id == model.agent_id]
    changes.sort(key=lambda change: change.time)
    return replace(
        period, agents=tuple(agents), presence=tuple(presence), agent_changes=tuple(changes)
    )


def _ever_serves(agent: SimulatedAgent, queue: QueueConfig, changes: Iterable[AgentChange]) -> bool:
    """Whether ``agent`` serves ``queue`` at the start or after one of its recorded skill
    changes (an agent given the queue's skills during the period is a model for a copy)."""
    if serves(agent, queue):
        return True
    return any(
        serves(replace(agent, skills=change.skills), queue)
        for change in changes
        if change.agent_id == agent.agent_id and change.skills is not None
    )


def parse_agents_delta(texts: Iterable[str]) -> dict[str, int]:
    """``["support=+2", "sales=-1"]`` -> ``{"support": 2, "sales": -1}``."""
    deltas: dict[str, int] = {}
    for text in texts:
        name, sign, number = text.partition("=")
        try:
            count = int(number)
        except ValueError:
            count = 0
        if not sign or not name.strip() or count == 0:
            raise ValueError(f"--agents-delta wants QUEUE=+N or QUEUE=-N, got {text!r}")
        deltas[name.strip()] = deltas.get(name.strip(), 0) + count
    return deltas


INTERVAL_SECONDS = 3600.0
DEFAULT_SL_PERCENT = 80.0


@dataclass(frozen=True, slots=True)
class StaffingComparison:
    """Erlang C beside a staffing what-if, over the period's hours with contacts.

    Per hour: the agents Erlang C needs for the queue's service level target at that hour's
    arrivals and the queue's recorded mean talk + wrap-up, against the mean number of agents
    able to serve the queue who were signed in and ready (recorded, and with the delta).
    Agents who serve several queues count fully for each: the figure is the queue's own.
    """

    queue: str
    intervals: int
    erlang_c_peak: int
    erlang_c_mean: float
    ready_mean: float
    ready_mean_with_delta: float
    short_intervals: int  # hours with fewer ready agents than Erlang C needs
    short_intervals_with_delta: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def ready_agents_per_interval(period: RecordedPeriod, queue: QueueConfig) -> dict[int, float]:
    """Mean ready agents able to serve ``queue`` in each hour of the period."""
    able = {a.agent_id for a in period.agents if _ever_serves(a, queue, period.agent_changes)}
    seconds: dict[int, float] = defaultdict(float)
    since: dict[str, float] = {}
    for change in sorted(period.presence, key=lambda c: c.time):
        if change.agent_id not in able:
            continue
        start = since.pop(change.agent_id, None)
        if start is not None:
            _spread_over_hours(seconds, start, change.time)
        if change.state is AgentState.AVAILABLE:
            since[change.agent_id] = change.time
    for start in since.values():
        _spread_over_hours(seconds, start, period.seconds)
    return {hour: total / INTERVAL_SECONDS for hour, total in seconds.items()}


def _spread_over_hours(seconds: dict[int, float], start: float, end: float) -> None:
    while start < end:
        hour = int(start // INTERVAL_SECONDS)
        until = min(end, (hour + 1) * INTERVAL_SECONDS)
        seconds[hour] += until - start
        start = until


def staffing_comparison(
    period: RecordedPeriod, routing: RoutingConfig, queue_name: str, delta: int
) -> StaffingComparison:
    queue = routing.queues[queue_name]
    contacts = [c for c in period.contacts if c.queue == queue_name]
    handled = [(c.talk_seconds or 0.0) + (c.wrap_up_seconds or 0.0) for c in contacts if c.answered]
    aht = statistics.fmean(handled) if handled else FALLBACK_HANDLE[0]
    arrivals: dict[int, int] = defaultdict(int)
    for contact in contacts:
        arrivals[int(contact.time // INTERVAL_SECONDS)] += 1
    ready = ready_agents_per_interval(period, queue)
    target = period.sl_percent.get(queue_name, DEFAULT_SL_PERCENT) / 100.0
    seconds = period.sl_seconds.get(queue_name, DEFAULT_SL_SECONDS)
    needs = {
        hour: agents_needed(
            count * 3600.0 / INTERVAL_SECONDS, max(aht, 1.0), target, seconds
        ).agents
        for hour, count in arrivals.items()
    }
    hours = sorted(needs)
    return StaffingComparison(
        queue=queue_name,
        intervals=len(hours),
        erlang_c_peak=max(needs.values(), default=0),
        erlang_c_mean=statistics.fmean(needs.values()) if needs else 0.0,
        ready_mean=statistics.fmean(ready.get(h, 0.0) for h in hours) if hours else 0.0,
        ready_mean_with_delta=(
            statistics.fmean(ready.get(h, 0.0) for h in hours) + delta if hours else 0.0
        ),
        short_intervals=sum(1 for h in hours if ready.get(h, 0.0) < needs[h]),
        short_intervals_with_delta=sum(1 for h in hours if ready.get(h, 0.0) + delta < needs[h]),
    )


# ------------------------------------------------------------------ value what-if


@dataclass(frozen=True, slots=True)
class CustomerOrders:
    """What re-grading one customer needs: their orders, the value class they rank in at
    the period's start under the rules in force and under the candidate's, and whether
    they are blocked."""

    orders: tuple[OrderFact, ...] = ()
    value_class_in_force: str = "normal"
    value_class: str = "normal"  # under the candidate rules
    blocked: bool = False


SEGMENT_PREFIX = "segment:"
TAG_FAMILIES = ("standing", "vip", "class", "segment")  # in ``routing_tags`` order


@lru_cache(maxsize=4096)
def tag_family(tag: str) -> str:
    """``grade:*`` and ``status:*`` are one family (a grade comes with ``status:graded``),
    ``vip``, ``class:*``, ``segment:*``; any other tag is its own prefix's."""
    name = tag.partition(":")[0]
    return "standing" if name in ("grade", "status") else name


def merged_tags(
    recorded: Sequence[str], in_force: Sequence[str], candidate: Sequence[str]
) -> tuple[str, ...]:
    """The recorded tags changed only where the candidate rules change them: family by
    family, the candidate's tags where they differ from the rules in force re-graded the
    same way, else the recorded ones. The same rules change nothing."""
    if tuple(in_force) == tuple(candidate):
        return tuple(recorded)
    families = dict.fromkeys([*TAG_FAMILIES, *map(tag_family, recorded)])
    tags: list[str] = []
    for family in families:
        before = [tag for tag in in_force if tag_family(tag) == family]
        after = [tag for tag in candidate if tag_family(tag) == family]
        if before == after:
            tags += [tag for tag in recorded if tag_family(tag) == family]
        else:
            tags += after
    return tuple(tags)


def regraded_tags(
    period: RecordedPeriod,
    customers: Mapping[int, CustomerOrders],
    rules: ValueRules,
    in_force: ValueRules,
    start: datetime,
    zone: tzinfo,
) -> tuple[tuple[str, ...], ...]:
    """Each contact's tags with its customer graded under ``rules`` as of the contact's
    arrival (``start`` plus its time, in the shop's ``zone``), in ``period.contacts`` order,
    merged into the recorded tags against the same grading under ``in_force``
    (``merged_tags``). A contact with no customer keeps its recorded tags, a customer the
    segments recorded at arrival."""
    origin = start.astimezone(UTC)
    tags = []
    for contact in period.contacts:
        if contact.customer_id is None:
            tags.append(contact.value_tags)
            continue
        customer = customers.get(contact.customer_id, CustomerOrders())
        as_of = (origin + timedelta(seconds=contact.time)).astimezone(zone)
        segments = tuple(
            tag.removeprefix(SEGMENT_PREFIX)
            for tag in contact.value_tags
            if tag.startswith(SEGMENT_PREFIX)
        )
        graded = [
            tags_as_of(
                customer.orders,
                as_of,
                scored_by,
                value_class=value_class,
                segments=segments,
                blocked=customer.blocked,
            )
            for scored_by, value_class in (
                (in_force, customer.value_class_in_force),
                (rules, customer.value_class),
            )
        ]
        tags.append(merged_tags(contact.value_tags, *graded))
    return tuple(tags)


@dataclass(frozen=True, slots=True)
class Regrade:
    """Contacts whose tags the candidate rules change the same way."""

    removed: tuple[str, ...]
    added: tuple[str, ...]
    contacts: int

    def as_dict(self) -> dict[str, Any]:
        return {"removed": list(self.removed), "added": list(self.added),
                "contacts": self.contacts}  # fmt: skip


def regrades(
    recorded: Sequence[Sequence[str]], tried: Sequence[Sequence[str]]
) -> tuple[Regrade, ...]:
    """The changes of tags, contact by contact, counted; most frequent first."""
    counts: Counter[tuple[tuple[str, ...], tuple[str, ...]]] = Counter()
    for before, after in zip(recorded, tried, strict=True):
        removed = tuple(sorted(set(before) - set(after)))
        added = tuple(sorted(set(after) - set(before)))
        if removed or added:
            counts[(removed, added)] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Regrade(removed, added, n) for (removed, added), n in ranked)


def _with_value_tags(
    arrivals: Sequence[RecordedArrival], tags: Sequence[tuple[str, ...]]
) -> list[RecordedArrival]:
    return [
        arrival if arrival.value_tags == new else replace(arrival, value_tags=new)
        for arrival, new in zip(arrivals, tags, strict=True)
    ]


def _grouped_as_recorded(result: SimulationResult, period: RecordedPeriod) -> SimulationResult:
    """The run's contacts counted in their recorded grade groups (its outcomes are the
    measured arrivals, in ``period.contacts`` order)."""
    recorded = [c.value_tags for c in period.contacts if 0.0 <= c.time < _run_seconds(period)]
    outcomes: list[ContactOutcome] = [
        outcome if outcome.value_tags == tags else replace(outcome, value_tags=tags)
        for outcome, tags in zip(result.contacts, recorded, strict=True)
    ]
    return replace(result, contacts=tuple(outcomes))


# ------------------------------------------------------------------ the report


@dataclass(frozen=True, slots=True)
class GroupReport:
    """One queue's, or one grade group's, figures: recorded, faithful replay, candidate."""

    name: str
    recorded: dict[str, float | None]
    replayed: Figures
    fidelity: Verdict
    candidate: Figures | None = None
    difference: Figures | None = None
    longer_than_recorded_worst: float | None = None  # mean contacts per seed, candidate
    erlang_c: StaffingComparison | None = None  # with an agents delta for this queue

    def as_dict(self, label: str | None = "queue") -> dict[str, Any]:
        """``label``: the key that names the group (None: named by whoever holds it)."""
        document: dict[str, Any] = {} if label is None else {label: self.name}
        document |= {
            "recorded": dict(self.recorded),
            "replayed": self.replayed.as_dict(),
            "fidelity": self.fidelity.as_dict(),
        }
        if self.candidate is not None and self.difference is not None:
            document["candidate"] = self.candidate.as_dict()
            document["difference"] = self.difference.as_dict()
            document["longer_than_recorded_worst"] = self.longer_than_recorded_worst
        if self.erlang_c is not None:
            document["erlang_c"] = self.erlang_c.as_dict()
        return document


@dataclass(frozen=True, slots=True)
class ReplayReport:
    seeds: tuple[int, ...]
    patience: dict[tuple[str, Channel], PatienceCurve]
    queues: tuple[GroupReport, ...]
    grades: tuple[GroupReport, ...] = ()
    regrades: tuple[Regrade, ...] = ()  # how the candidate value rules changed the tags

    @property
    def faithful(self) -> bool:
        """The verdict is the queues': grade groups are shown, not judged."""
        return all(queue.fidelity.faithful for queue in self.queues)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What to try: another configuration, another staffing, other customer value, or any
    of them together."""

    routing: RoutingConfig | None = None  # None: the configuration in force
    agents_delta: Mapping[str, int] = field(default_factory=dict)
    # each contact's value tags under candidate value rules, in ``period.contacts`` order
    # (``regraded_tags``); None: as recorded
    value_tags: tuple[tuple[str, ...], ...] | None = None


def replay(
    period: RecordedPeriod,
    in_force: RoutingConfig,
    candidate: Candidate | None = None,
    seeds: Sequence[int] = tuple(range(1, DEFAULT_SEEDS + 1)),
) -> ReplayReport:
    """The fidelity check over ``seeds``, then the candidate as a difference from it, per
    queue and per grade group. Grade groups are the recorded ones: with candidate value
    tags the same contacts are compared, and ``regrades`` tells how their tags changed."""
    curves = patience_curves(period.contacts)
    pools = handle_pools(period.contacts)
    draws = [seeded_arrivals(period, curves, pools, seed) for seed in seeds]
    worst = worst_waits(period)
    sl_seconds = period.sl_seconds
    faithful = [SeedFigures.of(replay_once(period, in_force, a), sl_seconds, worst) for a in draws]
    tried: list[SeedFigures] = []
    changed: tuple[Regrade, ...] = ()
    if candidate is not None:
        routing = candidate.routing or in_force
        staffed = with_agents_delta(period, routing, candidate.agents_delta)
        for arrivals in draws:
            if candidate.value_tags is None:
                result = replay_once(staffed, routing, arrivals)
            else:
                regraded = _with_value_tags(arrivals, candidate.value_tags)
                result = _grouped_as_recorded(replay_once(staffed, routing, regraded), period)
            tried.append(SeedFigures.of(result, sl_seconds, worst))
        if candidate.value_tags is not None:
            changed = regrades([c.value_tags for c in period.contacts], candidate.value_tags)
    queues = []
    for queue, figures in recorded_figures(period, in_force).items():
        report = _group_report(queue, figures, faithful, tried, by_grade=False)
        delta = None if candidate is None else candidate.agents_delta.get(queue)
        if delta is not None:
            report = replace(report, erlang_c=staffing_comparison(period, in_force, queue, delta))
        queues.append(report)
    grades = [
        _group_report(grade, figures, faithful, tried, by_grade=True)
        for grade, figures in recorded_grade_figures(period).items()
    ]
    return ReplayReport(tuple(seeds), curves, tuple(queues), tuple(grades), changed)


@dataclass(frozen=True, slots=True)
class SeedFigures:
    """One seed's run in figures: per queue and per grade, and the contacts per queue and
    per grade that waited longer than their queue's recorded worst."""

    queues: dict[str, dict[str, float | None]]
    grades: dict[str, dict[str, float | None]]
    longer_by_queue: dict[str, int]
    longer_by_grade: dict[str, int]

    @classmethod
    def of(
        cls, result: SimulationResult, sl_seconds: Mapping[str, float], worst: Mapping[str, float]
    ) -> SeedFigures:
        """``worst``: each queue's longest recorded wait (``worst_waits``)."""
        by_queue, by_grade = waited_longer_than(result, worst)
        grades = seed_grade_figures(result, sl_seconds)
        return cls(seed_figures(result), grades, by_queue, by_grade)


def _group_report(
    name: str,
    recorded: dict[str, float | None],
    faithful: Sequence[SeedFigures],
    tried: Sequence[SeedFigures],
    *,
    by_grade: bool,
) -> GroupReport:
    def runs(seeds: Sequence[SeedFigures]) -> list[dict[str, dict[str, float | None]]]:
        return [seed.grades if by_grade else seed.queues for seed in seeds]

    replayed = summarise(runs(faithful), name)
    report = GroupReport(name, recorded, replayed, fidelity(recorded, replayed))
    if not tried:
        return report
    longer = [(s.longer_by_grade if by_grade else s.longer_by_queue).get(name, 0) for s in tried]
    return replace(
        report,
        candidate=summarise(runs(tried), name),
        difference=differences(runs(tried), runs(faithful), name),
        longer_than_recorded_worst=statistics.fmean(longer),
    )
