"""Who may see a customer's data, and on what grounds.

* An **agent** sees a customer through a contact of that customer that is offered or
  assigned to them now (or in wrap-up), or that they handled within ``ACCESS_WINDOW`` (30
  days): a customer who calls back about yesterday's call can be helped by the same agent.
* A **supervisor** sees the customers of contacts handled by an agent of their team
  (``users.team``) within the same window, and those they handled themselves.
* An **admin** sees everything.

Every decision is audited by the caller (``app.audit.service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import Contact
from app.users.models import Role, User

ACCESS_WINDOW = timedelta(days=30)
LIVE_STATES = ("offered", "assigned", "wrap_up")


@dataclass(frozen=True, slots=True)
class Access:
    allowed: bool
    via: str  # contact | team | admin | none
    contact_id: int | None = None


async def customer_access(
    session: AsyncSession, user: User, customer_id: int, via_contact: int | None = None
) -> Access:
    role = Role(user.role)
    if role is Role.ADMIN:
        return Access(True, "admin", via_contact)
    query = (
        select(Contact.id, Contact.agent_id)
        .where(
            Contact.customer_id == customer_id,
            or_(
                Contact.state.in_(LIVE_STATES),
                Contact.created_at > datetime.now(UTC) - ACCESS_WINDOW,
            ),
        )
        .order_by(Contact.created_at.desc())
        .limit(1)
    )
    if via_contact is not None:
        query = query.where(Contact.id == via_contact)
    if role is Role.SUPERVISOR and user.team:
        team = select(User.id).where(User.team == user.team)
        query = query.where(or_(Contact.agent_id == user.id, Contact.agent_id.in_(team)))
    else:
        query = query.where(Contact.agent_id == user.id)
    found = (await session.execute(query)).first()
    if found is None:
        return Access(False, "none", via_contact)
    contact_id, agent_id = found
    return Access(True, "contact" if agent_id == user.id else "team", contact_id)
