"""A customer's value at a past moment, from their orders: pure, for what-if replays.

The shell reads a customer's orders once; ``summary_as_of`` aggregates them as of any
moment exactly as the evaluation's SQL does (``OrderSummary``), and ``tags_as_of`` scores
that with the scorer (``evaluate``) into the tags routing weighs (``routing_tags``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .calendar import months_before
from .rules import ValueRules
from .scorer import OrderSummary, PriorValue, standing, tags_of, vip_holds

SALE_STATUSES = frozenset({"paid", "completed"})


@dataclass(frozen=True, slots=True)
class OrderFact:
    """One order as the scorer counts it: when, its status, items and amount in CNY."""

    placed_at: datetime  # aware
    status: str
    items: int
    amount_cny: Decimal


def summary_as_of(orders: Sequence[OrderFact], as_of: datetime, rules: ValueRules) -> OrderSummary:
    """The customer's figures at ``as_of`` (aware, in the shop's time zone): the orders
    placed by then, the window being the ``window_months`` calendar months up to it."""
    window_start = months_before(as_of, rules.window_months)
    sales = items = orders_in_window = earlier_sales = 0
    amount = Decimal(0)
    last_sale_at: datetime | None = None
    first_sale_at: datetime | None = None
    for order in orders:
        if order.placed_at > as_of:
            continue
        sale = order.status in SALE_STATUSES
        in_window = order.placed_at >= window_start
        orders_in_window += in_window
        if not sale:
            continue
        if first_sale_at is None or order.placed_at < first_sale_at:
            first_sale_at = order.placed_at
        if not in_window:
            earlier_sales += 1
            continue
        sales += 1
        items += order.items
        amount += order.amount_cny
        if last_sale_at is None or order.placed_at > last_sale_at:
            last_sale_at = order.placed_at
    return OrderSummary(
        sales=sales,
        items=items,
        amount=amount,
        last_sale_at=last_sale_at,
        orders_in_window=orders_in_window,
        earlier_sales=earlier_sales,
        first_sale_at=first_sale_at,
    )


def tags_as_of(
    orders: Sequence[OrderFact],
    as_of: datetime,
    rules: ValueRules,
    *,
    value_class: str,
    segments: tuple[str, ...] = (),
    blocked: bool = False,
) -> tuple[str, ...]:
    """The routing tags of a customer at ``as_of`` under ``rules``.

    Graded as by a full evaluation (never ``status:new``); VIP when the rule holds at
    ``as_of`` (no earlier grant is carried); ``value_class`` and ``segments`` are given.
    """
    summary = summary_as_of(orders, as_of, rules)
    status, _, grade = standing(summary, PriorValue(blocked=blocked), as_of, rules)
    if blocked:
        return tags_of(grade, status, False, "normal", segments)
    return tags_of(grade, status, vip_holds(summary, rules), value_class, segments)
