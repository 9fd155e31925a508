"""The care scheduler's core: which touches the rules create on one day. Pure: the day, its
time zone, the rules and the customers' facts are passed in; the same input gives the same
touches in the same order.

Each trigger has an **anchor** date per customer (the local date of a sale, of ``vip_until``,
of ``vip_since``, of the last sale, the birthday in a year, the first day of a public
holiday); a rule fires on the day ``anchor + offset_days``. The **occurrence** names the
anchor (``order:345``, ``year:2026``, ``vip_until:2027-01-05``), so ``(rule, customer,
occurrence)`` identifies one touch however often the day is planned.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a rule reaches: every filter given must hold (within one, any value does);
    no filter at all is every customer."""

    grades: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    value_classes: frozenset[str] = frozenset()
    vip_only: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    trigger: str  # app.care.models.TRIGGERS
    offset_days: int
    audience: Audience = Audience()


@dataclass(frozen=True, slots=True)
class Sale:
    order_id: int
    external_id: str
    placed_at: datetime  # aware


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    customer_id: int
    birthday: date | None = None
    sales: tuple[Sale, ...] = ()
    vip_since: datetime | None = None
    vip_until: datetime | None = None
    last_sale_at: datetime | None = None
    grade: str | None = None
    segments: frozenset[str] = frozenset()
    value_class: str = "normal"
    status: str = "prospect"


@dataclass(frozen=True, slots=True)
class PlannedTouch:
    rule_key: str
    customer_id: int
    occurrence: str
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.rule_key, self.customer_id, self.occurrence)


INSTANT_OF: Mapping[str, str] = {
    "vip_expiry": "vip_until",
    "vip_granted": "vip_since",
    "dormant": "last_sale_at",
}
"""The triggers anchored on one instant of the customer's value, and which."""


def is_vip(facts: CustomerFacts, day: date, zone: ZoneInfo) -> bool:
    """VIP on ``day``: granted and not expired by that day's end."""
    if facts.vip_since is None:
        return False
    return facts.vip_until is None or facts.vip_until.astimezone(zone).date() >= day


def admits(audience: Audience, facts: CustomerFacts, day: date, zone: ZoneInfo) -> bool:
    if facts.status == "blocked":
        return False
    if audience.grades and facts.grade not in audience.grades:
        return False
    if audience.segments and not audience.segments & facts.segments:
        return False
    if audience.value_classes and facts.value_class not in audience.value_classes:
        return False
    return not audience.vip_only or is_vip(facts, day, zone)


def birthday_in(year: int, birthday: date) -> date:
    """The birthday celebrated in ``year``: 29 February is 28 February in common years."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def first_holiday_days(holidays: Mapping[date, str]) -> dict[date, str]:
    """The first day of each public holiday (National Day is 1 October, not each day of
    the golden week)."""
    return {
        day: name
        for day, name in sorted(holidays.items())
        if holidays.get(day - timedelta(days=1)) != name
    }


def _local(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def _anchored(
    rule: Rule, facts: CustomerFacts, anchor: date, zone: ZoneInfo, firsts: Mapping[date, str]
) -> Iterator[PlannedTouch]:
    """The rule's touches whose anchor is ``anchor`` (the day minus the offset)."""
    trigger, cid = rule.trigger, facts.customer_id
    if trigger == "after_sale":
        for sale in facts.sales:
            if _local(sale.placed_at, zone) == anchor:
                context = {"order": sale.external_id, "placed_on": anchor.isoformat()}
                yield PlannedTouch(rule.key, cid, f"order:{sale.order_id}", context)
    elif trigger == "birthday":
        born = facts.birthday
        if born is not None and birthday_in(anchor.year, born) == anchor:
            yield PlannedTouch(rule.key, cid, f"year:{anchor.year}")
    elif trigger == "holiday":
        name = firsts.get(anchor)
        if name is not None:
            context = {"holiday": name, "holiday_on": anchor.isoformat()}
            yield PlannedTouch(rule.key, cid, f"holiday:{anchor.isoformat()}", context)
    else:
        name = INSTANT_OF[trigger]
        instant: datetime | None = getattr(facts, name)
        if instant is not None and _local(instant, zone) == anchor:
            yield PlannedTouch(
                rule.key, cid, f"{name}:{anchor.isoformat()}", {name: anchor.isoformat()}
            )


def anchor_day(rule: Rule, day: date) -> date:
    """The anchor a rule looks for on ``day``."""
    return day - timedelta(days=rule.offset_days)


def plan_day(
    day: date,
    zone: ZoneInfo,
    rules: Iterable[Rule],
    customers: Iterable[CustomerFacts],
    holidays: Mapping[date, str] | None = None,
) -> list[PlannedTouch]:
    """Every touch the rules create on ``day`` (local to ``zone``), once per key, in key
    order. ``holidays``: the public holidays around ``day`` (date -> name)."""
    firsts = first_holiday_days(holidays or {})
    anchors = [(rule, anchor_day(rule, day)) for rule in rules]
    found: dict[tuple[str, int, str], PlannedTouch] = {}
    for facts in customers:
        for rule, anchor in anchors:
            touches = list(_anchored(rule, facts, anchor, zone, firsts))
            if touches and admits(rule.audience, facts, day, zone):
                for touch in touches:
                    found.setdefault(touch.key, touch)
    return [found[key] for key in sorted(found)]
