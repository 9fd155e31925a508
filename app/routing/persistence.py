"""Writing the router's decisions: contact rows, the event log, agent presence.

Decisions of one batch are folded per contact into one UPDATE each (the last value of a
column wins) and their events are inserted in one statement, so a batch costs a handful of
round trips however many contacts it moved.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import fastjson
from app.contacts.models import Contact
from app.database import driver_connection
from app.routing.core import model as core
from app.routing.models import AgentPresence


def _finite_time(seconds: float | None) -> datetime | None:
    """None stands for "until the agent says ready" (an infinite wrap-up)."""
    return None if seconds is None or math.isinf(seconds) else at(seconds)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def requirements_json(requirements: tuple[core.SkillRequirement, ...]) -> list[dict[str, Any]]:
    return [{"skill": r.skill, "level": r.min_level} for r in requirements]


def trace_json(trace: core.DecisionTrace) -> dict[str, Any]:
    return {
        "queue": trace.queue,
        "strategy": trace.strategy.value,
        "step": trace.step,
        "rule": trace.rule,
        "requirements": requirements_json(trace.requirements),
        "candidates": [
            {"agent_id": c.agent_id, "score": c.score, "skipped_because": c.skipped_because}
            for c in trace.candidates
        ],
    }


class DecisionWriter:
    """Collects one batch's row changes and events, then writes them together."""

    def __init__(self, now: float, queue_ids: dict[str, int], epoch: int) -> None:
        self.now = now
        self.when = at(now)
        self.queue_ids = queue_ids
        self.epoch = epoch
        self.contact_changes: dict[int, dict[str, Any]] = defaultdict(dict)
        self.events: list[dict[str, Any]] = []

    def event(
        self,
        kind: str,
        *,
        contact_id: str | int | None = None,
        agent_id: str | int | None = None,
        actor_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            {
                "kind": kind,
                "contact_id": None if contact_id is None else int(contact_id),
                "agent_id": None if agent_id is None else int(agent_id),
                "actor_id": actor_id,
                "occurred_at": self.when,
                "payload": {**(payload or {}), "epoch": self.epoch},
            }
        )

    def change(self, contact_id: str, **columns: Any) -> None:
        assert _COLUMNS.issuperset(columns), columns
        self.contact_changes[int(contact_id)].update(columns)

    def decision(self, decision: core.Decision) -> None:
        match decision:
            case core.Offer(contact_id, agent_id, deadline, trace):
                self.change(
                    contact_id,
                    state="offered",
                    agent_id=int(agent_id),
                    offered_at=self.when,
                    offer_deadline=(until := at(deadline)),
                )
                self.event(
                    "contact.offered",
                    contact_id=contact_id,
                    agent_id=agent_id,
                    payload={"deadline": until.isoformat(), "trace": trace_json(trace)},
                )
            case core.OfferWithdrawn(contact_id, agent_id, reason):
                if reason not in ("abandoned", "transferred"):
                    self.change(contact_id, state="queued", agent_id=None, offer_deadline=None)
                self.event(
                    "contact.offer_withdrawn",
                    contact_id=contact_id,
                    agent_id=agent_id,
                    payload={"reason": reason},
                )
            case core.Assigned(contact_id, agent_id):
                self.change(
                    contact_id,
                    state="assigned",
                    agent_id=int(agent_id),
                    answered_at=self.when,
                    offer_deadline=None,
                )
                self.event("contact.assigned", contact_id=contact_id, agent_id=agent_id)
            case core.Escalated(contact_id, step, requirements, queues):
                self.change(contact_id, routing_step=step)
                self.event(
                    "contact.escalated",
                    contact_id=contact_id,
                    payload={
                        "step": step,
                        "requirements": requirements_json(requirements),
                        "queues": list(queues),
                    },
                )
            case core.StepActionDue(contact_id, step, action):
                self.event(
                    "contact.step_action_due",
                    contact_id=contact_id,
                    payload={"step": step, "action": action.value},
                )
            case core.Requeued(contact_id, queue, reason):
                self.change(
                    contact_id,
                    state="queued",
                    agent_id=None,
                    queue_id=self.queue_ids.get(queue),
                    offer_deadline=None,
                    queued_at=self.when,
                    routing_step=0,
                )
                self.event(
                    "contact.requeued",
                    contact_id=contact_id,
                    payload={"queue": queue, "reason": reason},
                )
            case core.ContactRemoved(contact_id, reason, waited, short):
                if reason == "abandoned":
                    self.change(
                        contact_id, state="abandoned", abandoned_at=self.when, offer_deadline=None
                    )
                    self.event(
                        "contact.abandoned",
                        contact_id=contact_id,
                        payload={"waited_seconds": round(waited, 3), "short_abandon": short},
                    )
                else:
                    self.change(contact_id, state="wrap_up", ended_at=self.when)
                    self.event("contact.ended", contact_id=contact_id, payload={"reason": reason})
            case core.AgentStateSet():
                pass  # written as a presence change, see ``presence``

    async def flush_contacts(self, session: AsyncSession) -> None:
        """One executemany per set of changed columns, on the driver connection: the
        router's writes are per contact, and SQLAlchemy's per-row cost would dominate."""
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for contact_id, columns in self.contact_changes.items():
            names = tuple(sorted(columns))
            by_columns[names].append((contact_id, *(_db_value(columns[n]) for n in names)))
        driver = await driver_connection(session) if by_columns else None
        for names, rows in by_columns.items():
            assert driver is not None
            assignments = ", ".join(
                f"{name} = ${index}{_CASTS.get(name, '')}" for index, name in enumerate(names, 2)
            )
            await driver.executemany(
                f"UPDATE contacts SET {assignments}, updated_at = now() WHERE id = $1",  # noqa: S608
                rows,
            )

    async def flush_events(self, session: AsyncSession) -> None:
        if not self.events:
            return
        driver = await driver_connection(session)
        await driver.executemany(
            "INSERT INTO contact_events"
            " (kind, contact_id, agent_id, actor_id, occurred_at, payload)"
            " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            [
                (
                    e["kind"],
                    e["contact_id"],
                    e["agent_id"],
                    e["actor_id"],
                    e["occurred_at"],
                    fastjson.dumps(e["payload"]),
                )
                for e in self.events
            ],
        )


