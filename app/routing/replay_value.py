"""``--replay --value-rules``'s shell: the period's customers' orders, read once.

Re-grading is pure (``app.routing.replay_core.regraded_tags`` with the customer-value
scorer); this module reads what it needs: each customer's orders up to the period's end,
the value class each ranks in at the period's start under the candidate rules and under
those in force (as the daily full evaluation ranks: by sales in the window, ties by id),
and who is blocked.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import Contact
from app.customers.value.core.calendar import months_before
from app.customers.value.core.history import SALE_STATUSES, OrderFact
from app.customers.value.core.rules import ValueRules
from app.customers.value.core.scorer import class_limits, value_class
from app.customers.value.models import CustomerValue
from app.orders.models import Order
from app.routing.replay_core import CustomerOrders


def _period_customers(start: datetime, end: datetime) -> Select[Any]:
    return (
        select(Contact.customer_id)
        .where(
            Contact.created_at >= start,
            Contact.created_at < end,
            Contact.direction == "inbound",
            Contact.customer_id.is_not(None),
        )
        .distinct()
    )


async def period_customers(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    rules: ValueRules,
    in_force: ValueRules,
    zone: tzinfo,
) -> dict[int, CustomerOrders]:
    """The customers of the period's inbound contacts, as ``regraded_tags`` needs them
    (value classes under the candidate ``rules`` and under those ``in_force``)."""
    customers = _period_customers(start, end).scalar_subquery()
    orders: dict[int, list[OrderFact]] = defaultdict(list)
    rows = await session.execute(
        select(Order.customer_id, Order.placed_at, Order.status, Order.items, Order.amount_cny)
        .where(Order.customer_id.in_(customers), Order.placed_at < end)
        .order_by(Order.customer_id, Order.placed_at, Order.id)
    )
    for customer_id, placed_at, status, items, amount in rows:
        orders[customer_id].append(OrderFact(placed_at, status, items, amount))
    as_of = start.astimezone(zone)
    classes = await value_classes(session, customers, as_of, rules)
    classes_in_force = await value_classes(session, customers, as_of, in_force)
    blocked = set(
        await session.scalars(
            select(CustomerValue.customer_id).where(
                CustomerValue.customer_id.in_(customers), CustomerValue.blocked_reason.is_not(None)
            )
        )
    )
    ids = set(orders) | set(classes) | set(classes_in_force) | blocked
    return {
        customer_id: CustomerOrders(
            orders=tuple(orders.get(customer_id, ())),
            value_class_in_force=classes_in_force.get(customer_id, "normal"),
            value_class=classes.get(customer_id, "normal"),
            blocked=customer_id in blocked,
        )
        for customer_id in ids
    }


async def value_classes(
    session: AsyncSession, customers: object, as_of: datetime, rules: ValueRules
) -> dict[int, str]:
    """Every customer ranked by sales in the window up to ``as_of``; the value class of
    those in ``customers`` (a subquery of ids) under ``rules``' shares."""
    window_start = months_before(as_of, rules.window_months)
    sales = (
        select(Order.customer_id, func.sum(Order.amount_cny).label("amount"))
        .where(
            Order.status.in_(sorted(SALE_STATUSES)),
            Order.placed_at >= window_start,
            Order.placed_at <= as_of,
        )
        .group_by(Order.customer_id)
        .subquery()
    )
    ranked = select(
        sales.c.customer_id,
        func.row_number().over(order_by=(sales.c.amount.desc(), sales.c.customer_id)).label("rank"),
        func.count().over().label("ranked"),
    ).subquery()
    rows = list(
        await session.execute(
            select(ranked.c.customer_id, ranked.c.rank, ranked.c.ranked).where(
                ranked.c.customer_id.in_(customers)  # type: ignore[arg-type]
            )
        )
    )
    if not rows:
        return {}
    limits = class_limits(int(rows[0].ranked), rules)
    return {customer_id: value_class(int(rank), limits) for customer_id, rank, _ in rows}
