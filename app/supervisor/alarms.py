"""Routing health alarms: what a supervisor must look at now."""

from __future__ import annotations

from typing import Any

from app.routing.core import model as core
from app.routing.core.engine import RoutingEngine
from app.supervisor.metrics import Aggregator
from app.supervisor.views import stuck_agents, unstaffed_queues

IDLE_MATCH_GRACE_SECONDS = 5.0  # a contact may wait this long beside a free agent (offer in flight)
_SERVING = (core.AgentState.AVAILABLE, core.AgentState.ON_CONTACT)


def all_alarms(
    agg: Aggregator, engine: RoutingEngine | None, members: dict[str, set[int]], now: float
) -> list[dict[str, Any]]:
    queues = set(agg.targets) | set(members)
    found = unstaffed_queues(agg, queues, members) + stuck_agents(agg, now)
    if engine is not None:  # only the leader's engine knows who could take what
        found += unmatched_contacts(engine, now)
    return found


def _can_serve(agent: core.AgentView, contact: core.WaitingView) -> bool:
    if agent.state not in _SERVING or agent.free_capacity.get(contact.channel, 0) <= 0:
        return False
    if agent.queues and contact.queue not in agent.queues:
        return False
    return all(agent.skills.get(r.skill, 0) >= r.min_level for r in contact.requirements)


def unmatched_contacts(engine: RoutingEngine, now: float) -> list[dict[str, Any]]:
    """Contacts waiting past the grace while an agent who could take them is free."""
    overdue = [
        contact
        for contact in engine.waiting_contacts(now=now)
        if contact.pinned_to is None and now - contact.arrived_at >= IDLE_MATCH_GRACE_SECONDS
    ]
    if not overdue:  # the usual case: skip building a view of every agent
        return []
    free = [a for a in engine.agents() if a.state in _SERVING]
    alarms = []
    for contact in overdue:
        idle = [a.agent_id for a in free if _can_serve(a, contact)]
        if idle:
            alarms.append(
                {
                    "kind": "contact_waiting_beside_free_agent",
                    "queue": contact.queue,
                    "contact_id": int(contact.contact_id),
                    "agents": [int(a) for a in idle[:5]],
                    "waited_seconds": round(now - contact.arrived_at, 3),
                }
            )
    return alarms
