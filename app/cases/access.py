"""Who may see and work a case. Supervisors and admins: every case. The case's owner: the
case. Another agent: through the customer (a contact of theirs with that customer, as
``app.customers.access`` decides). Every look is audited; a refusal is a 403."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import View, groundless, record_view, refuse
from app.cases.models import Case
from app.customers.views import authorize_view
from app.database import Database
from app.users.models import Role, User


def manages_cases(user: User) -> bool:
    return Role(user.role).at_least(Role.SUPERVISOR)


async def authorize_case(
    session: AsyncSession, db: Database, user: User, case: Case, action: str
) -> None:
    if manages_cases(user) or case.owner_id == user.id:
        view = View(actor_id=user.id, action=action, customer_id=case.customer_id, via="case")
        record_view(session, view)
        return
    await authorize_view(session, db, user, case.customer_id, action, detail={"case_id": case.id})


async def case_list_owner(
    session: AsyncSession, db: Database, user: User, customer_id: int | None, owner: int | None
) -> int | None:
    """The owner an agent's list of cases is filtered by: a customer's cases are seen
    through a contact of theirs (``customer_id``, audited), else their own cases only (an
    ``owner`` other than themselves is a 403 ``no_access``, audited). Supervisors and
    admins list as they ask."""
    if manages_cases(user):
        return owner
    if customer_id is not None:
        await authorize_view(session, db, user, customer_id, "cases")
        return owner
    if owner not in (None, user.id):
        view = groundless(
            user.id, "cases", customer_id=None, contact_id=None, detail={"owner": owner}
        )
        message = "Agents list their own cases or a customer's."
        raise await refuse(db, view, message, code="no_access")
    return user.id
