"""Fixing who a contact's customer is: link to an existing customer, create one from the
contact, merge duplicates. Each change is an event in the append-only log.

Who may change a contact's customer (``held_contact``):

* an **agent**: a contact offered or assigned to them, or in their wrap-up;
* a **supervisor**: a contact handled by them or by an agent of their team (``users.team``);
* an **admin**: any contact.

Which customer an agent may link it to (``link_contact``): one suggested for the contact
(same phone or email, or a similar phone: ``screen_pop.is_suggested``), one they found
with a lookup for that contact (``lookup.was_looked_up``), or one they may already see
(``access.customer_access``). Anything else would let them mislabel the history
and pull any customer's data into their screen-pop. Supervisors and admins, who may search
every customer, may link to any. A refusal is audited (``allowed: false``) in a transaction
of its own, like refused views.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import groundless, refuse
from app.cases.models import Case
from app.consent.service import move_consent
from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.access import LIVE_STATES, customer_access
from app.customers.lookup import was_looked_up
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.schemas import CustomerCreate, CustomerOut
from app.customers.screen_pop import is_suggested
from app.customers.service import create_customer, get_customer
from app.customers.value.service import rescore_customers
from app.database import Database
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.orders.service import move_orders
from app.users.models import Role, User


async def _may_change(session: AsyncSession, user: User, contact: Contact) -> bool:
    role = Role(user.role)
    if role is Role.ADMIN:
        return True
    if role is Role.SUPERVISOR:
        if contact.agent_id is None:
            return False
        if contact.agent_id == user.id:
            return True
        if not user.team:
            return False
        team = await session.scalar(select(User.team).where(User.id == contact.agent_id))
        return team == user.team
    return contact.agent_id == user.id and contact.state in LIVE_STATES


async def _refuse(
    db: Database,
    user: User,
    action: str,
    *,
    contact_id: int,
    customer_id: int | None,
    message: str,
    code: str,
    detail: dict[str, Any],
) -> Forbidden:
    """Audit the refused attempt (it survives the caller's rollback); the error to raise."""
    view = groundless(
        user.id, action, customer_id=customer_id, contact_id=contact_id, detail=detail
    )
    details = {"contact_id": contact_id, "customer_id": customer_id}
    return await refuse(db, view, message, details=details, code=code)


async def held_contact(
    session: AsyncSession,
    db: Database,
    contact_id: int,
    user: User,
    action: str,
    customer_id: int | None = None,
    *,
    lock: bool = True,
) -> Contact:
    """The contact, locked unless ``lock`` is false, if this user may change its customer
    (see the module's rules); Forbidden (audited as ``action`` about ``customer_id``, or the
    contact's customer) otherwise."""
    contact = await session.get(Contact, contact_id, with_for_update=lock)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    if not await _may_change(session, user, contact):
        raise await _refuse(
            db,
            user,
            action,
            contact_id=contact_id,
            customer_id=contact.customer_id if customer_id is None else customer_id,
            message=f"Contact {contact_id} is not yours.",
            code="forbidden",
            detail={"reason": "not_your_contact", "current_customer_id": contact.customer_id},
        )
    return contact


async def lookup_ground(
    session: AsyncSession, db: Database, user: User, contact_id: int | None
) -> Contact | None:
    """The contact a lookup is made for: one this user may change the customer of (not
    locked: a lookup changes nothing). Only an admin may look up without one."""
    if contact_id is None:
        if Role(user.role) is Role.ADMIN:
            return None
        raise InvalidInput(
            "A lookup is made for a contact you hold: give contact_id.",
            details={"contact_id": None},
            code="contact_needed",
        )
    return await held_contact(session, db, contact_id, user, "lookup", lock=False)


async def _link_grounds(
    session: AsyncSession, user: User, contact: Contact, customer_id: int
) -> str | None:
    """Why this user may link the contact to this customer; None if they may not."""
    role = Role(user.role)
    if role.at_least(Role.SUPERVISOR):
        return role.value
    if await is_suggested(session, contact.from_address, customer_id):
        return "suggested"
    if await was_looked_up(session, user, contact.id, customer_id):
        return "looked_up"
    access = await customer_access(session, user, customer_id)
    return access.via if access.allowed else None


async def link_contact(
    session: AsyncSession, db: Database, contact_id: int, customer_id: int, user: User
) -> Contact:
    contact = await held_contact(session, db, contact_id, user, "link", customer_id)
    await get_customer(session, customer_id)
    grounds = await _link_grounds(session, user, contact, customer_id)
    if grounds is None:
        raise await _refuse(
            db,
            user,
            "link",
            contact_id=contact_id,
            customer_id=customer_id,
            message=(
                f"Customer {customer_id} is not suggested for contact {contact_id}"
                " and you have no contact with them."
            ),
            code="no_access",
            detail={"reason": "not_suggested", "current_customer_id": contact.customer_id},
        )
    before = contact.customer_id
    contact.customer_id = customer_id
    contact.customer_match = "linked"
    record(
        session,
        "contact.customer_linked",
        contact_id=contact_id,
        actor_id=user.id,
        payload={"customer_id": customer_id, "previous": before, "grounds": grounds},
    )
    await session.flush()
    return contact


def _from_contact(contact: Contact, name: str | None) -> CustomerCreate:
    address = contact.from_address or ""
    return CustomerCreate(
        name=name or address or f"Contact {contact.id}",
        phones=[address] if address.startswith("+") else [],
        emails=[address] if "@" in address else [],
    )


async def create_from_contact(
    session: AsyncSession,
    db: Database,
    contact_id: int,
    user: User,
    name: str | None,
    region: str,
) -> CustomerOut:
    contact = await held_contact(session, db, contact_id, user, "create_from_contact")
    if contact.customer_id is not None:
        raise Conflict(
            f"Contact {contact_id} already has a customer.",
            details={"customer_id": contact.customer_id},
            code="has_customer",
        )
    created = await create_customer(session, _from_contact(contact, name), region)
    contact.customer_id = created.id
    contact.customer_match = "created"
    record(
        session,
        "contact.customer_created",
        contact_id=contact_id,
        actor_id=user.id,
        payload={"customer_id": created.id},
    )
    await session.flush()
    return created


async def merge_customers(
    session: AsyncSession, into_id: int, from_id: int, actor_id: int
) -> Customer:
    """``from_id`` is folded into ``into_id``: its contacts, cases, orders, phones, emails,
    tags and consent (a refusal wins, ``app.consent.service.move_consent``) follow, then it
    is deleted and ``into_id`` rescored. The merge is a ``customer.merged`` event."""
    if into_id == from_id:
        raise InvalidInput("A customer cannot be merged into itself.", code="same_customer")
    rows = await session.scalars(
        select(Customer).where(Customer.id.in_([into_id, from_id])).with_for_update()
    )
    found = {c.id: c for c in rows}
    for wanted in (into_id, from_id):
        if wanted not in found:
            raise NotFound(f"No customer {wanted}.", details={"customer_id": wanted})
    into, duplicate = found[into_id], found[from_id]
    moved = await session.execute(
        update(Contact).where(Contact.customer_id == from_id).values(customer_id=into_id)
    )
    cases = await session.execute(
        update(Case).where(Case.customer_id == from_id).values(customer_id=into_id)
    )
    await _move_contact_points(session, into_id, from_id)
    orders = await move_orders(session, into_id, from_id)
    await move_consent(session, into, from_id)
    into.tags = list(dict.fromkeys([*into.tags, *duplicate.tags]))
    into.attributes = {**duplicate.attributes, **into.attributes}
    await session.delete(duplicate)
    record(
        session,
        "customer.merged",
        actor_id=actor_id,
        payload={
            "into": into_id,
            "from": from_id,
            "contacts": moved.rowcount,  # type: ignore[attr-defined]
            "orders": orders,
            "cases": cases.rowcount,  # type: ignore[attr-defined]
        },
    )
    await session.flush()
    await rescore_customers(session, [into_id], now=datetime.now(UTC))
    return into


async def _move_contact_points(session: AsyncSession, into_id: int, from_id: int) -> None:
    phones = select(CustomerPhone.e164, CustomerPhone.extension, CustomerPhone.label).where(
        CustomerPhone.customer_id == from_id
    )
    for e164, extension, label in await session.execute(phones):
        await session.execute(
            insert(CustomerPhone)
            .values(customer_id=into_id, e164=e164, extension=extension, label=label)
            .on_conflict_do_nothing()
        )
    emails = select(CustomerEmail.email).where(CustomerEmail.customer_id == from_id)
    for (email,) in await session.execute(emails):
        await session.execute(
            insert(CustomerEmail).values(customer_id=into_id, email=email).on_conflict_do_nothing()
        )
    await session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == from_id))
    await session.execute(delete(CustomerEmail).where(CustomerEmail.customer_id == from_id))
