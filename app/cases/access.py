"""Who may see and work a case. Supervisors and admins: every case. The case's owner: the
case. Another agent: through the customer (a contact of theirs with that customer, as
``app.customers.access`` decides). Every look is audited; a refusal is a 403."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import View, record_view
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