_CASTS = {"required_skills": "::jsonb", "attributes": "::jsonb"}
# Column names come from this module's own ``change`` calls, never from input.
_COLUMNS = frozenset(
    {
        "state",
        "agent_id",
        "offered_at",
        "offer_deadline",
        "answered_at",
        "queue_id",
        "queued_at",
        "routing_step",
        "abandoned_at",
        "ended_at",
        "required_skills",
        "attributes",
    }
)


def _db_value(value: Any) -> Any:
    return fastjson.dumps(value) if isinstance(value, dict | list) else value


PresenceChange = tuple[int, str, str | None, str | None, int | None]
"""(agent, state, reason, state before, actor)"""


async def write_presence(
    session: AsyncSession,
    writer: DecisionWriter,
    changes: list[PresenceChange],
    wrap_up_until: Callable[[int], float | None],
) -> None:
    """Upsert each changed agent's presence and log the change as an event."""
    if not changes:
        return
    rows = [
        {
            "agent_id": a,
            "state": s,
            "reason": r,
            "since": writer.when,
            "wrap_up_until": _finite_time(wrap_up_until(a)) if s == "wrap_up" else None,
        }
        for a, s, r, _, _ in changes
    ]
    statement = pg_insert(AgentPresence).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AgentPresence.agent_id],
            set_={
                "state": statement.excluded.state,
                "reason": statement.excluded.reason,
                "since": statement.excluded.since,
                "wrap_up_until": statement.excluded.wrap_up_until,
            },
        )
    )
    for agent_id, state, reason, before, actor in changes:
        writer.event(
            "agent.state_changed",
            agent_id=agent_id,
            actor_id=actor,
            payload={"state": state, "reason": reason, "previous": before},
        )
    wrap_up_done = [a for a, s, _, before, _ in changes if before == "wrap_up" and s != "wrap_up"]
    if wrap_up_done:
        await session.execute(
            update(Contact)
            .where(Contact.agent_id.in_(wrap_up_done), Contact.state == "wrap_up")
            .values(state="ended", wrap_up_ended_at=writer.when)
        )
