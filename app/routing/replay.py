"""Replaying a recorded period against another routing configuration.

The recorded contacts (arrival, queue, channel, skill override, handle time, and for those
who hung up, how long they waited) and today's agents (skills, capacity) are read from the
database; the simulator then runs them through the routing engine under the configuration
to try, so an operator sees what a change would have done before making it.

What a replay cannot know: how long a caller who was answered would have waited (they are
taken as patient), and how long a call that was abandoned would have lasted (the queue's
recorded mean handle time). Agents are those active now, all logged in for the whole period.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.models import AgentSkill
from app.contacts.models import Contact
from app.database import Database, create_engine
from app.queues.models import Queue
from app.routing.config_schemas import RoutingDocument, to_core
from app.routing.config_service import routing_document
from app.routing.core.model import Channel, RoutingConfig
from app.routing.restore import contact_skills
from app.routing.simulator import (
    QueueLoad,
    RecordedArrival,
    SimulatedAgent,
    SimulationSetup,
    replay_arrivals,
)
from app.skills.models import Skill
from app.users.models import Role, User

DEFAULT_HANDLE_SECONDS = 300.0


async def recorded_arrivals(
    session: AsyncSession, start: datetime, end: datetime
) -> tuple[list[RecordedArrival], dict[int, float | None]]:
    """The period's inbound contacts, and how long each really waited (None: hung up)."""
    rows = (
        await session.execute(
            select(Contact, Queue.name)
            .join(Queue, Queue.id == Contact.queue_id)
            .where(
                Contact.created_at >= start,
                Contact.created_at < end,
                Contact.direction == "inbound",
            )
            .order_by(Contact.created_at)
        )
    ).all()
    handle_times: dict[str, list[float]] = defaultdict(list)
    for contact, queue in rows:
        if contact.answered_at is not None and contact.ended_at is not None:
            handle_times[queue].append((contact.ended_at - contact.answered_at).total_seconds())
    means = {queue: statistics.fmean(times) for queue, times in handle_times.items()}
    arrivals: list[RecordedArrival] = []
    waits: dict[int, float | None] = {}
    for contact, queue in rows:
        if contact.answered_at is not None and contact.ended_at is not None:
            handle, patience = (contact.ended_at - contact.answered_at).total_seconds(), None
        elif contact.abandoned_at is not None:
            handle = means.get(queue, DEFAULT_HANDLE_SECONDS)
            patience = (contact.abandoned_at - contact.created_at).total_seconds()
        else:
            continue  # still open, or never queued
        waits[len(arrivals)] = (
            None
            if contact.answered_at is None
            else (contact.answered_at - contact.created_at).total_seconds()
        )
        arrivals.append(
            RecordedArrival(
                time=(contact.created_at - start).total_seconds(),
                queue=queue,
                channel=contact.channel,
                skills=contact_skills(contact.required_skills),
                handle_seconds=max(handle, 1.0),
                patience_seconds=patience,
            )
        )
    return arrivals, waits


async def current_agents(session: AsyncSession) -> list[SimulatedAgent]:
    users = list(
        await session.scalars(
            select(User)
            .where(User.role == Role.AGENT.value, User.is_active.is_(True))
            .order_by(User.id)
        )
    )
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    rows = await session.execute(
        select(AgentSkill.user_id, Skill.name, AgentSkill.proficiency).join(
            Skill, Skill.id == AgentSkill.skill_id
        )
    )
    for user_id, name, level in rows:
        skills[user_id][name] = level
    return [
        SimulatedAgent(
            agent_id=str(user.id),
            skills=skills.get(user.id, {}),
            capacity={str(channel): int(n) for channel, n in user.capacity.items()},
        )
        for user in users
    ]


async def queue_targets(session: AsyncSession) -> dict[str, tuple[float, list[Channel]]]:
    rows = await session.execute(select(Queue.name, Queue.sl_target_seconds, Queue.channels))
    return {name: (float(seconds), list(channels)) for name, seconds, channels in rows}


