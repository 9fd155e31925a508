"""Who is this? Matching an arriving contact to a customer by phone or email.

Phones are compared in E.164 and emails normalized, so ``0086 138-0013-8000`` finds the
customer saved as ``+8613800138000``. The outcome and its confidence are stored on the
contact (``contacts.customer_match``):

* ``exact_phone`` / ``email``: exactly one customer has it;
* ``several``: more than one does (a family line, a shared inbox) — no customer is picked,
  the candidates go to the agent's screen-pop;
* ``created``: nobody had it, a new customer was created with it;
* ``unknown``: nothing usable to match on (withheld number, unparsable address).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.identity import InvalidEmail, InvalidPhone, normalize_email, normalize_phone
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.service import find_by_phone_or_email


@dataclass(frozen=True, slots=True)
class Match:
    customer_id: int | None
    how: str  # exact_phone | email | several | created | unknown
    candidates: list[int] = field(default_factory=list)
    e164: str | None = None
    email: str | None = None


def _phone(raw: str | None, region: str) -> str | None:
    if not raw:
        return None
    try:
        return normalize_phone(raw, region).e164
    except InvalidPhone:
        return None


def _email(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalize_email(raw)
    except InvalidEmail:
        return None


async def match_customer(
    session: AsyncSession,
    *,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
    language: str | None = None,
    region: str = "CN",
    create: bool = True,
) -> Match:
    """Find the customer reachable at ``phone`` or ``email``; create one if nobody is."""
    e164, address = _phone(phone, region), _email(email)
    for how, found in (
        ("exact_phone", await find_by_phone_or_email(session, e164=e164) if e164 else []),
        ("email", await find_by_phone_or_email(session, email=address) if address else []),
    ):
        if len(found) == 1:
            return Match(found[0], how, found, e164, address)
        if len(found) > 1:
            return Match(None, "several", found, e164, address)
    if not (e164 or address) or not create:
        return Match(None, "unknown", [], e164, address)
    customer = Customer(name=name or e164 or address or "", language=language)
    session.add(customer)
    await session.flush()
    if e164:
        session.add(CustomerPhone(customer_id=customer.id, e164=e164))
    if address:
        session.add(CustomerEmail(customer_id=customer.id, email=address))
    await session.flush()
    return Match(customer.id, "created", [customer.id], e164, address)
