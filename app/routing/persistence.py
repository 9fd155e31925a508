"""Writing the router's decisions: contact rows, the event log, agent presence.

Decisions of one batch are folded per contact (the last value of a column wins) and the
whole batch — contact rows, events, presence, the answers to its requests and the NOTIFY to
their waiters — is written by ONE statement, fenced by the router's lease, so a batch costs
one round trip however many contacts it moved (see ``BATCH_SQL``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app import fastjson
from app.routing.core import model as core


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
        "priority_boosts": [{"tag": tag, "points": pts} for tag, pts in trace.priority_boosts],
        "candidates": [
            {"agent_id": c.agent_id, "score": c.score, "skipped_because": c.skipped_because}
            for c in trace.candidates
        ],
    }


class DecisionWriter:
    """Collects one batch's row changes, events, presence and answers; writes them at once."""

    def __init__(self, now: float, queue_ids: dict[str, int], epoch: int) -> None:
        self.now = now
        self.when = at(now)
        self.queue_ids = queue_ids
        self.epoch = epoch
        self.contact_changes: dict[int, dict[str, Any]] = defaultdict(dict)
        self.events: list[dict[str, Any]] = []
        self.presence: list[dict[str, Any]] = []
        self.wrap_up_done: list[int] = []
        self.answers: dict[int, dict[str, Any]] = {}

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
        assert _KNOWN_COLUMNS.issuperset(columns), columns
        self.contact_changes[int(contact_id)].update(columns)

    def presence_changes(
        self, changes: list[PresenceChange], wrap_up_until: Callable[[int], float | None]
    ) -> None:
        """Each changed agent's presence, logged as an event too."""
        for agent_id, state, reason, before, actor in changes:
            until = _finite_time(wrap_up_until(agent_id)) if state == "wrap_up" else None
            self.presence.append(
                {
                    "agent_id": agent_id,
                    "state": state,
                    "reason": reason,
                    "since": self.when,
                    "wrap_up_until": until,
                }
            )
            self.event(
                "agent.state_changed",
                agent_id=agent_id,
                actor_id=actor,
                payload={"state": state, "reason": reason, "previous": before},
            )
            if before == "wrap_up" and state != "wrap_up":
                self.end_wrap_ups_of([agent_id])

    def end_wrap_ups_of(self, agent_ids: list[int]) -> None:
        """Agents with no wrap-up after this batch: their contacts in wrap-up end in it."""
        self.wrap_up_done.extend(a for a in agent_ids if a not in self.wrap_up_done)

    def answer(self, inbox_id: int, result: dict[str, Any]) -> None:
        """The router's result for an inbox row, which also marks it processed."""
        self.answers[inbox_id] = result

    async def flush(
        self, connection: asyncpg.Connection, *, notify_channel: str, read_next: int = 0
    ) -> tuple[int | None, Any]:
        """Write everything collected as one statement, fenced by the lease: it writes only
        while the lease is at this writer's epoch. Returns the lease's epoch as the statement
        found it (so the caller knows whether anything was written; this writer's epoch
        when there was nothing to write), and up to ``read_next`` of the oldest requests it
        left unanswered, as its snapshot saw them: a jsonb array of objects with ``id``,
        ``kind``, ``payload``, ``actor_id`` and ``created`` (seconds); None when nothing
        was written, and so nothing read.

        Outside a transaction the statement is one of its own, committed with its reply.
        """
        writes = (self.contact_changes, self.events, self.presence, self.answers, self.wrap_up_done)
        if not any(writes):
            return self.epoch, None
        row = await connection.fetchrow(
            BATCH_SQL,
            fastjson.dumps(self.contact_changes),
            fastjson.dumps(self.events),
            fastjson.dumps(self.presence),
            self.when,
            fastjson.dumps(self.answers),
            notify_channel,
            bool(self.answers),
            list(self.contact_changes),
            list(self.answers),
            self.epoch,
            self.wrap_up_done,
            read_next,
        )
        if row is None:  # no lease at all: nobody may write
            return None, None
        return row[0], row[2]

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


# The contact columns the router sets (names from this module's own ``change`` calls).
_COLUMNS = (
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
)
_KNOWN_COLUMNS = frozenset(_COLUMNS)

