"""Fixing who a contact's customer is: link to an existing customer, create one from the
contact, merge duplicates. Each change is an event in the append-only log."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.access import LIVE_STATES
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.schemas import CustomerCreate, CustomerOut
from app.customers.service import create_customer, get_customer
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.users.models import Role, User


async def held_contact(session: AsyncSession, contact_id: int, user: User) -> Contact:
    """The contact, if this user may change its customer: it is offered or assigned to
    them (or in their wrap-up), or the user is a supervisor."""
    contact = await session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    supervisor = Role(user.role).at_least(Role.SUPERVISOR)
    if not supervisor and (contact.agent_id != user.id or contact.state not in LIVE_STATES):
        raise Forbidden(f"Contact {contact_id} is not yours.", details={"contact_id": contact_id})
    return contact


async def link_contact(
    session: AsyncSession, contact_id: int, customer_id: int, user: User
) -> Contact:
    contact = await held_contact(session, contact_id, user)
    await get_customer(session, customer_id)
    before = contact.customer_id
    contact.customer_id = customer_id
    contact.customer_match = "linked"
    record(
        session,
        "contact.customer_linked",
        contact_id=contact_id,
        actor_id=user.id,
        payload={"customer_id": customer_id, "previous": before},
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
    session: AsyncSession, contact_id: int, user: User, name: str | None, region: str
) -> CustomerOut:
    contact = await held_contact(session, contact_id, user)
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
    """``from_id`` is folded into ``into_id``: its contacts, phones, emails and tags follow,
    then it is deleted. The merge is a ``customer.merged`` event."""
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
    await _move_contact_points(session, into_id, from_id)
    into.tags = list(dict.fromkeys([*into.tags, *duplicate.tags]))
    into.attributes = {**duplicate.attributes, **into.attributes}
    await session.delete(duplicate)
    record(
        session,
        "customer.merged",
        actor_id=actor_id,
        payload={"into": into_id, "from": from_id, "contacts": moved.rowcount},  # type: ignore[attr-defined]
    )
    await session.flush()
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
