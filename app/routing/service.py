"""What the rest of contactd asks of routing: put a contact in line, change it, take it out,
and the agents' answers. Each call writes its effect and an inbox row in the caller's unit of
work; the router applies the row once that commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import fastjson
from app.agents.service import skills_of
from app.consent.service import apply_disposition
from app.contacts.access import authorize_contact, authorize_contact_ref, authorize_offer
from app.contacts.events import record
from app.contacts.models import Contact, ContactEvent
from app.customers.history import check_disposition
from app.customers.models import Customer
from app.database import driver_connection
from app.errors import Conflict, InvalidInput, NotFound
from app.outbound.attempts import settle as settle_outbound
from app.queues.models import Queue
from app.routing import inbox
from app.routing.config_schemas import QueuePolicy
from app.routing.config_service import active_version, document_of
from app.routing.core.engine import RoutingEngine
from app.routing.core.model import QueuePosition
from app.routing.hours import is_open
from app.routing.inbox import ring_after_commit
from app.routing.models import RoutingInbox
from app.skills.schemas import SkillLevel
from app.skills.service import skill_ids_by_name
from app.users.models import Role, User


@dataclass(frozen=True, slots=True)
class NewContact:
    channel: str
    queue: str
    customer_id: int | None = None
    customer_match: str = "unknown"
    priority: int | None = None
    skills: list[SkillLevel] | None = None
    attributes: dict[str, Any] | None = None
    provider: str | None = None
    provider_ref: str | None = None
    from_address: str | None = None
    to_address: str | None = None
    subject: str | None = None
    preferred_agent_id: int | None = None
    arrived_at: datetime | None = None
    direction: str = "inbound"  # outbound: a call we place (app.outbound), routed the same


@dataclass(frozen=True, slots=True)
class Enqueued:
    contact_id: int
    request_id: int | None  # the routing request; None when the queue was closed
    closed_action: str | None  # set when the queue was closed: voicemail, callback or message


async def queue_by_name(session: AsyncSession, name: str) -> Queue:
    queue = await session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        raise InvalidInput(f"Unknown queue: {name}.", details={"queue": name}, code="unknown_queue")
    return queue


def _skills_json(skills: list[SkillLevel] | None) -> list[dict[str, Any]]:
    return [] if skills is None else [{"skill": s.skill, "level": s.level} for s in skills]


# Contact row, its first events and its routing request in one statement: enqueueing is the
# hottest write of the product, and each round trip to PostgreSQL costs as much as the rest.
# The statement re-checks, in its own snapshot, every fact the caller took from the target
# cache (queue row, routing version in force): on any difference it writes nothing and
# returns no row, and the caller reloads the target and tries again. So the cache saves a
# round trip per contact without ever routing a contact by a stale queue or policy.
_ENQUEUE = """
WITH target AS (
    SELECT q.id FROM queues q
    LEFT JOIN LATERAL (
        SELECT version, created_at FROM routing_config_versions ORDER BY version DESC LIMIT 1
    ) v ON true
    WHERE q.id = $5 AND q.name = $22 AND q.channels = $23 AND q.default_priority = $24
        AND v.version IS NOT DISTINCT FROM $25 AND v.created_at IS NOT DISTINCT FROM $26
), contact AS (
    INSERT INTO contacts (channel, state, customer_id, customer_match, queue_id, priority,
        required_skills, provider, provider_ref, from_address, to_address, subject, attributes,
        created_at, updated_at, queued_at, ended_at, direction, value_tags)
    SELECT $1, $2, $3, $4, target.id, $6, $7::jsonb, $8, $9, $10, $11, $12, $13::jsonb,
        $14, $15, $16, $17, $27,
        (SELECT routing_tags FROM customer_values WHERE customer_id = $3)
    FROM target
    RETURNING id, value_tags
), events AS (
    INSERT INTO contact_events (contact_id, actor_id, kind, occurred_at, payload)
    SELECT contact.id, $18, e.kind, e.occurred_at, e.payload
    FROM contact, jsonb_to_recordset($19::jsonb)
        AS e(kind text, occurred_at timestamptz, payload jsonb)
), request AS (
    INSERT INTO routing_inbox (kind, payload, actor_id)
    SELECT 'contact.enqueue', $20::jsonb || jsonb_build_object(
        'contact_id', contact.id, 'value_tags', to_jsonb(contact.value_tags)), $18
    FROM contact WHERE $21
    RETURNING id
)
SELECT contact.id, (SELECT id FROM request) FROM contact
"""

_TARGET = """
SELECT q.id, q.channels, q.default_priority, v.version, v.created_at
FROM queues q
LEFT JOIN LATERAL (
    SELECT version, created_at FROM routing_config_versions ORDER BY version DESC LIMIT 1
) v ON true
WHERE q.name = $1
"""


@dataclass(frozen=True, slots=True)
class _Target:
    """What enqueueing needs to know of a queue, as of one routing version."""

    queue_id: int
    name: str
    channels: list[str]
    default_priority: int
    version: int | None  # None before anything is published
    published_at: datetime | None
    policy: QueuePolicy | None


# Per process, by queue name. Never trusted blindly: see ``_ENQUEUE``.
_targets: dict[str, _Target] = {}
_STALE_TARGET_RETRIES = 3


async def _load_target(session: AsyncSession, name: str) -> _Target | None:
    """The queue and the routing policy in force, in one query (and the cache refreshed)."""
    row = await (await driver_connection(session)).fetchrow(_TARGET, name)
    if row is None:
        _targets.pop(name, None)
        return None
    document = await document_of(session, row[3], row[4])
    target = _Target(row[0], name, list(row[1]), row[2], row[3], row[4], document.queues.get(name))
    _targets[name] = target
    return target


async def _target(session: AsyncSession, new: NewContact, *, fresh: bool) -> _Target:
    """The target for ``new``: from the cache unless ``fresh``; a refusal is always decided
    on fresh data (the cache may not know a queue or channel added a moment ago)."""
    target = None if fresh else _targets.get(new.queue)
    if target is None or new.channel not in target.channels:
        target = await _load_target(session, new.queue)
    if target is None:
        raise InvalidInput(
            f"Unknown queue: {new.queue}.", details={"queue": new.queue}, code="unknown_queue"
        )
    if new.channel not in target.channels:
        raise InvalidInput(
            f"Queue {new.queue} does not take {new.channel} contacts.",
            details={"queue": new.queue, "channels": target.channels},
            code="channel_not_served",
        )
    return target


async def enqueue(
    session: AsyncSession, new: NewContact, *, actor_id: int | None = None
) -> Enqueued:
    """Create a contact and put it in line (or record that its queue is closed)."""
    if new.skills:
        await skill_ids_by_name(session, [s.skill for s in new.skills])
    for attempt in range(_STALE_TARGET_RETRIES):
        target = await _target(session, new, fresh=attempt > 0)
        enqueued = await _insert_contact(session, new, target, actor_id)
        if enqueued is not None:
            if enqueued.closed_action is None:
                ring_after_commit(session)
            return enqueued
    raise Conflict(
        f"The routing configuration of queue {new.queue} kept changing; try again.",
        details={"queue": new.queue},
        code="routing_config_changing",
    )


async def _insert_contact(
    session: AsyncSession, new: NewContact, target: _Target, actor_id: int | None
) -> Enqueued | None:
    """The contact, its first events and its routing request; None if ``target`` is stale."""
    now = datetime.now(UTC)
    arrived = new.arrived_at or now
    policy = target.policy
    hours = policy.hours if policy is not None else None
    closed_action = None if hours is None or is_open(hours.to_core(), now) else hours.closed_action
    attributes = dict(new.attributes or {})
    preferred = new.preferred_agent_id
    if preferred is None and policy is not None and policy.preferred_agent_seconds > 0:
        preferred = await preferred_agent_of(session, new.customer_id)
    if preferred is not None:
        attributes["preferred_agent_id"] = preferred
    priority = target.default_priority if new.priority is None else new.priority
    events: list[dict[str, Any]] = [
        {
            "kind": "contact.created",
            "occurred_at": arrived.isoformat(),
            "payload": {"channel": new.channel, "queue": new.queue},
        }
    ]
    if closed_action is None:
        payload = {"queue": new.queue, "priority": priority}
        events.append(
            {"kind": "contact.queued", "occurred_at": now.isoformat(), "payload": payload}
        )
    else:
        payload = {"queue": new.queue, "action": closed_action}
        events.append(
            {"kind": "contact.queue_closed", "occurred_at": now.isoformat(), "payload": payload}
        )
    request = {
        "queue": new.queue,
        "channel": new.channel,
        "arrived_at": arrived.timestamp(),
        "priority": new.priority,
        "skills": None if not new.skills else [[s.skill, s.level] for s in new.skills],
        "preferred_agent_id": preferred,
    }
    queued = closed_action is None
    try:
        row = await (await driver_connection(session)).fetchrow(
            _ENQUEUE,
            new.channel,
            "queued" if queued else "ended",
            new.customer_id,
            new.customer_match,
            target.queue_id,
            priority,
            fastjson.dumps(_skills_json(new.skills)),
            new.provider,
            new.provider_ref,
            new.from_address,
            new.to_address,
            new.subject,
            fastjson.dumps(attributes),
            arrived,
            now,
            now if queued else None,
            None if queued else now,
            actor_id,
            fastjson.dumps(events),
            fastjson.dumps(request),
            queued,
            target.name,
            target.channels,
            target.default_priority,
            target.version,
            target.published_at,
            new.direction,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(
            "A contact with this provider reference exists already.",
            details={"provider": new.provider, "provider_ref": new.provider_ref},
            code="duplicate_contact",
        ) from exc
    if row is None:
        return None
    return Enqueued(row[0], row[1], closed_action)


async def preferred_agent_of(session: AsyncSession, customer_id: int | None) -> int | None:
    """The customer's account owner if one is set, else the agent who served them last."""
    if customer_id is None:
        return None
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return None
    owner = customer.attributes.get("account_owner_id")
    if isinstance(owner, int):
        return owner
    last: int | None = await session.scalar(
        select(Contact.agent_id)
        .where(Contact.customer_id == customer_id, Contact.answered_at.is_not(None))
        .order_by(Contact.answered_at.desc())
        .limit(1)
    )
    return last