def replay_setup(
    routing: RoutingConfig,
    arrivals: list[RecordedArrival],
    agents: list[SimulatedAgent],
    targets: dict[str, tuple[float, list[Channel]]],
    period_seconds: float,
) -> SimulationSetup:
    queues = sorted({a.queue for a in arrivals})
    loads = tuple(
        QueueLoad(
            queue=q,
            arrival_rate_per_hour=0.0,
            aht_seconds=1.0,
            sl_seconds=targets.get(q, (20.0, []))[0],
        )
        for q in queues
    )
    return SimulationSetup(
        routing=routing,
        loads=loads,
        agents=tuple(agents),
        hours=max(period_seconds / 3600.0, 1e-6),
        seed=1,
        warmup_seconds=0.0,
    )


def recorded_figures(
    arrivals: list[RecordedArrival], waits: dict[int, float | None], sl_seconds: dict[str, float]
) -> dict[str, dict[str, float | int | None]]:
    """What really happened, per queue, in the simulator's definitions."""
    figures: dict[str, dict[str, float | int | None]] = {}
    by_queue: dict[str, list[int]] = defaultdict(list)
    for index, arrival in enumerate(arrivals):
        by_queue[arrival.queue].append(index)
    for queue, indexes in by_queue.items():
        answered = [waits[i] for i in indexes if waits.get(i) is not None]
        abandoned = [arrivals[i] for i in indexes if waits.get(i) is None]
        threshold = sl_seconds.get(queue, 20.0)
        within = sum(1 for w in answered if w is not None and w <= threshold)
        late_abandons = sum(1 for a in abandoned if (a.patience_seconds or 0) > threshold)
        figures[queue] = {
            "offered": len(indexes),
            "handled": len(answered),
            "abandoned": len(abandoned),
            "asa_seconds": statistics.fmean(w for w in answered if w is not None)
            if answered
            else None,
            "service_level": within / (len(answered) + late_abandons)
            if answered or late_abandons
            else None,
        }
    return figures


async def replay_period(
    url: str, start: datetime, end: datetime, document: RoutingDocument | None
) -> dict[str, Any]:
    """Replay [start, end) under ``document`` (default: the configuration in force)."""
    db = Database(create_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.sessionmaker() as session:
            arrivals, waits = await recorded_arrivals(session, start, end)
            agents = await current_agents(session)
            targets = await queue_targets(session)
            version, in_force = await routing_document(session)
    finally:
        await db.dispose()
    tried = document if document is not None else in_force
    routing = to_core(_with_missing_queues(tried, in_force), version)
    setup = replay_setup(routing, arrivals, agents, targets, (end - start).total_seconds())
    result = replay_arrivals(setup, arrivals)
    recorded = recorded_figures(arrivals, waits, {q: t[0] for q, t in targets.items()})
    return {
        "period": [start.isoformat(), end.isoformat()],
        "contacts": len(arrivals),
        "agents": len(agents),
        "config": "file" if document is not None else f"version {version}",
        "queues": [
            {**stats.as_dict(), "recorded": recorded.get(stats.queue, {})}
            for stats in result.queues
        ],
    }


def _with_missing_queues(document: RoutingDocument, in_force: RoutingDocument) -> RoutingDocument:
    """A tried document that leaves a queue out keeps that queue's policy in force."""
    queues = {**in_force.queues, **document.queues}
    return document.model_copy(update={"queues": queues})


def render_replay(report: dict[str, Any]) -> str:
    lines = [
        f"replayed {report['contacts']} contacts of {report['period'][0]} .. {report['period'][1]}"
        f" with {report['agents']} agents under {report['config']}"
    ]
    for queue in report["queues"]:
        lines.append(f"\nqueue {queue['queue']}{'':<8}{'recorded':>12}{'simulated':>12}")
        for name in ("offered", "handled", "abandoned", "asa_seconds", "service_level"):
            lines.append(
                f"  {name:<20}{_fmt(queue['recorded'].get(name)):>12}{_fmt(queue.get(name)):>12}"
            )
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
