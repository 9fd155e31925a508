"""Recording and reading views of customer data.

An allowed view is recorded in the caller's transaction (it commits with the view). A
refused attempt is recorded in a unit of work of its own, so the 403 that follows (and
the rollback of the caller's transaction) does not erase it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.database import Database
from app.errors import Forbidden


@dataclass(frozen=True, slots=True)
class View:
    """One look at a customer's data (or a change of whose data a contact shows): what,
    whose, and on what grounds."""

    actor_id: int
    # screen_pop | history | profile | search | lookup | link | create_from_contact
    # | export | erase (app.privacy) | cases | case | case_timeline (app.cases)
    # | care_touches (app.care)
    # | transcript | email | attachment | position | contact_action | offer
    # (app.contacts.access) | role (app.auth.dependencies)
    action: str
    customer_id: int | None
    via: str  # contact | team | search | admin | none
    contact_id: int | None = None
    detail: dict[str, Any] | None = None


def groundless(
    actor_id: int,
    action: str,
    *,
    customer_id: int | None,
    contact_id: int | None,
    detail: dict[str, Any] | None = None,
) -> View:
    """The view a refused attempt asked for: on no grounds (``via="none"``)."""
    return View(
        actor_id=actor_id,
        action=action,
        customer_id=customer_id,
        via="none",
        contact_id=contact_id,
        detail=detail,
    )


def _entry(view: View, allowed: bool) -> AuditEntry:
    return AuditEntry(
        actor_id=view.actor_id,
        action=view.action,
        customer_id=view.customer_id,
        contact_id=view.contact_id,
        via=view.via,
        allowed=allowed,
        detail=view.detail or {},
    )


def record_view(session: AsyncSession, view: View) -> None:
    session.add(_entry(view, allowed=True))


async def record_refusal(db: Database | AsyncSession, view: View) -> None:
    """Record a refused attempt apart from any request's transaction. ``db`` is the
    database, or a session of it: the entry is then written in a session of its own on
    the same engine, committed before this returns."""
    if isinstance(db, AsyncSession):
        async with AsyncSession(db.bind) as session, session.begin():
            session.add(_entry(view, allowed=False))
        return
    async with db.unit_of_work() as session:
        session.add(_entry(view, allowed=False))


async def refuse(
    db: Database | AsyncSession,
    view: View,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    code: str = "forbidden",
) -> Forbidden:
    """Record the refused attempt (``record_refusal``); the 403 for the caller to raise."""
    await record_refusal(db, view)
    return Forbidden(message, details=details, code=code)


async def list_entries(
    session: AsyncSession,
    *,
    before_id: int | None,
    limit: int,
    actor_id: int | None = None,
    customer_id: int | None = None,
    allowed: bool | None = None,
    since: datetime | None = None,
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if customer_id is not None:
        query = query.where(AuditEntry.customer_id == customer_id)
    if allowed is not None:
        query = query.where(AuditEntry.allowed == allowed)
    if since is not None:
        query = query.where(AuditEntry.occurred_at >= since)
    return list(await session.scalars(query))
