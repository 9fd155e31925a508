"""An agent looks a customer up for the contact they hold: "I called last week".

The search is narrow on purpose, so that it cannot be used to browse the customer base:

* it is made **for a contact** the agent holds (offered, assigned or in wrap-up; for a
  supervisor, one of their team's; an admin needs none), and audited as ``lookup`` with
  that contact, the key used (never its value) and the customers found;
* by **one exact key**: a phone number (any format, matched in E.164), an email address
  (normalized), an order number (``orders.external_id``, any source) or the whole name
  (case-insensitive, surrounding and repeated spaces ignored) — no partial matches;
* it answers at most ``MAX_RESULTS`` customers with only what the console's suggestions
  show: id, name, why they matched, the last four digits of a phone and a masked email (so
  the agent can ask the caller to confirm), and the value badges.

A customer found this way may then be linked to that contact by that agent
(``identity_ops.link_contact``, grounds ``looked_up``), within ``LINK_WINDOW``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.audit.service import View, record_view
from app.contacts.models import Contact
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.service import contact_points_of, parse_emails, parse_phones, values_of
from app.customers.value.schemas import Grade, ValueClass
from app.errors import InvalidInput
from app.orders.models import Order
from app.users.models import User

MAX_RESULTS = 5
LINK_WINDOW = timedelta(hours=1)
Key = Literal["phone", "email", "order_id", "name"]


class LookupResult(BaseModel):
    customer_id: int
    name: str
    why: Key
    phone_hint: str | None  # the last four digits of the first phone, e.g. "…8000"
    email_hint: str | None  # e.g. "z***@example.com"
    grade: Grade | None
    vip: bool
    value_class: ValueClass


def one_key(**given: str | None) -> tuple[Key, str]:
    """The single non-empty search key; ``InvalidInput`` when none or several are given."""
    used = [(key, value.strip()) for key, value in given.items() if value and value.strip()]
    if len(used) != 1:
        raise InvalidInput(
            "Give exactly one of phone, email, order_id or name.",
            details={"given": [key for key, _ in used]},
            code="one_key_needed",
        )
    key, value = used[0]
    assert key in ("phone", "email", "order_id", "name")
    return key, value  # type: ignore[return-value]


def normalized_name(name: str) -> str:
    return " ".join(name.split()).lower()


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _matching(key: Key, value: str, region: str) -> Select[int]:
    """The ids of the customers ``value`` matches as ``key`` (with repeats)."""
    match key:
        case "phone":
            e164 = parse_phones([value], region)[0].e164
            return select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164)
        case "email":
            address = parse_emails([value])[0]
            return select(CustomerEmail.customer_id).where(CustomerEmail.email == address)
        case "order_id":
            return select(Order.customer_id).where(Order.external_id == value)
        case "name":
            return select(Customer.id).where(func.lower(Customer.name) == normalized_name(value))


async def lookup(
    session: AsyncSession,
    user: User,
    contact: Contact | None,
    key: Key,
    value: str,
    region: str,
) -> list[LookupResult]:
    """The customers matching ``key`` exactly, for ``contact`` (already checked to be the
    user's to work on; ``None`` only for an admin); recorded in the session's transaction."""
    matching = _matching(key, value, region)
    found = (
        select(Customer.id)
        .where(Customer.id.in_(matching), Customer.erased_at.is_(None))
        .order_by(Customer.id)
    )
    found = found.limit(MAX_RESULTS)
    ids = list(await session.scalars(found))
    results = await _results(session, ids, key)
    record_view(
        session,
        View(
            actor_id=user.id,
            action="lookup",
            customer_id=None,
            via="search",
            contact_id=None if contact is None else contact.id,
            detail={"key": key, "results": ids},
        ),
    )
    return results


async def _results(session: AsyncSession, ids: list[int], why: Key) -> list[LookupResult]:
    if not ids:
        return []
    rows = await session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    names: dict[int, str] = {row.id: row.name for row in rows}
    phones, emails = await contact_points_of(session, ids)
    values = await values_of(session, ids)
    return [
        LookupResult(
            customer_id=customer_id,
            name=names[customer_id],
            why=why,
            phone_hint=f"…{phones[customer_id][0].e164[-4:]}" if phones[customer_id] else None,
            email_hint=mask_email(emails[customer_id][0]) if emails[customer_id] else None,
            grade=values[customer_id].grade if customer_id in values else None,
            vip=customer_id in values and values[customer_id].vip.active,
            value_class=values[customer_id].value_class if customer_id in values else "normal",
        )
        for customer_id in ids
    ]


async def was_looked_up(
    session: AsyncSession, user: User, contact_id: int, customer_id: int
) -> bool:
    """Did ``user`` find ``customer_id`` with a lookup for this contact within the window?"""
    since = datetime.now(UTC) - LINK_WINDOW
    found = await session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.actor_id == user.id,
            AuditEntry.action == "lookup",
            AuditEntry.allowed.is_(True),
            AuditEntry.contact_id == contact_id,
            AuditEntry.occurred_at >= since,
            AuditEntry.detail.contains({"results": [customer_id]}),
        )
        .limit(1)
    )
    return found is not None
