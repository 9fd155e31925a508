"""The customer-value scorer: a customer's order figures in, grade, status and VIP out.

Pure and deterministic: no I/O and no clock; the evaluation date ``as_of`` (aware, in the
shop's time zone) and the rules are passed in. The shell aggregates orders in SQL into an
``OrderSummary`` per customer and stores the ``Evaluation`` it gets back.

Rules (defaults in ``ValueRules``; docs/customer-value.md has the worked example):

* The window is the ``window_months`` calendar months up to ``as_of``. Only paid and
  completed orders are sales.
* R scores the months since the last sale, F the number of sales, M their average value;
  ``score = 1·R + 3·F + 4·M`` and the grade is the first band the score reaches.
* A customer without a sale in the window has a status instead of a grade: ``no_sale``
  (ordered in the window, all cancelled or refunded), ``dormant`` (sales only before the
  window) or ``prospect`` (never bought). A customer whose first sale came after the last
  full evaluation is ``new``: figures shown, graded at the next full evaluation.
  ``blocked`` (set by an admin) overrides them all and holds no VIP.
* VIP is granted when the window's sales, items and amount all reach the rule; it holds
  for ``term_months`` from the grant whatever happens meanwhile. At the first evaluation
  after it expires it is renewed if the rule still holds, and lapses otherwise.
* Value classes rank the customers with a sale in the window by net sales (``classify``).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from math import ceil
from typing import Literal, TypeVar

from .calendar import months_after, months_before
from .rules import ValueRules

Status = Literal["graded", "new", "no_sale", "dormant", "prospect", "blocked"]
VipEvent = Literal["granted", "renewed", "lapsed"]
ValueClass = Literal["key", "major", "normal"]
_Number = TypeVar("_Number", int, Decimal)


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """A customer's orders as of the evaluation, amounts in CNY.

    ``sales``, ``items``, ``amount`` and ``last_sale_at`` cover the sales placed in the
    window; ``orders_in_window`` counts its orders of any status; ``earlier_sales`` the
    sales placed before it; ``first_sale_at`` is the customer's first sale ever.
    """

    sales: int = 0
    items: int = 0
    amount: Decimal = Decimal(0)
    last_sale_at: datetime | None = None
    orders_in_window: int = 0
    earlier_sales: int = 0
    first_sale_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PriorValue:
    """What the last evaluation left that this one builds on."""

    vip_since: datetime | None = None
    vip_until: datetime | None = None
    blocked: bool = False


@dataclass(frozen=True, slots=True)
class Rfm:
    r: int
    f: int
    m: int
    score: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    status: Status
    grade: str | None
    rfm: Rfm | None
    vip_since: datetime | None
    vip_until: datetime | None
    vip_event: VipEvent | None
    average_order: Decimal | None
    reason: str

    def vip_active(self, now: datetime) -> bool:
        return self.vip_until is not None and self.vip_until > now


def band(value: _Number, bands: tuple[tuple[_Number, int], ...]) -> int:
    """Points of the first ``(at_least, points)`` band that ``value`` reaches; 0 if none."""
    for at_least, points in bands:
        if value >= at_least:
            return points
    return 0


@lru_cache(maxsize=64)
def _recency_cutoffs(
    as_of: datetime, recency: tuple[tuple[int, int], ...]
) -> tuple[tuple[datetime, int], ...]:
    """Each band's earliest moment, worked out once per evaluation, not once a customer; in
    UTC, like the order times read from PostgreSQL (comparing datetimes of one time zone is
    some 30 times cheaper than across zones)."""
    return tuple(
        (months_before(as_of, months).astimezone(UTC), points) for months, points in recency
    )


def recency_points(last_sale_at: datetime, as_of: datetime, rules: ValueRules) -> int:
    """Points of the first ``(months, points)`` band whose months back reach the sale."""
    for cutoff, points in _recency_cutoffs(as_of, rules.recency):
        if last_sale_at >= cutoff:
            return points
    return 0


def grade_of(score: int, rules: ValueRules) -> str:
    for at_least, grade in rules.grades:
        if score >= at_least:
            return grade
    return rules.grades[-1][1]


@lru_cache(maxsize=64)
def _month_marks(later: datetime, count: int) -> list[datetime]:
    """``later`` minus 1..count calendar months, earliest first (for bisecting), in UTC."""
    return [months_before(later, months).astimezone(UTC) for months in range(count, 0, -1)]


def whole_months_between(earlier: datetime, later: datetime) -> int:
    """Full calendar months from ``earlier`` to ``later`` (0 when under a month)."""
    span = (later.year - earlier.year) * 12 + later.month - earlier.month + 1
    marks = _month_marks(later, max(span, 1))
    return len(marks) - bisect_left(marks, earlier)


def score(summary: OrderSummary, as_of: datetime, rules: ValueRules) -> Rfm | None:
    """R, F, M and the weighted score; None without a sale in the window."""
    if summary.sales <= 0 or summary.last_sale_at is None:
        return None
    average = summary.amount / summary.sales
    r = recency_points(summary.last_sale_at, as_of, rules)
    f = band(summary.sales, rules.frequency)
    m = band(average, rules.monetary)
    wr, wf, wm = rules.weights
    return Rfm(r=r, f=f, m=m, score=wr * r + wf * f + wm * m)


def vip_holds(summary: OrderSummary, rules: ValueRules) -> bool:
    rule = rules.vip
    return (
        summary.sales >= rule.min_sales
        and summary.items >= rule.min_items
        and summary.amount >= rule.min_amount
    )


def _vip(
    summary: OrderSummary, prior: PriorValue, as_of: datetime, rules: ValueRules, blocked: bool
) -> tuple[datetime | None, datetime | None, VipEvent | None]:
    was_vip = prior.vip_until is not None
    if blocked:
        return (None, None, "lapsed") if was_vip else (None, None, None)
    if prior.vip_until is not None and prior.vip_until > as_of:
        return prior.vip_since, prior.vip_until, None
    if vip_holds(summary, rules):
        until = months_after(as_of, rules.vip.term_months)
        if was_vip:
            return prior.vip_since, until, "renewed"
        return as_of, until, "granted"
    return (None, None, "lapsed") if was_vip else (None, None, None)


def _money(amount: Decimal) -> str:
    return f"¥{amount.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _ago(months: int) -> str:
    return "under a month ago" if months == 0 else f"{_plural(months, 'month')} ago"


def explain(summary: OrderSummary, status: Status, as_of: datetime, rules: ValueRules) -> str:
    """The evaluation in words, as the agent reads it on the screen-pop."""
    window = _plural(rules.window_months, "month")
    if status == "blocked":
        return "blocked"
    if summary.sales and summary.last_sale_at is not None:
        average = _money(summary.amount / summary.sales)
        last = _ago(whole_months_between(summary.last_sale_at, as_of))
        text = f"{_plural(summary.sales, 'order')} in {window}, {average} average, last {last}"
        return text + (" (first sale since the last evaluation)" if status == "new" else "")
    if status == "no_sale":
        orders = _plural(summary.orders_in_window, "order")
        return f"{orders} in {window}, all cancelled or refunded"
    if status == "dormant":
        return f"no sale in {window}; {_plural(summary.earlier_sales, 'sale')} before"
    return "no sale yet"


def standing(
    summary: OrderSummary,
    prior: PriorValue,
    as_of: datetime,
    rules: ValueRules,
    last_full_evaluation: datetime | None = None,
) -> tuple[Status, Rfm | None, str | None]:
    """Status, R/F/M and grade of one customer at ``as_of`` (``evaluate`` without VIP and
    the words)."""
    rfm = score(summary, as_of, rules)
    status: Status
    if prior.blocked:
        status = "blocked"
    elif rfm is not None:
        first, last_full = summary.first_sale_at, last_full_evaluation
        is_new = last_full is not None and first is not None and first > last_full
        status = "new" if is_new else "graded"
    elif summary.orders_in_window:
        status = "no_sale"
    elif summary.earlier_sales:
        status = "dormant"
    else:
        status = "prospect"
    grade = grade_of(rfm.score, rules) if rfm is not None and status == "graded" else None
    return status, rfm, grade


def evaluate(
    summary: OrderSummary,
    prior: PriorValue,
    as_of: datetime,
    rules: ValueRules,
    last_full_evaluation: datetime | None = None,
) -> Evaluation:
    """Grade, status and VIP of one customer at ``as_of``."""
    status, rfm, grade = standing(summary, prior, as_of, rules, last_full_evaluation)
    since, until, event = _vip(summary, prior, as_of, rules, prior.blocked)
    average = summary.amount / summary.sales if summary.sales else None
    return Evaluation(
        status=status,
        grade=grade,
        rfm=rfm,
        vip_since=since,
        vip_until=until,
        vip_event=event,
        average_order=average,
        reason=explain(summary, status, as_of, rules),
    )


def class_limits(ranked: int, rules: ValueRules) -> tuple[tuple[str, int], ...]:
    """The last rank of each class: ``ceil(share * ranked)``, computed exactly (0.07 · 100
    is 7, not the float 7.000000000000001 whose ceiling is 8)."""
    return tuple((name, ceil(Fraction(str(share)) * ranked)) for name, share in rules.value_classes)


def value_class(rank: int | None, limits: tuple[tuple[str, int], ...]) -> ValueClass:
    """The class of the customer ranked ``rank`` (1 = most net sales; ties broken by
    customer id by the caller). Unranked customers, with no sale in the window, are normal."""
    if rank is None:
        return "normal"
    for name, last_rank in limits:
        if rank <= last_rank:
            return name  # type: ignore[return-value]
    return "normal"


def routing_tags(
    evaluation: Evaluation, value_class_: str, segments: tuple[str, ...], now: datetime
) -> tuple[str, ...]:
    """What the router weighs: ``grade:P``, ``status:new``, ``vip``, ``class:key`` and
    ``segment:NAME`` (see ``value_priority`` in the routing document)."""
    vip = evaluation.vip_active(now)
    return tags_of(evaluation.grade, evaluation.status, vip, value_class_, segments)


def tags_of(
    grade: str | None, status: str, vip: bool, value_class_: str, segments: tuple[str, ...]
) -> tuple[str, ...]:
    """``routing_tags`` from their parts, in that order."""
    tags = []
    if grade is not None:
        tags.append(f"grade:{grade}")
    tags.append(f"status:{status}")
    if vip:
        tags.append("vip")
    tags.append(f"class:{value_class_}")
    tags.extend(f"segment:{name}" for name in segments)
    return tuple(tags)
