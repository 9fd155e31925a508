"""The screen-pop: everything an agent needs about a contact's customer, in one message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import Contact
from app.customers.enrichment import CrmEnricher
from app.customers.history import pop_history
from app.customers.history_schemas import ScreenPop, Suggestion
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.service import customers_out
from app.errors import NotFound

MAX_SUGGESTIONS = 5
SIMILAR_PHONE_DIGITS = 2  # numbers differing only in their last two digits


async def build_screen_pop(
    session: AsyncSession, contact_id: int, enricher: CrmEnricher | None = None
) -> ScreenPop:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    enrichment = _start_enrichment(enricher, contact.customer_id)
    customer = None
    history = []
    suggestions: list[Suggestion] = []
    if contact.customer_id is not None:
        found = await session.get(Customer, contact.customer_id)
        if found is not None:
            customer = (await customers_out(session, [found]))[0]
            history = await pop_history(session, found.id, exclude=contact.id)
    if customer is None:
        suggestions = await suggestions_for(session, contact.from_address)
    return ScreenPop(
        contact_id=contact.id,
        channel=contact.channel,
        customer_match=contact.customer_match,
        customer=customer,
        suggestions=suggestions,
        from_address=contact.from_address,
        subject=contact.subject,
        ivr_inputs=dict(contact.attributes or {}),
        waited_seconds=_waited(contact),
        history=history,
        enrichment=await _finish_enrichment(enrichment, enricher),
    )


def _waited(contact: Contact) -> float:
    start = contact.queued_at or contact.created_at
    end = contact.answered_at or contact.offered_at or datetime.now(UTC)
    return round(max((end - start).total_seconds(), 0.0), 1)


def _start_enrichment(
    enricher: CrmEnricher | None, customer_id: int | None
) -> asyncio.Task[dict[str, Any] | None] | None:
    if enricher is None or enricher.url is None or customer_id is None:
        return None
    return asyncio.create_task(enricher.lookup(customer_id))


async def _finish_enrichment(
    task: asyncio.Task[dict[str, Any] | None] | None, enricher: CrmEnricher | None
) -> dict[str, Any] | None:
    """What the CRM said, if it said it within its timeout; the lookup keeps running in
    the background otherwise and fills the cache for the next pop."""
    if task is None or enricher is None:
        return None
    done, _ = await asyncio.wait({task}, timeout=enricher.timeout)
    if not done or task.exception() is not None:
        return None
    return task.result()


async def suggestions_for(session: AsyncSession, address: str | None) -> list[Suggestion]:
    """Customers the unknown or ambiguous caller might be: same phone or email (several
    matched), or a phone differing only in its last digits (a switchboard, a typo)."""
    if not address:
        return []
    if "@" in address:
        return await _by_email(session, address.lower())
    if not address.startswith("+") or len(address) <= SIMILAR_PHONE_DIGITS + 4:
        return []
    return await _by_phone(session, address)


async def _by_email(session: AsyncSession, email: str) -> list[Suggestion]:
    query = (
        select(Customer.id, Customer.name)
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(CustomerEmail.email == email)
        .order_by(Customer.id)
        .limit(MAX_SUGGESTIONS)
    )
    rows = await session.execute(query)
    return [Suggestion(customer_id=i, name=n, why="same_email") for i, n in rows]


async def _by_phone(session: AsyncSession, e164: str) -> list[Suggestion]:
    prefix = e164[:-SIMILAR_PHONE_DIGITS]
    low, high = prefix + "0" * SIMILAR_PHONE_DIGITS, prefix + "9" * SIMILAR_PHONE_DIGITS
    query = (
        select(Customer.id, Customer.name, func.min(CustomerPhone.e164))
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164.between(low, high))
        .group_by(Customer.id)
        .order_by(Customer.id)
        .limit(MAX_SUGGESTIONS)
    )
    rows = await session.execute(query)
    return [
        Suggestion(customer_id=i, name=n, why="same_phone" if p == e164 else "similar_phone")
        for i, n, p in rows
    ]
