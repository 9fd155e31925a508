"""Orders, the shell: store one order idempotently, page a customer's orders, move them.

Every create or change rescores the customer at once, in the caller's unit of work
(``rescore_customers``): flushed, never committed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.models import Customer
from app.customers.value.models import CustomerValue
from app.customers.value.service import currency_rates, rescore_customers
from app.errors import Conflict, InvalidInput, NotFound
from app.orders.core import OrderRuleError, amount_in_cny, check_placed_at
from app.orders.models import Order
from app.orders.schemas import OrderIn
from app.pagination import decode_cursor, encode_cursor

Outcome = Literal["created", "updated", "unchanged"]
COMPARED = ("placed_at", "status", "items", "amount", "currency")
"""What makes a repeat of an order a change; ``shop`` and ``lines`` too when given."""


@dataclass(frozen=True, slots=True)
class Stored:
    order: Order
    outcome: Outcome


def _rule_error(error: OrderRuleError, data: OrderIn) -> InvalidInput:
    return InvalidInput(
        error.message, code=error.code, details={"order_id": data.order_id, "rule": error.code}
    )


async def _values(session: AsyncSession, data: OrderIn, now: datetime) -> dict[str, Any]:
    """The columns this order writes, checked against the rules (InvalidInput if not)."""
    try:
        check_placed_at(data.placed_at, now)
        cny = amount_in_cny(data.amount, data.currency, await currency_rates(session))
    except OrderRuleError as error:
        raise _rule_error(error, data) from error
    values: dict[str, Any] = {
        "placed_at": data.placed_at,
        "status": data.status,
        "items": data.items,
        "amount": data.amount,
        "currency": data.currency,
        "amount_cny": cny,
    }
    if data.shop is not None:
        values["shop"] = data.shop
    if data.lines is not None:
        values["lines"] = [line.model_dump(mode="json") for line in data.lines]
    return values


def _changed(order: Order, values: dict[str, Any]) -> bool:
    compared = [*COMPARED, *(k for k in ("shop", "lines") if k in values)]
    return any(getattr(order, key) != values[key] for key in compared)


async def _blocked(session: AsyncSession, customer_id: int) -> bool:
    reason = await session.scalar(
        select(CustomerValue.blocked_reason).where(CustomerValue.customer_id == customer_id)
    )
    return reason is not None


async def store_order(
    session: AsyncSession, customer_id: int, data: OrderIn, *, now: datetime
) -> Stored:
    """Create the order, update it when its content changed, or leave it as it is.

    NotFound: no such customer. Conflict ``order_of_another_customer``: this source's
    order id belongs to someone else. Conflict ``customer_blocked``: a blocked customer
    places a new order (changes of their existing orders still apply). InvalidInput: a
    rule of ``app.orders.core`` (``placed_in_future``, ``unknown_currency``, …).
    """
    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.", details={"customer_id": customer_id})
    values = await _values(session, data, now)
    key = (data.source, data.order_id)
    order = await session.scalar(
        select(Order).where(tuple_(Order.source, Order.external_id) == key).with_for_update()
    )
    if order is None:
        if await _blocked(session, customer_id):
            raise Conflict(
                f"Customer {customer_id} is blocked and cannot place new orders.",
                code="customer_blocked",
                details={"customer_id": customer_id},
            )
        inserted = await session.scalar(
            insert(Order)
            .values(
                source=data.source, external_id=data.order_id, customer_id=customer_id, **values
            )
            .on_conflict_do_nothing(index_elements=["source", "external_id"])
            .returning(Order.id)
        )
        if inserted is None:  # a concurrent request stored it first: treat as a repeat
            return await store_order(session, customer_id, data, now=now)
        order = await session.get_one(Order, inserted)
        outcome: Outcome = "created"
    elif order.customer_id != customer_id:
        raise Conflict(
            f"Order {data.order_id} of {data.source} belongs to another customer.",
            code="order_of_another_customer",
            details={"source": data.source, "order_id": data.order_id},
        )
    elif _changed(order, values):
        for column, value in values.items():
            setattr(order, column, value)
        await session.flush()
        outcome = "updated"
    else:
        return Stored(order, "unchanged")
    await rescore_customers(session, [customer_id], now=now)
    await session.refresh(order)
    return Stored(order, outcome)


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    key = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(key[0]), int(key[1])
    except (IndexError, TypeError, ValueError) as exc:
        raise InvalidInput("The cursor is not one this API issued.") from exc


async def orders_page(
    session: AsyncSession, customer_id: int, cursor: str | None, limit: int
) -> tuple[list[Order], str | None]:
    """Up to ``limit`` orders newest first (by ``placed_at``, then id) after ``cursor``."""
    query = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(tuple_(Order.placed_at, Order.id) < _parse_cursor(cursor))
    rows = list(await session.scalars(query))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].placed_at.isoformat(), rows[-1].id)


async def move_orders(session: AsyncSession, into_id: int, from_id: int) -> int:
    """Give ``from_id``'s orders to ``into_id`` (a merge); how many moved."""
    moved = await session.execute(
        update(Order).where(Order.customer_id == from_id).values(customer_id=into_id)
    )
    return int(moved.rowcount)  # type: ignore[attr-defined]
