"""Looking at a customer's data: the access decision and its audit entry, together."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import View, record_refusal, record_view
from app.customers.access import Access, customer_access
from app.database import Database
from app.errors import Forbidden
from app.users.models import User


async def authorize_view(
    session: AsyncSession,
    db: Database,
    user: User,
    customer_id: int,
    action: str,
    *,
    via_contact: int | None = None,
    detail: dict[str, Any] | None = None,
) -> Access:
    """Allowed: the view is audited in this transaction. Refused: the attempt is audited in
    a transaction of its own (it survives the rollback) and Forbidden is raised."""
    access = await customer_access(session, user, customer_id, via_contact)
    view = View(
        actor_id=user.id,
        action=action,
        customer_id=customer_id,
        via=access.via,
        contact_id=access.contact_id,
        detail=detail,
    )
    if not access.allowed:
        await record_refusal(db, view)
        raise Forbidden(
            "You have no contact with this customer.",
            details={"customer_id": customer_id},
            code="no_access",
        )
    record_view(session, view)
    return access
