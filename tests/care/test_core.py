"""The care scheduler's core, directly: no database, the day and the zone passed in."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.care.core import (
    Audience,
    CustomerFacts,
    Rule,
    Sale,
    admits,
    birthday_in,
    first_holiday_days,
    plan_day,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 15)
TRIGGERS = ("birthday", "after_sale", "vip_expiry", "vip_granted", "dormant", "holiday")
HOLIDAYS = {
    date(2026, 10, 1): "National Day",
    date(2026, 10, 2): "National Day",
    date(2026, 10, 3): "National Day",
    date(2026, 6, 19): "Dragon Boat Festival",
}


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def test_day7_after_a_sale_by_the_local_date() -> None:
    rule = Rule("day7", "after_sale", 7)
    # 23:30 UTC on 7 June is 07:30 on 8 June in Shanghai: that sale's day 7 is 15 June
    late = Sale(2, "B-2", datetime(2026, 6, 7, 23, 30, tzinfo=UTC))
    on_time = Sale(1, "A-1", at(date(2026, 6, 8)))
    other = Sale(3, "C-3", at(date(2026, 6, 7)))
    facts = CustomerFacts(12, sales=(on_time, late, other))
    touches = plan_day(DAY, SHANGHAI, [rule], [facts])
    assert [t.occurrence for t in touches] == ["order:1", "order:2"]
    assert touches[0].context == {"order": "A-1", "placed_on": "2026-06-08"}


def test_birthday_once_a_year_and_29_february_on_the_28th() -> None:
    rule = Rule("birthday", "birthday", 0)
    leapling = CustomerFacts(1, birthday=date(2000, 2, 29))
    assert [t.key for t in plan_day(date(2027, 2, 28), SHANGHAI, [rule], [leapling])] == [
        ("birthday", 1, "year:2027")
    ]
    assert plan_day(date(2028, 2, 28), SHANGHAI, [rule], [leapling]) == []
    assert len(plan_day(date(2028, 2, 29), SHANGHAI, [rule], [leapling])) == 1
    assert birthday_in(2026, date(1990, 6, 15)) == DAY


def test_vip_expiry_30_days_before_and_welcome_the_day_after() -> None:
    expiry = Rule("vip_expiry", "vip_expiry", -30)
    welcome = Rule("vip_welcome", "vip_granted", 1)
    facts = CustomerFacts(5, vip_since=at(DAY - timedelta(days=1)), vip_until=at(date(2026, 7, 15)))
    keys = [t.key for t in plan_day(DAY, SHANGHAI, [expiry, welcome], [facts])]
    assert keys == [
        ("vip_expiry", 5, "vip_until:2026-07-15"),
        ("vip_welcome", 5, "vip_since:2026-06-14"),
    ]


def test_holiday_on_its_first_day_only_and_for_the_audience() -> None:
    rule = Rule("holiday", "holiday", 0, Audience(vip_only=True))
    vip = CustomerFacts(1, vip_since=at(date(2026, 1, 1)))
    other = CustomerFacts(2)
    first = plan_day(date(2026, 10, 1), SHANGHAI, [rule], [vip, other], HOLIDAYS)
    assert [(t.customer_id, t.context["holiday"]) for t in first] == [(1, "National Day")]
    assert plan_day(date(2026, 10, 2), SHANGHAI, [rule], [vip], HOLIDAYS) == []
    assert first_holiday_days(HOLIDAYS) == {
        date(2026, 6, 19): "Dragon Boat Festival",
        date(2026, 10, 1): "National Day",
    }


def test_win_back_reaches_the_dormant_high_grades_only() -> None:
    rule = Rule("win_back", "dormant", 120, Audience(grades=frozenset({"P", "G"})))
    last = at(DAY - timedelta(days=120))
    gold = CustomerFacts(1, last_sale_at=last, grade="G")
    bronze = CustomerFacts(2, last_sale_at=last, grade="B")
    blocked = CustomerFacts(3, last_sale_at=last, grade="P", status="blocked")
    assert [t.customer_id for t in plan_day(DAY, SHANGHAI, [rule], [gold, bronze, blocked])] == [1]


# ---------------------------------------------------------------- properties

days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
around = st.dates(min_value=date(2025, 10, 1), max_value=date(2027, 3, 31))
moments = st.builds(at, around, st.integers(0, 23))
audiences = st.builds(
    Audience,
    grades=st.frozensets(st.sampled_from("PGSB"), max_size=2),
    segments=st.frozensets(st.sampled_from(["win-back", "vip"]), max_size=1),
    value_classes=st.frozensets(st.sampled_from(["key", "major", "normal"]), max_size=2),
    vip_only=st.booleans(),
)
rule_lists = st.lists(
    st.builds(
        Rule,
        key=st.sampled_from(["a", "b", "c", "d"]),
        trigger=st.sampled_from(TRIGGERS),
        offset_days=st.integers(-40, 40),
        audience=audiences,
    ),
    max_size=4,
    unique_by=lambda r: r.key,
)


@st.composite
def customers(draw: st.DrawFn) -> list[CustomerFacts]:
    found = []
    for customer_id in range(1, draw(st.integers(0, 12)) + 1):
        sales = draw(st.lists(moments, max_size=3))
        found.append(
            CustomerFacts(
                customer_id,
                birthday=draw(st.none() | st.dates(date(1950, 1, 1), date(2010, 12, 31))),
                sales=tuple(
                    Sale(customer_id * 10 + i, f"X-{i}", when) for i, when in enumerate(sales)
                ),
                vip_since=draw(st.none() | moments),
                vip_until=draw(st.none() | moments),
                last_sale_at=max(sales) if sales else None,
                grade=draw(st.none() | st.sampled_from("PGSB")),
                segments=draw(st.frozensets(st.sampled_from(["win-back", "vip"]), max_size=2)),
                value_class=draw(st.sampled_from(["key", "major", "normal"])),
                status=draw(st.sampled_from(["graded", "blocked", "dormant"])),
            )
        )
    return found


def expected(
    day: date, rules: list[Rule], people: list[CustomerFacts]
) -> set[tuple[str, int, str]]:
    """The touches by the rules' definition, read forwards: a rule fires where anchor plus
    offset is the day."""
    found = set()
    firsts = first_holiday_days(HOLIDAYS)
    for facts in people:
        for rule in rules:
            if not admits(rule.audience, facts, day, SHANGHAI):
                continue
            shift = timedelta(days=rule.offset_days)
            anchors: list[tuple[date, str]] = []
            if rule.trigger == "after_sale":
                anchors = [
                    (s.placed_at.astimezone(SHANGHAI).date(), f"order:{s.order_id}")
                    for s in facts.sales
                ]
            elif rule.trigger == "birthday" and facts.birthday is not None:
                anchors = [
                    (birthday_in(y, facts.birthday), f"year:{y}")
                    for y in (day.year - 1, day.year, day.year + 1)
                ]
            elif rule.trigger == "holiday":
                anchors = [(d, f"holiday:{d.isoformat()}") for d in firsts]
            else:
                name = {"vip_expiry": "vip_until", "vip_granted": "vip_since"}.get(
                    rule.trigger, "last_sale_at"
                )
                instant = getattr(facts, name)
                if instant is not None:
                    local = instant.astimezone(SHANGHAI).date()
                    anchors = [(local, f"{name}:{local.isoformat()}")]
            found |= {
                (rule.key, facts.customer_id, key)
                for anchor, key in anchors
                if anchor + shift == day
            }
    return found


@settings(max_examples=150, deadline=None)
@given(days, rule_lists, customers())
def test_exactly_the_touches_the_rules_define(
    day: date, rules: list[Rule], people: list[CustomerFacts]
) -> None:
    touches = plan_day(day, SHANGHAI, rules, people, HOLIDAYS)
    keys = [t.key for t in touches]
    assert len(keys) == len(set(keys)), "two touches with one key"
    assert set(keys) == expected(day, rules, people)


@settings(max_examples=50, deadline=None)
@given(days, rule_lists, customers(), st.randoms(use_true_random=False))
def test_deterministic_whatever_the_order(
    day: date, rules: list[Rule], people: list[CustomerFacts], rng: random.Random
) -> None:
    first = plan_day(day, SHANGHAI, rules, people, HOLIDAYS)
    shuffled = list(people)
    rng.shuffle(shuffled)
    again = plan_day(day, SHANGHAI, list(reversed(rules)), shuffled + shuffled, HOLIDAYS)
    assert again == first


@settings(max_examples=25, deadline=None)
@given(customers(), st.integers(-30, 30))
def test_each_sale_and_birthday_once_over_the_days(
    people: list[CustomerFacts], offset: int
) -> None:
    """Planning day after day over a year, a rule touches each sale once and each
    birthday once a year: no key comes back on a later day."""
    rules = [Rule("sale", "after_sale", offset), Rule("born", "birthday", offset)]
    people = [replace(facts, status="graded") for facts in people]
    seen: dict[tuple[str, int, str], date] = {}
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    day = start
    while day <= end:
        for touch in plan_day(day, SHANGHAI, rules, people):
            assert touch.key not in seen, (touch.key, seen.get(touch.key), day)
            seen[touch.key] = day
        day += timedelta(days=1)
    for facts in people:
        if facts.birthday is None:
            continue
        when = birthday_in(2026, facts.birthday) + timedelta(days=offset)
        assert (("born", facts.customer_id, "year:2026") in seen) == (start <= when <= end)
