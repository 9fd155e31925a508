"""The demo's past, produced by the routing engine: agents' shifts and contacts in, what
the engine did with them out.

The demo draws who works when (``agent_shifts``) and, for each contact, when it entered
its queue, what it needs, how patient the customer is and how long talk and wrap-up last
(``ContactDraft``); ``run_history`` then runs them through the simulator driving the
production ``RoutingEngine`` under the demo's routing configuration. Waits, abandonments,
who answered, wrap-ups and every agent state are the engine's, so the demo's reports, its
Erlang figures and ``simulate --replay`` describe one consistent recording. Pure: the
random generator and the clock's origin are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from app.routing.core.model import AgentState, Channel, RoutingConfig, SkillRequirement
from app.routing.simulator import (
    ContactOutcome,
    PresenceChange,
    PresenceRecord,
    QueueLoad,
    RecordedArrival,
    SimulatedAgent,
    SimulationSetup,
    replay_arrivals,
)

# shift templates, local time: (start, end, lunch start)
SHIFTS = ((time(8, 0), time(16, 30), time(12, 0)), (time(11, 30), time(20, 0), time(15, 0)))
WORKS_ON = {5: 0.5, 6: 0.4}  # Saturday, Sunday; other days DEFAULT_WORK_CHANCE
DEFAULT_WORK_CHANCE = 0.85
LUNCH = timedelta(minutes=45)
BREAK = timedelta(minutes=15)
BREAK_CHANCE = 0.7
NOT_READY_REASONS = ("break", "training", "meeting")


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """A contact before the engine has routed it."""

    queued: datetime
    queue: str
    channel: Channel
    skills: tuple[SkillRequirement, ...]
    priority: int
    value_tags: tuple[str, ...]
    patience_seconds: float | None  # None: waits as long as it takes (email)
    talk_seconds: float
    wrap_up_seconds: float


@dataclass(frozen=True, slots=True)
class HistoryRun:
    outcomes: tuple[ContactOutcome, ...]  # one per draft, in the drafts' order
    presence: tuple[PresenceRecord, ...]  # every state the engine derived, times from origin
    origin: datetime

    def at(self, seconds: float) -> datetime:
        return self.origin + timedelta(seconds=seconds)


def agent_shifts(
    rng: random.Random,
    agent_ids: Sequence[str],
    days: Sequence[date],
    zone: tzinfo,
) -> list[tuple[datetime, str, AgentState, str | None]]:
    """Each agent's sign-ins, lunch and breaks (not ready) and sign-outs over ``days``."""
    changes = []
    for day in days:
        chance = WORKS_ON.get(day.weekday(), DEFAULT_WORK_CHANCE)
        for agent_id in agent_ids:
            if rng.random() >= chance:
                continue
            start, end, lunch = (datetime.combine(day, t, zone) for t in rng.choice(SHIFTS))
            changes += [
                (start, agent_id, AgentState.AVAILABLE, None),
                (lunch, agent_id, AgentState.NOT_READY, "lunch"),
                (lunch + LUNCH, agent_id, AgentState.AVAILABLE, None),
                (end, agent_id, AgentState.OFFLINE, None),
            ]
            if rng.random() < BREAK_CHANCE:
                pause = start + timedelta(minutes=rng.randint(60, 150))
                reason = rng.choice(NOT_READY_REASONS)
                changes += [
                    (pause, agent_id, AgentState.NOT_READY, reason),
                    (pause + BREAK, agent_id, AgentState.AVAILABLE, None),
                ]
    return sorted(changes, key=lambda change: (change[0], change[1]))


def run_history(
    routing: RoutingConfig,
    agents: Sequence[SimulatedAgent],
    shifts: Sequence[tuple[datetime, str, AgentState, str | None]],
    drafts: Sequence[ContactDraft],
    origin: datetime,
    until: datetime,
) -> HistoryRun:
    """Route the drafts with the agents on their shifts; times count from ``origin``.

    The run goes on past ``until`` until every contact is answered or gone; the caller
    keeps what was over by then.
    """

    def seconds(moment: datetime) -> float:
        return (moment - origin).total_seconds()

    arrivals = [
        RecordedArrival(
            time=seconds(draft.queued),
            queue=draft.queue,
            channel=draft.channel,
            skills=draft.skills,
            handle_seconds=draft.talk_seconds,
            patience_seconds=draft.patience_seconds,
            wrap_up_seconds=draft.wrap_up_seconds,
            priority=draft.priority,
            value_tags=draft.value_tags,
        )
        for draft in drafts
    ]
    presence = tuple(PresenceChange(seconds(at), a, state, why) for at, a, state, why in shifts)
    setup = SimulationSetup(
        routing=routing,
        loads=tuple(QueueLoad(name, 0.0, 1.0) for name in routing.queues),
        agents=tuple(agents),
        hours=seconds(until) / 3600.0,
        warmup_seconds=0.0,
        presence=presence,
        record_presence=True,
    )
    ordered = sorted(range(len(arrivals)), key=lambda i: arrivals[i].time)
    result = replay_arrivals(setup, [arrivals[i] for i in ordered])
    # the simulator names contacts c1, c2, ... in arrival order
    outcomes: list[ContactOutcome | None] = [None] * len(arrivals)
    by_name = {outcome.contact_id: outcome for outcome in result.contacts}
    for position, index in enumerate(ordered):
        outcomes[index] = by_name[f"c{position + 1}"]
    assert all(o is not None for o in outcomes)
    return HistoryRun(tuple(o for o in outcomes if o is not None), result.presence_log, origin)
