"""What a supervisor sees of a queue and of an agent, built from the aggregator (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.staffing import agents_needed
from app.supervisor.metrics import AGENT_STATES, Aggregator

DEFAULT_AHT_SECONDS = 180.0  # for "agents needed now" before any contact was handled today
STUCK_AFTER_SECONDS = {"not_ready": 1800.0, "wrap_up": 600.0, "on_contact": 3600.0}


def queue_view(
    agg: Aggregator, queue: str, bucket: int, now: float, members: Iterable[int]
) -> dict[str, Any]:
    tally = agg.queue_tally(queue, [bucket])
    figures = tally.figures()
    oldest = agg.longest_waiting(queue)
    by_state = dict.fromkeys(AGENT_STATES, 0)
    for agent_id in members:
        agent = agg.agents.get(agent_id)
        if agent is not None and agent.state in by_state:
            by_state[agent.state] += 1
    target = agg.target(queue)
    waiting = agg.waiting.get(queue, {})
    return {
        "queue": queue,
        "waiting": len(waiting),
        **figures,
        "oldest_waiting_since": oldest,
        "longest_waiting_seconds": 0.0 if oldest is None else round(max(0.0, now - oldest), 3),
        "service_level_30m": agg.recent_service_level(queue, now),
        "target": {"percent": target.percent, "seconds": target.seconds},
        "agents": by_state,
        "staffing": _staffing_now(agg, queue, now, figures["aht_seconds"], by_state),
    }


def _staffing_now(
    agg: Aggregator, queue: str, now: float, aht: float | None, by_state: dict[str, int]
) -> dict[str, Any]:
    rate = agg.recent_arrivals_per_hour(queue, now)
    target = agg.target(queue)
    needed = agents_needed(
        rate, aht or DEFAULT_AHT_SECONDS, min(target.percent / 100.0, 0.999), target.seconds
    ).agents
    return {
        "arrivals_per_hour_30m": round(rate, 3),
        "agents_needed": needed,
        "agents_staffed": sum(by_state.values()),
    }


def agent_view(agg: Aggregator, agent_id: int, bucket: int, now: float) -> dict[str, Any]:
    agent = agg.agents.get(agent_id)
    figures = agg.agent_tally(agent_id, bucket, now).figures()
    if agent is None:
        return {"agent_id": agent_id, "state": "offline", "reason": None, **figures}
    return {
        "agent_id": agent_id,
        "state": agent.state,
        "reason": agent.reason,
        "state_since": agent.since,
        "time_in_state_seconds": round(max(0.0, now - agent.since), 3),
        "contacts": sorted(agent.contacts),
        **figures,
    }


def stuck_agents(agg: Aggregator, now: float) -> list[dict[str, Any]]:
    """Agents in one state for longer than the state's threshold."""
    alarms = []
    for agent_id, agent in agg.agents.items():
        limit = STUCK_AFTER_SECONDS.get(agent.state)
        if limit is not None and now - agent.since > limit:
            alarms.append(
                {
                    "kind": "agent_stuck",
                    "agent_id": agent_id,
                    "state": agent.state,
                    "seconds": round(now - agent.since, 3),
                }
            )
    return alarms


def unstaffed_queues(
    agg: Aggregator, queues: Iterable[str], members: dict[str, set[int]]
) -> list[dict[str, Any]]:
    """Queues with no logged-in agent who has the skills they need."""
    alarms = []
    for queue in sorted(queues):
        logged_in = [
            a
            for a in members.get(queue, set())
            if (agent := agg.agents.get(a)) is not None and agent.state != "offline"
        ]
        if not logged_in:
            alarms.append(
                {"kind": "queue_unstaffed", "queue": queue, "waiting": len(agg.waiting[queue])}
            )
    return alarms
