"""The screen-pop: everything an agent needs about a contact's customer, in one message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import fastjson
from app.cases.pop import open_cases_json
from app.cases.schemas import PopCase
from app.consent.schemas import ConsentFlags
from app.customers.enrichment import CrmEnricher, PendingLookup
from app.customers.history import (
    ITEM_JSON,
    POP_OPEN_ITEMS,
    POP_RECENT_ITEMS,
    items_from_json,
    open_params,
)
from app.customers.history_schemas import OutboundPop, ScreenPop, Suggestion
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.schemas import CustomerOut
from app.customers.value.schemas import value_json_sql
from app.database import driver_connection
from app.errors import NotFound
from app.outbound.attempts import OUTBOUND
from app.outbound.core import last_digits

MAX_SUGGESTIONS = 5
SIMILAR_PHONE_DIGITS = 2  # numbers differing only in their last two digits


VALUE_JSON = value_json_sql("cu.id")
CASES_JSON = open_cases_json("c.customer_id")

# One round trip: the contact, its customer (phones and emails in), and the pop's history
# (open cases first, then the most recent, each once, the contact itself left out).
POP_SQL = f"""
WITH c AS (SELECT * FROM contacts WHERE id = $3),
picked AS (
    (SELECT h.*, 0 AS pick FROM contacts h, c
     WHERE h.customer_id = c.customer_id AND h.id <> c.id
       AND (h.state = ANY($1::text[]) OR h.disposition = ANY($2::text[]))
     ORDER BY h.created_at DESC, h.id DESC LIMIT {POP_OPEN_ITEMS})
    UNION ALL
    (SELECT h.*, 1 AS pick FROM contacts h, c
     WHERE h.customer_id = c.customer_id AND h.id <> c.id
     ORDER BY h.created_at DESC, h.id DESC LIMIT {POP_RECENT_ITEMS})
),
chosen AS (
    SELECT * FROM (SELECT DISTINCT ON (id) * FROM picked ORDER BY id, pick) once
    ORDER BY pick, created_at DESC, id DESC LIMIT {POP_RECENT_ITEMS}
)
SELECT c.id, c.agent_id, c.channel, c.direction, c.customer_match, c.from_address,
       c.to_address, c.subject, c.attributes::text,
       c.queued_at, c.created_at, c.answered_at, c.offered_at,
       (SELECT json_build_object(
            'id', cu.id, 'name', cu.name, 'language', cu.language, 'value', {VALUE_JSON},
            'tags', cu.tags, 'attributes', cu.attributes, 'consent', cu.consent,
            'created_at', cu.created_at, 'updated_at', cu.updated_at,
            'phones', coalesce((
                SELECT json_agg(json_build_object(
                    'e164', p.e164, 'extension', p.extension, 'label', p.label) ORDER BY p.id)
                FROM customer_phones p WHERE p.customer_id = cu.id), '[]'::json),
            'emails', coalesce((
                SELECT json_agg(e.email ORDER BY e.id)
                FROM customer_emails e WHERE e.customer_id = cu.id), '[]'::json))
        FROM customers cu WHERE cu.id = c.customer_id) AS customer,
       {CASES_JSON} AS cases,
       (SELECT json_build_object(
            'do_not_contact', coalesce((SELECT cp.do_not_contact FROM contact_preferences cp
                                        WHERE cp.customer_id = c.customer_id), false),
            'refused', coalesce((
                SELECT json_agg(cc.channel || '/' || cc.purpose ORDER BY cc.channel, cc.purpose)
                FROM customer_consents cc
                WHERE cc.customer_id = c.customer_id AND cc.status = 'refused'), '[]'::json))
        WHERE c.customer_id IS NOT NULL) AS consent_flags,
       (SELECT coalesce(json_agg({ITEM_JSON} ORDER BY h.pick, h.created_at DESC, h.id DESC),
                        '[]'::json)
        FROM chosen h) AS history
