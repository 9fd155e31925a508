"""Reading the router's state back from the database after a restart or a failover."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.models import AgentSkill
from app.contacts.models import Contact
from app.customers.value.models import CustomerValue
from app.queues.models import Queue
from app.routing.core import model as core
from app.routing.models import AgentPresence
from app.skills.models import Skill
from app.users.models import User

LIVE_CONTACT_STATES = ("queued", "offered", "assigned")
_STATUS = {
    "queued": core.ContactStatus.WAITING,
    "offered": core.ContactStatus.OFFERED,
    "assigned": core.ContactStatus.ASSIGNED,
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    agents: list[core.AgentSnapshot]
    contacts: list[core.ContactSnapshot]
    queue_ids: dict[str, int]
    # Agents not in wrap-up who still have contacts in wrap-up: those contacts have no
    # after-contact work left to wait for (rows left so by routers before 2f88d5d).
    wrap_ups_to_end: list[int]


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


async def _agent_skills(session: AsyncSession, agent_ids: list[int]) -> dict[int, dict[str, int]]:
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    if agent_ids:
        rows = await session.execute(
            select(AgentSkill.user_id, Skill.name, AgentSkill.proficiency)
            .join(Skill, Skill.id == AgentSkill.skill_id)
            .where(AgentSkill.user_id.in_(agent_ids))
        )
        for user_id, name, level in rows:
            skills[user_id][name] = level
    return skills


async def _agents(session: AsyncSession) -> list[core.AgentSnapshot]:
    rows = (
        await session.execute(
            select(AgentPresence, User.capacity)
            .join(User, User.id == AgentPresence.agent_id)
            .where(
                or_(
                    AgentPresence.state != "offline",
                    AgentPresence.agent_id.in_(
                        select(Contact.agent_id).where(Contact.state.in_(("offered", "assigned")))
                    ),
                ),
                User.is_active.is_(True),
            )
            .order_by(AgentPresence.agent_id)
        )
    ).all()
    skills = await _agent_skills(session, [presence.agent_id for presence, _ in rows])
    snapshots = []
    for presence, capacity in rows:
        wrap_until = _seconds(presence.wrap_up_until)
        snapshots.append(
            core.AgentSnapshot(
                agent_id=str(presence.agent_id),
                skills=skills.get(presence.agent_id, {}),
                capacity={str(k): int(v) for k, v in capacity.items()},
                state=core.AgentState(presence.state),
                reason=presence.reason,
                idle_since=presence.since.timestamp(),
                wrap_up_until=(float("inf") if wrap_until is None else wrap_until)
                if presence.state == "wrap_up"
                else None,
            )
        )
    return snapshots


def contact_skills(raw: list[object]) -> tuple[core.SkillRequirement, ...] | None:
    """The per-contact override stored on the row; an empty list means the queue's skills."""
    if not raw:
        return None
    pairs = []
    for item in raw:
        assert isinstance(item, dict)
        pairs.append(core.SkillRequirement(str(item["skill"]), int(item["level"])))
    return tuple(pairs)


async def _contacts(session: AsyncSession) -> list[core.ContactSnapshot]:
    rows = (
        await session.execute(
            select(Contact, Queue.name, CustomerValue.routing_tags)
            .join(Queue, Queue.id == Contact.queue_id)
            .outerjoin(CustomerValue, CustomerValue.customer_id == Contact.customer_id)
            .where(Contact.state.in_(LIVE_CONTACT_STATES))
            .order_by(Contact.id)
        )
    ).all()
    snapshots = []
    for contact, queue_name, value_tags in rows:
        preferred = contact.attributes.get("preferred_agent_id")
        snapshots.append(
            core.ContactSnapshot(
                contact_id=str(contact.id),
                queue=queue_name,
                channel=contact.channel,
                arrived_at=contact.created_at.timestamp(),
                entered_queue_at=(contact.queued_at or contact.created_at).timestamp(),
                priority=contact.priority,
                skills=contact_skills(contact.required_skills),
                value_tags=tuple(value_tags or ()),
                preferred_agent_id=None if preferred is None else str(preferred),
                status=_STATUS[contact.state],
                agent_id=None if contact.agent_id is None else str(contact.agent_id),
                offer_deadline=_seconds(contact.offer_deadline),
                step=contact.routing_step,
            )
        )
    return snapshots


async def _wrap_ups_to_end(session: AsyncSession) -> list[int]:
    rows = await session.scalars(
        select(Contact.agent_id)
        .distinct()
        .outerjoin(AgentPresence, AgentPresence.agent_id == Contact.agent_id)
        .where(
            Contact.state == "wrap_up",
            Contact.agent_id.is_not(None),
            or_(AgentPresence.state.is_(None), AgentPresence.state != "wrap_up"),
        )
        .order_by(Contact.agent_id)
    )
    return [agent_id for agent_id in rows if agent_id is not None]


async def load_snapshot(session: AsyncSession) -> Snapshot:
    queue_ids = dict((await session.execute(select(Queue.name, Queue.id))).all())
    return Snapshot(
        await _agents(session),
        await _contacts(session),
        queue_ids,
        await _wrap_ups_to_end(session),
    )
