"""What the rest of contactd asks of routing: put a contact in line, change it, take it out,
and the agents' answers. Each call writes its effect and an inbox row in the caller's unit of
work; the router applies the row once that commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.service import skills_of
from app.contacts.events import record
from app.contacts.models import Contact, ContactEvent
from app.customers.models import Customer
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.queues.models import Queue
from app.routing import inbox
from app.routing.config_service import active_version
from app.routing.hours import is_open
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


@dataclass(frozen=True, slots=True)
class Enqueued:
    contact: Contact
    closed_action: str | None  # set when the queue was closed: voicemail, callback or message


async def queue_by_name(session: AsyncSession, name: str) -> Queue:
    queue = await session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        raise InvalidInput(f"Unknown queue: {name}.", details={"queue": name}, code="unknown_queue")
    return queue


def _skills_json(skills: list[SkillLevel] | None) -> list[dict[str, Any]]:
    return [] if skills is None else [{"skill": s.skill, "level": s.level} for s in skills]


async def enqueue(
    session: AsyncSession, new: NewContact, *, actor_id: int | None = None
) -> Enqueued:
    """Create a contact and put it in line (or record that its queue is closed)."""
    queue = await queue_by_name(session, new.queue)
    if new.channel not in queue.channels:
        raise InvalidInput(
            f"Queue {queue.name} does not take {new.channel} contacts.",
            details={"queue": queue.name, "channels": queue.channels},
            code="channel_not_served",
        )
    if new.skills:
        await skill_ids_by_name(session, [s.skill for s in new.skills])
    now = datetime.now(UTC)
    arrived = new.arrived_at or now
    _, document = await active_version(session)
    policy = document.queues.get(queue.name)
    closed = (
        policy is not None and policy.hours is not None and not is_open(policy.hours.to_core(), now)
    )
    attributes = dict(new.attributes or {})
    preferred = new.preferred_agent_id
    if preferred is None and policy is not None and policy.preferred_agent_seconds > 0:
        preferred = await preferred_agent_of(session, new.customer_id)
    if preferred is not None:
        attributes["preferred_agent_id"] = preferred
    contact = Contact(
        channel=new.channel,
        state="ended" if closed else "queued",
        customer_id=new.customer_id,
        customer_match=new.customer_match,
        queue_id=queue.id,
        priority=queue.default_priority if new.priority is None else new.priority,
        required_skills=_skills_json(new.skills),
        provider=new.provider,
        provider_ref=new.provider_ref,
        from_address=new.from_address,
        to_address=new.to_address,
        subject=new.subject,
        attributes=attributes,
        created_at=arrived,
        queued_at=None if closed else now,
        ended_at=now if closed else None,
    )
    session.add(contact)
    await session.flush()
    record(
        session,
        "contact.created",
        contact_id=contact.id,
        actor_id=actor_id,
        occurred_at=arrived,
        payload={"channel": new.channel, "queue": queue.name},
    )
    if closed:
        assert policy is not None
        assert policy.hours is not None
        action = policy.hours.closed_action
        record(
            session,
            "contact.queue_closed",
            contact_id=contact.id,
            occurred_at=now,
            payload={"queue": queue.name, "action": action},
        )
        return Enqueued(contact, action)
    record(
        session,
        "contact.queued",
        contact_id=contact.id,
        actor_id=actor_id,
        occurred_at=now,
        payload={"queue": queue.name, "priority": contact.priority},
    )
    tier = None
    if new.customer_id is not None:
        tier = await session.scalar(select(Customer.tier).where(Customer.id == new.customer_id))
    await inbox.submit(
        session,
        "contact.enqueue",
        {
            "contact_id": contact.id,
            "queue": queue.name,
            "channel": new.channel,
            "arrived_at": arrived.timestamp(),
            "priority": new.priority,
            "skills": None if not new.skills else [[s.skill, s.level] for s in new.skills],
            "tier": tier,
            "preferred_agent_id": preferred,
        },
        actor_id=actor_id,
    )
    return Enqueued(contact, None)


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


def _must_be_theirs(contact: Contact, user: User) -> None:
    if contact.agent_id != user.id and not Role(user.role).at_least(Role.SUPERVISOR):
        raise Forbidden(f"Contact {contact.id} is not yours.", details={"contact_id": contact.id})


async def answer_offer(
    session: AsyncSession, contact_id: int, agent: User, *, accept: bool
) -> RoutingInbox:
    contact = await _live_contact(session, contact_id)
    if contact.state != "offered" or contact.agent_id != agent.id:
        raise Conflict(
            f"Contact {contact_id} is not offered to you.",
            details={"state": contact.state},
            code="no_such_offer",
        )
    kind = "offer.accept" if accept else "offer.reject"
    return await inbox.submit(
        session, kind, {"contact_id": contact_id, "agent_id": agent.id}, actor_id=agent.id
    )


async def end_contact(
    session: AsyncSession, contact_id: int, user: User, disposition: str | None
) -> RoutingInbox:
    contact = await _live_contact(session, contact_id)
    _must_be_theirs(contact, user)
    if contact.state != "assigned":
        raise Conflict(
            f"Contact {contact_id} is {contact.state}, not assigned.",
            details={"state": contact.state},
            code="not_assigned",
        )
    if disposition is not None:
        contact.disposition = disposition
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
    _must_be_theirs(contact, user)
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
    if state == "not_ready" and not reason:
        raise InvalidInput(
            "Not ready needs a reason (break, lunch, training, ...).", code="reason_required"
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