FROM c
"""  # noqa: S608 (only constants are formatted in)


async def build_screen_pop(
    session: AsyncSession,
    contact_id: int,
    enricher: CrmEnricher | None = None,
    *,
    offered_to: int | None = None,
) -> ScreenPop | None:
    """The pop; None when ``offered_to`` is given and the contact is no longer that agent's
    (checked on the same row the pop is built from, so no second read)."""
    conn = await driver_connection(session)
    row = await conn.fetchrow(POP_SQL, *open_params(), contact_id)
    if row is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    if offered_to is not None and row["agent_id"] != offered_to:
        return None
    customer = None if row["customer"] is None else _customer(row["customer"])
    # The CRM answers while the pydantic models are built and the audit row is written.
    enrichment = _start_enrichment(enricher, None if customer is None else customer.id)
    suggestions: list[Suggestion] = []
    if customer is None:
        suggestions = await suggestions_for(session, row["from_address"])
    attributes = fastjson.loads(row["attributes"]) or {}
    return ScreenPop(
        contact_id=row["id"],
        channel=row["channel"],
        direction=row["direction"],
        outbound=_outbound(row["direction"], attributes, row["to_address"]),
        customer_match=row["customer_match"],
        customer=customer,
        suggestions=suggestions,
        from_address=row["from_address"],
        subject=row["subject"],
        ivr_inputs=attributes,
        waited_seconds=_waited(row),
        cases=[] if customer is None else _cases(row["cases"]),
        history=[] if customer is None else items_from_json(row["history"]),
        enrichment=None if enrichment is None else await enrichment.result(),
        consent_flags=_flags(row["consent_flags"]),
    )


def _outbound(direction: str, attributes: Mapping[str, Any], to: str | None) -> OutboundPop | None:
    details = attributes.get(OUTBOUND)
    if direction != "outbound" or not isinstance(details, dict):
        return None
    return OutboundPop(
        call_id=details["call_id"],
        attempt=details["attempt"],
        purpose=details["purpose"],
        script=details.get("script"),
        number_last_digits=last_digits(to),
    )


def _cases(raw: Any) -> list[PopCase]:
    return [PopCase.model_validate(item) for item in fastjson.decoded(raw) or []]


def _flags(raw: Any) -> ConsentFlags | None:
    return None if raw is None else ConsentFlags.model_validate(fastjson.decoded(raw))


def _customer(raw: Any) -> CustomerOut:
    return CustomerOut.model_validate(fastjson.decoded(raw))


def _waited(contact: Mapping[str, Any]) -> float:
    start = contact["queued_at"] or contact["created_at"]
    end = contact["answered_at"] or contact["offered_at"] or datetime.now(UTC)
    waited: float = (end - start).total_seconds()
    return round(max(waited, 0.0), 1)


def _start_enrichment(
    enricher: CrmEnricher | None, customer_id: int | None
) -> PendingLookup | None:
    """The CRM lookup, waited for at most the enricher's budget; a slower one goes on in
    the background and fills the cache for the next pop."""
    if enricher is None or customer_id is None:
        return None
    return enricher.start(customer_id)


async def suggestions_for(session: AsyncSession, address: str | None) -> list[Suggestion]:
    """Customers the unknown or ambiguous caller might be: same phone or email (several
    matched), or a phone differing only in its last digits (a switchboard, a typo)."""
    query = _suggestions_query(address)
    if query is None:
        return []
    rows = await session.execute(query.limit(MAX_SUGGESTIONS))
    return [Suggestion(customer_id=i, name=n, why=why) for i, n, why in rows]


async def is_suggested(session: AsyncSession, address: str | None, customer_id: int) -> bool:
    """Would this customer be suggested for a contact from ``address`` (same matching as
    ``suggestions_for``, whatever the number of other candidates)?"""
    query = _suggestions_query(address)
    if query is None:
        return False
    found = await session.execute(query.where(Customer.id == customer_id).limit(1))
    return found.first() is not None


def _suggestions_query(address: str | None) -> Select[int, str, str] | None:
    """(customer id, name, why) of the candidates for ``address``, by customer id; None
    when the address cannot suggest anyone."""
    if not address:
        return None
    if "@" in address:
        return _by_email(address.lower())
    if not address.startswith("+") or len(address) <= SIMILAR_PHONE_DIGITS + 4:
        return None
    return _by_phone(address)


def _by_email(email: str) -> Select[int, str, str]:
    return (
        select(Customer.id, Customer.name, literal_column("'same_email'", String()))
        .join(CustomerEmail, CustomerEmail.customer_id == Customer.id)
        .where(CustomerEmail.email == email)
        .order_by(Customer.id)
    )


def _by_phone(e164: str) -> Select[int, str, str]:
    prefix = e164[:-SIMILAR_PHONE_DIGITS]
    low, high = prefix + "0" * SIMILAR_PHONE_DIGITS, prefix + "9" * SIMILAR_PHONE_DIGITS
    same = func.bool_or(CustomerPhone.e164 == e164)
    return (
        select(
            Customer.id,
            Customer.name,
            case(
                (same, literal_column("'same_phone'", String())),
                else_=literal_column("'similar_phone'", String()),
            ),
        )
        .join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164.between(low, high))
        .group_by(Customer.id)
        .order_by(Customer.id)
    )
