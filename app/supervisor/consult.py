"""Consults: an agent asks for help on a contact (console frame ``consult``), a supervisor
answers over ``/ws/supervisor`` (``consult_reply``).

Who hears a request: the supervisors of the agent's team, and supervisors without a team
and admins, who see every team's requests. The bus has no wildcard topics, so a request is
published on two topics: ``supervisors:{team}`` (followed by that team's supervisors) and
``supervisors`` (followed by everyone who sees all teams); an agent without a team
publishes on ``supervisors`` only. Each supervisor socket follows exactly one of them
(``topic_for``), so nobody gets a request twice.

An answer is recorded as ``contact.consult_answered`` (actor: the supervisor; agent: the
agent answered) in the caller's unit of work; after commit it goes to the agent's console
(``agent:{id}``, numbered and kept like every console event) and, as ``consult_answered``,
to the supervisors who got the request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.events import record
from app.contacts.models import Contact, ContactEvent
from app.database import after_commit
from app.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from app.events.bus import EventBus
from app.supervisor.protocol import ConsultReply
from app.users.models import Role, User

ALL_TEAMS = "supervisors"


def consult_topics(team: str | None) -> list[str]:
    """Where a consult request of an agent of ``team`` is published (the team's topic
    first)."""
    return [f"supervisors:{team}", ALL_TEAMS] if team else [ALL_TEAMS]


def sees_all_teams(user: User) -> bool:
    return Role(user.role).at_least(Role.ADMIN) or not user.team


def topic_for(user: User) -> str:
    """The one consult topic a supervisor's socket follows."""
    return ALL_TEAMS if sees_all_teams(user) else f"supervisors:{user.team}"


async def answer(
    session: AsyncSession, bus: EventBus, supervisor_id: int, reply: ConsultReply
) -> ContactEvent:
    """Record the supervisor's answer to the agent's latest consult request on the contact;
    the pushes run after commit. Flushes, never commits."""
    supervisor = await session.get(User, supervisor_id)
    if (
        supervisor is None
        or not supervisor.is_active
        or not Role(supervisor.role).at_least(Role.SUPERVISOR)
    ):
        raise Unauthorized("Only an active supervisor or admin can answer a consult.")
    contact = await session.get(Contact, reply.contact_id)
    if contact is None:
        raise NotFound(f"No contact {reply.contact_id}.", details={"contact_id": reply.contact_id})
    agent = await session.get(User, reply.agent_id)
    if agent is None or agent.role != Role.AGENT.value:
        raise InvalidInput(
            f"No agent {reply.agent_id}.",
            details={"agent_id": reply.agent_id},
            code="unknown_agent",
        )
    if not sees_all_teams(supervisor) and agent.team != supervisor.team:
        raise Forbidden(
            f"Agent {agent.id} is not in your team.",
            details={"agent_id": agent.id, "team": supervisor.team},
        )
    request = await session.scalar(
        select(ContactEvent)
        .where(
            ContactEvent.contact_id == contact.id,
            ContactEvent.kind == "contact.consult_requested",
            ContactEvent.actor_id == agent.id,
        )
        .order_by(ContactEvent.id.desc())
        .limit(1)
    )
    if request is None:
        raise NotFound(
            f"Agent {agent.id} has not asked for help on contact {contact.id}.",
            details={"contact_id": contact.id, "agent_id": agent.id},
            code="no_such_consult",
        )
    event = record(
        session,
        "contact.consult_answered",
        contact_id=contact.id,
        agent_id=agent.id,
        actor_id=supervisor.id,
        payload={"consult_id": request.id},
        text=reply.text,
    )
    await session.flush()
    to_agent: dict[str, Any] = {
        "type": "consult_answer",
        "contact_id": contact.id,
        "consult_id": request.id,
        "supervisor_id": supervisor.id,
        "supervisor_name": supervisor.display_name,
        "text": reply.text,
    }
    to_supervisors: dict[str, Any] = {
        "type": "consult_answered",
        "consult_id": request.id,
        "contact_id": contact.id,
        "agent_id": agent.id,
        "supervisor_id": supervisor.id,
        "supervisor_name": supervisor.display_name,
    }
    team = request.payload.get("team")  # where the request went
    topics = consult_topics(team if isinstance(team, str) else agent.team)

    async def publish() -> None:
        await bus.publish(f"agent:{agent.id}", to_agent)
        for topic in topics:
            await bus.publish(topic, to_supervisors)

    after_commit(session, publish)
    return event