async def request_callback(
    session: AsyncSession, contact_id: int, number: str, *, actor_id: int | None = None
) -> Contact:
    """The caller hangs up but keeps their place: when their turn comes an agent calls back."""
    contact = await _live_contact(session, contact_id)
    if contact.channel != "voice":
        raise InvalidInput("Only calls can become callbacks.", code="not_a_call")
    contact.attributes = {**contact.attributes, "callback": {"number": number}}
    record(
        session,
        "contact.callback_requested",
        contact_id=contact_id,
        actor_id=actor_id,
        payload={"keeps_place": True},
    )
    return contact


def is_callback(contact: Contact) -> bool:
    return "callback" in contact.attributes


async def due_step_action(session: AsyncSession, contact: Contact) -> str | None:
    """The action (callback, voicemail) an escalation step has made due for a waiting
    contact, if any. A requeue starts the steps again (``routing_step`` back to 0), so an
    action of a step the contact is no longer past does not count."""
    payload = await session.scalar(
        select(ContactEvent.payload)
        .where(
            ContactEvent.contact_id == contact.id,
            ContactEvent.kind == "contact.step_action_due",
        )
        .order_by(ContactEvent.id.desc())
        .limit(1)
    )
    if not isinstance(payload, dict) or int(payload.get("step", 0)) > contact.routing_step:
        return None
    action = payload.get("action")
    return action if isinstance(action, str) else None


