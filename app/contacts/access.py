"""Who may read and work one contact: its transcript, its email and attachments, its place
in line, ending or transferring it.

* An **agent**: a contact they are the agent of (``contacts.agent_id``: offered to them,
  assigned, in their wrap-up, or handled by them and since ended). Queues do not widen
  this: serving a queue shows the contacts the router offers, not the others in it.
* A **supervisor** or an **admin**: every contact. An offer, though, is answered only by
  the agent it is offered to (``authorize_offer``).

A refusal is a 403 (``forbidden``), recorded in the audit log (``app.audit``) in a
transaction of its own, so the rollback of the request's does not erase it. A contact that
does not exist is a 404 before any of this, so ids are not probed through 403s of missing
rows (and nothing is audited for them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import groundless, record_refusal, refuse
from app.contacts.models import Contact
from app.errors import Conflict
from app.users.models import Role, User


def holds_contact(user: User, agent_id: int | None) -> bool:
    """The rule above, pure: ``agent_id`` is the contact's agent (None: nobody's yet)."""
    return agent_id == user.id or Role(user.role).at_least(Role.SUPERVISOR)


async def authorize_contact_ref(
    session: AsyncSession,
    user: User,
    action: str,
    *,
    contact_id: int,
    agent_id: int | None,
    customer_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Return when ``user`` may see the contact; else audit the refusal and raise
    Forbidden. For callers that hold the contact's fields but not its row (the router's
    view of a contact in line)."""
    if holds_contact(user, agent_id):
        return
    view = groundless(
        user.id, action, customer_id=customer_id, contact_id=contact_id, detail=detail
    )
    message = f"Contact {contact_id} is not yours."
    raise await refuse(session, view, message, details={"contact_id": contact_id})


async def authorize_contact(
    session: AsyncSession,
    user: User,
    contact: Contact,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """``authorize_contact_ref`` for a contact row."""
    await authorize_contact_ref(
        session,
        user,
        action,
        contact_id=contact.id,
        agent_id=contact.agent_id,
        customer_id=contact.customer_id,
        detail=detail,
    )


async def authorize_offer(session: AsyncSession, agent: User, contact: Contact) -> None:
    """An offer is answered by the agent it is offered to, or by nobody: a 409
    ``no_such_offer`` otherwise (an offer that timed out a moment ago is not an attack). For
    a contact that is not the agent's at all the attempt is audited and its state not told."""
    if contact.agent_id != agent.id:
        view = groundless(agent.id, "offer", customer_id=contact.customer_id, contact_id=contact.id)
        await record_refusal(session, view)
        raise Conflict(f"Contact {contact.id} is not offered to you.", code="no_such_offer")
    if contact.state != "offered":
        raise Conflict(
            f"Contact {contact.id} is not offered to you.",
            details={"state": contact.state},
            code="no_such_offer",
        )