# A contact of an agent whose wrap-up ends in this batch leaves wrap-up too (see ``ended``).
_WRAP_UP_ENDS = "p.state = 'wrap_up' AND p.agent_id = ANY($11::bigint[])"
_SET = {name: f"p.{name}" for name in _COLUMNS} | {
    "state": f"CASE WHEN {_WRAP_UP_ENDS} THEN 'ended' ELSE p.state END",
    "wrap_up_ended_at": f"CASE WHEN {_WRAP_UP_ENDS} THEN $4 ELSE p.wrap_up_ended_at END",
    "updated_at": "now()",
}

# One batch in one statement. Each part reads its rows from a jsonb parameter. A contact's
# change is ``$1 -> id``: ``jsonb_populate_record(c, change)`` is the row with the columns
# the change names replaced (a column it does not name keeps its value, a null sets NULL);
# answers are ``$5 -> id`` likewise. The rows are found by ``id = ANY(ids)`` alone, an index
# lookup on any table: joining them to a jsonb array instead, the planner (which guesses a
# hundred elements in any array) chose a hash join over a full scan of contacts.
#
# The fence: ``lease`` locks the lease row, and every part writes only if its epoch is still
# $10, so a router that lost the lease writes nothing; a new router's epoch bump waits for
# this statement's commit. The parts see one snapshot and touch different rows (``ended``
# skips the contacts ``changed`` sets, which end their wrap-up themselves), so they may run
# in any order; foreign keys are checked at the end.
BATCH_SQL = f"""
WITH lease AS (
    SELECT epoch FROM router_lease WHERE id = 1 FOR UPDATE
), changed AS (
    UPDATE contacts AS c SET ({", ".join(_SET)}) = (
        SELECT {", ".join(_SET.values())}
        FROM jsonb_populate_record(c, $1::jsonb -> c.id::text) AS p
    )
    WHERE c.id = ANY($8::bigint[]) AND (SELECT epoch FROM lease) = $10
), ended AS (
    UPDATE contacts SET state = 'ended', wrap_up_ended_at = $4, updated_at = now()
    WHERE agent_id = ANY($11::bigint[]) AND state = 'wrap_up' AND NOT id = ANY($8::bigint[])
        AND (SELECT epoch FROM lease) = $10
), events AS (
    INSERT INTO contact_events (kind, contact_id, agent_id, actor_id, occurred_at, payload)
    SELECT e.kind, e.contact_id, e.agent_id, e.actor_id, e.occurred_at, e.payload
    FROM jsonb_to_recordset($2::jsonb) AS e(kind text, contact_id bigint, agent_id bigint,
        actor_id bigint, occurred_at timestamptz, payload jsonb)
    WHERE (SELECT epoch FROM lease) = $10
), presence AS (
    INSERT INTO agent_presence (agent_id, state, reason, since, wrap_up_until)
    SELECT p.agent_id, p.state, p.reason, p.since, p.wrap_up_until
    FROM jsonb_to_recordset($3::jsonb) AS p(agent_id bigint, state text, reason text,
        since timestamptz, wrap_up_until timestamptz)
    WHERE (SELECT epoch FROM lease) = $10
    ON CONFLICT (agent_id) DO UPDATE SET state = excluded.state, reason = excluded.reason,
        since = excluded.since, wrap_up_until = excluded.wrap_up_until
), answered AS (
    UPDATE routing_inbox AS i SET processed_at = $4, result = $5::jsonb -> i.id::text
    WHERE i.id = ANY($9::bigint[]) AND (SELECT epoch FROM lease) = $10
)
-- waiters elsewhere read the results of all they wait for; and the router reads its next
-- batch, the oldest requests not answered here, in the same round trip (LIMIT $12; the
-- columns of ``distributor.UNPROCESSED_SQL``)
SELECT epoch, CASE WHEN epoch = $10 AND $7 THEN pg_notify($6, '') END, (
    SELECT coalesce(jsonb_agg(r ORDER BY r.id), '[]') FROM (
        SELECT id, kind, payload, actor_id, extract(epoch FROM created_at)::float8 AS created
        FROM routing_inbox WHERE processed_at IS NULL AND NOT id = ANY($9::bigint[])
        ORDER BY id LIMIT $12
    ) AS r
) FROM lease
"""  # noqa: S608 (column names are the constants above)


PresenceChange = tuple[int, str, str | None, str | None, int | None]
"""(agent, state, reason, state before, actor)"""
