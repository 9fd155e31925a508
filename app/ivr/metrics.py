"""IVR metrics per flow and node, counted from the ``ivr.*`` contact events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import ContactEvent

ROUTED = ("queued", "voicemail", "callback")


class NodeMetrics(BaseModel):
    entered: int = 0
    hung_up: int = 0  # callers who hung up while this node waited for them
    ended_here: dict[str, int] = {}  # outcome -> runs whose last node this was
    routed: dict[str, int] = {}  # queue -> runs routed from here


class FlowMetrics(BaseModel):
    started: int = 0
    completed: int = 0  # left the IVR through the flow (any outcome)
    hung_up: int = 0  # the caller hung up inside the IVR
    contained: int = 0  # served by the flow alone, no agent (ended at a hangup node)
    transferred: int = 0
    routed: dict[str, int] = {}  # queue -> calls, messages and callbacks routed there
    outcomes: dict[str, int] = {}
    nodes: dict[str, NodeMetrics] = {}


def aggregate(events: Iterable[tuple[str, dict[str, Any]]]) -> FlowMetrics:
    """Pure: (kind, payload) of one flow's events in, the counts out."""
    metrics = FlowMetrics()
    routed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for kind, payload in events:
        node = payload.get("node")
        at = metrics.nodes.setdefault(str(node), NodeMetrics()) if node is not None else None
        if kind == "ivr.started":
            metrics.started += 1
        elif kind == "ivr.node_entered" and at is not None:
            at.entered += 1
        elif kind == "ivr.hung_up":
            metrics.hung_up += 1
            if at is not None:
                at.hung_up += 1
        elif kind == "ivr.completed":
            _completed(metrics, at, payload, routed, outcomes)
    metrics.routed = dict(routed)
    metrics.outcomes = dict(outcomes)
    return metrics


def _completed(
    metrics: FlowMetrics,
    at: NodeMetrics | None,
    payload: dict[str, Any],
    routed: Counter[str],
    outcomes: Counter[str],
) -> None:
    outcome = str(payload.get("outcome"))
    metrics.completed += 1
    outcomes[outcome] += 1
    metrics.contained += outcome == "contained"
    metrics.transferred += outcome == "transferred"
    queue = payload.get("queue")
    if outcome in ROUTED and isinstance(queue, str):
        routed[queue] += 1
    if at is not None:
        at.ended_here[outcome] = at.ended_here.get(outcome, 0) + 1
        if outcome in ROUTED and isinstance(queue, str):
            at.routed[queue] = at.routed.get(queue, 0) + 1


async def flow_metrics(
    session: AsyncSession, flow_id: int, start: datetime | None, end: datetime | None
) -> FlowMetrics:
    query = select(ContactEvent.kind, ContactEvent.payload).where(
        ContactEvent.kind.like("ivr.%"), ContactEvent.payload["flow_id"].astext == str(flow_id)
    )
    if start is not None:
        query = query.where(ContactEvent.occurred_at >= start)
    if end is not None:
        query = query.where(ContactEvent.occurred_at < end)
    rows = await session.execute(query.order_by(ContactEvent.id))
    return aggregate((kind, payload) for kind, payload in rows.all())