async def _live_contact(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    if contact.state not in ("queued", "offered", "assigned"):
        raise Conflict(
            f"Contact {contact_id} is {contact.state}: it is no longer being routed.",
            details={"state": contact.state},
            code="contact_not_live",
        )
    return contact


async def update_routing(
    session: AsyncSession,
    contact_id: int,
    *,
    priority: int | None,
    skills: list[SkillLevel] | None,
    queue: str | None,
    actor_id: int,
) -> RoutingInbox:
    contact = await _live_contact(session, contact_id)
    if skills:
        await skill_ids_by_name(session, [s.skill for s in skills])
    changes: dict[str, Any] = {}
    if queue is not None:
        target = await queue_by_name(session, queue)
        if contact.channel not in target.channels:
            raise InvalidInput(
                f"Queue {queue} does not take {contact.channel} contacts.",
                details={"queue": queue},
                code="channel_not_served",
            )
        contact.queue_id = target.id
        changes["queue"] = queue
    if priority is not None:
        contact.priority = priority
        changes["priority"] = priority
    if skills is not None:
        contact.required_skills = _skills_json(skills)
        changes["skills"] = [[s.skill, s.level] for s in skills]
    record(
        session,
        "contact.routing_changed",
        contact_id=contact_id,
        actor_id=actor_id,
        payload=changes,
    )
    return await inbox.submit(
        session, "contact.update", {"contact_id": contact_id, **changes}, actor_id=actor_id
    )


async def abandon(
    session: AsyncSession, contact_id: int, *, actor_id: int | None = None
) -> RoutingInbox | None:
    """The customer left. A caller waiting for a callback has not: nothing to do then."""
    contact = await _live_contact(session, contact_id)
    if is_callback(contact):
        record(session, "contact.caller_hung_up", contact_id=contact_id, payload={"callback": True})
        return None
    return await inbox.submit(
        session, "contact.abandon", {"contact_id": contact_id}, actor_id=actor_id
    )


async def answer_offer(
    session: AsyncSession, contact_id: int, agent: User, *, accept: bool
) -> RoutingInbox:
    contact = await _live_contact(session, contact_id)
    await authorize_offer(session, agent, contact)
    kind = "offer.accept" if accept else "offer.reject"
    return await inbox.submit(
        session, kind, {"contact_id": contact_id, "agent_id": agent.id}, actor_id=agent.id
    )


async def end_contact(
    session: AsyncSession, contact_id: int, user: User, disposition: str | None
) -> RoutingInbox:
    contact = await _live_contact(session, contact_id)
    await authorize_contact(session, user, contact, "contact_action")
    if contact.state != "assigned":
        raise Conflict(
            f"Contact {contact_id} is {contact.state}, not assigned.",
            details={"state": contact.state},
            code="not_assigned",
        )
    check_disposition(disposition)
    if disposition is not None:
        contact.disposition = disposition
        await apply_disposition(session, contact, disposition, user.id)
        await settle_outbound(session, contact, disposition, datetime.now(UTC))
    return await inbox.submit(session, "contact.end", {"contact_id": contact_id}, actor_id=user.id)


async def transfer(
    session: AsyncSession,
    contact_id: int,
    user: User,
    *,
    to_queue: str | None,
    to_agent_id: int | None,
) -> RoutingInbox:
    if (to_queue is None) == (to_agent_id is None):
        raise InvalidInput(
            "Transfer to a queue or to an agent: give exactly one.", code="invalid_transfer"
        )
    contact = await _live_contact(session, contact_id)
    await authorize_contact(session, user, contact, "contact_action")
    payload: dict[str, Any] = {"contact_id": contact_id}
    if to_queue is not None:
        target = await queue_by_name(session, to_queue)
        if contact.channel not in target.channels:
            raise InvalidInput(
                f"Queue {to_queue} does not take {contact.channel} contacts.",
                details={"queue": to_queue},
                code="channel_not_served",
            )
        payload["to_queue"] = to_queue
    else:
        agent = await session.get(User, to_agent_id)
        if agent is None or agent.role != Role.AGENT.value or not agent.is_active:
            raise InvalidInput(
                f"No active agent {to_agent_id}.",
                details={"to_agent_id": to_agent_id},
                code="unknown_agent",
            )
        payload["to_agent_id"] = to_agent_id
    record(
        session,
        "contact.transfer_requested",
        contact_id=contact_id,
        actor_id=user.id,
        payload=payload,
    )
    return await inbox.submit(session, "contact.transfer", payload, actor_id=user.id)


async def set_agent_state(
    session: AsyncSession, agent: User, state: str, reason: str | None, *, actor_id: int
) -> RoutingInbox:
    if state == "not_ready":
        _, document = await active_version(session)
        allowed = document.not_ready_reasons
        if reason not in allowed:
            raise InvalidInput(
                "Not ready needs one of the configured reasons.",
                details={"reason": reason, "allowed": allowed},
                code="reason_required" if not reason else "unknown_reason",
            )
    skills = (await skills_of(session, [agent.id])).get(agent.id, [])
    payload = {
        "agent_id": agent.id,
        "state": state,
        "reason": reason if state == "not_ready" else None,
        "skills": {s.skill: s.level for s in skills},
        "capacity": agent.capacity,
    }
    return await inbox.submit(session, "agent.state", payload, actor_id=actor_id)


async def end_wrap_up(session: AsyncSession, agent: User) -> RoutingInbox:
    return await inbox.submit(
        session, "agent.wrap_up_end", {"agent_id": agent.id}, actor_id=agent.id
    )


async def routing_history(session: AsyncSession, contact_id: int) -> list[ContactEvent]:
    """The contact's routing events (offers with their traces, escalations, withdrawals...)."""
    if await session.get(Contact, contact_id) is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    kinds = (
        "contact.queued",
        "contact.offered",
        "contact.offer_withdrawn",
        "contact.assigned",
        "contact.escalated",
        "contact.step_action_due",
        "contact.requeued",
        "contact.abandoned",
        "contact.routing_changed",
        "contact.queue_closed",
        "contact.ended",
    )
    query = (
        select(ContactEvent)
        .where(ContactEvent.contact_id == contact_id, ContactEvent.kind.in_(kinds))
        .order_by(ContactEvent.id)
    )
    return list(await session.scalars(query))


async def contact_position(
    session: AsyncSession, engine: RoutingEngine, contact_id: int, user: User, now: float
) -> QueuePosition:
    """The contact's place in line, for a supervisor or the agent it is offered or assigned
    to (``app.contacts.access``, with the router's view of whose it is); NotFound when it
    is not being routed."""
    view = engine.contact_view(str(contact_id))
    if view is None:
        raise NotFound(
            f"Contact {contact_id} is not being routed.", details={"contact_id": contact_id}
        )
    agent_id = None if view.agent_id is None else int(view.agent_id)
    await authorize_contact_ref(
        session, user, "position", contact_id=contact_id, agent_id=agent_id, customer_id=None
    )
    position: QueuePosition = engine.position(str(contact_id), now)
    return position
