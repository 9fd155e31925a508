"""Prometheus figures of the supervisor hub, on a registry of its own per app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from app.supervisor.metrics import AGENT_STATES, Event

if TYPE_CHECKING:
    from app.supervisor.live import Hub

ROUTING_DECISIONS = (
    "contact.offered",
    "contact.offer_withdrawn",
    "contact.assigned",
    "contact.escalated",
    "contact.requeued",
    "contact.abandoned",
    "contact.ended",
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class SupervisorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge(
            "contactd_queue_waiting", "Contacts waiting in the queue.", ["queue"], registry=r
        )
        self.oldest_wait = Gauge(
            "contactd_queue_oldest_wait_seconds",
            "How long the oldest waiting contact has waited.",
            ["queue"],
            registry=r,
        )
        self.agents = Gauge("contactd_agents", "Logged-in agents by state.", ["state"], registry=r)
        self.decisions = Counter(
            "contactd_routing_decisions",
            "Routing decisions seen in the event log.",
            ["kind"],
            registry=r,
        )
        self.event_lag = Gauge(
            "contactd_supervisor_event_lag_seconds",
            "Age of the newest event when the supervisor hub read it.",
            registry=r,
        )
        self.websockets = Gauge(
            "contactd_supervisor_websockets", "Connected supervisor websockets.", registry=r
        )
        self.pool_in_use = Gauge(
            "contactd_db_pool_checked_out", "Database connections in use.", registry=r
        )
        self.pool_size = Gauge("contactd_db_pool_size", "Database pool size.", registry=r)

    def event(self, event: Event, now: float) -> None:
        if event.kind in ROUTING_DECISIONS:
            self.decisions.labels(event.kind).inc()
        self.event_lag.set(max(0.0, now - event.at))

    def observe(self, hub: Hub, now: float) -> None:
        for queue in hub.queue_names():
            waiting = hub.agg.waiting.get(queue, {})
            self.queue_depth.labels(queue).set(len(waiting))
            oldest = min(waiting.values()) if waiting else now
            self.oldest_wait.labels(queue).set(max(0.0, now - oldest))
        counts = dict.fromkeys(AGENT_STATES, 0)
        for agent in hub.agg.agents.values():
            if agent.state in counts:
                counts[agent.state] += 1
        for state, count in counts.items():
            self.agents.labels(state).set(count)
        self.websockets.set(len(hub.connections))

    def pool(self, checked_out: int, size: int) -> None:
        self.pool_in_use.set(checked_out)
        self.pool_size.set(size)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
