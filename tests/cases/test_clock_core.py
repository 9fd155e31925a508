"""The pure SLA core: business time on calendars, the clock's targets, pauses and cycles,
policy choice and the state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cases.core.calendar import (
    ALWAYS_OPEN,
    WorkCalendar,
    add_business,
    business_time,
    is_open_at,
)
from app.cases.core.policy import Policy, choose_policy, raised
from app.cases.core.sla import ClockFact, Fact, Target, Targets, sla_status
from app.cases.core.states import (
    STATES,
    TRANSITIONS,
    InvalidTransition,
    check_transition,
    on_customer_wrote,
)

WORKDAYS = WorkCalendar(
    timezone="Asia/Shanghai",
    weekly=dict.fromkeys(range(1, 6), ((540, 720), (780, 1080))),  # 09-12, 13-18
    holiday_country="CN",
    closed_days=frozenset({date(2026, 3, 11)}),
)
BERLIN = WorkCalendar(
    timezone="Europe/Berlin",
    weekly=dict.fromkeys(range(1, 8), ((0, 120), (600, 1440))),  # spans across DST jumps
    holiday_country=None,
)
CALENDARS = st.sampled_from([WORKDAYS, BERLIN, ALWAYS_OPEN])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 12, 20), max_value=datetime(2027, 1, 10), timezones=st.just(UTC)
)
AMOUNTS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


def shanghai(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))


# ------------------------------------------------------------------ calendars, by hand


def test_business_time_skips_nights_lunch_weekends_and_holidays() -> None:
    friday_5pm = shanghai(2026, 3, 6, 17, 0)
    monday_10am = shanghai(2026, 3, 9, 10, 0)
    assert business_time(WORKDAYS, friday_5pm, monday_10am) == timedelta(hours=2)
    # National Day week (a CN public holiday) is closed: 30 Sep 17:00 + 2 h is 8 Oct 10:00
    # (Sunday 11 Oct 2026 is a make-up working day; 1-7 Oct are holidays).
    due = add_business(WORKDAYS, shanghai(2026, 9, 30, 17, 0), timedelta(hours=2))
    assert due == shanghai(2026, 10, 8, 10, 0)
    # a day closed by hand
    assert add_business(WORKDAYS, shanghai(2026, 3, 10, 17, 0), timedelta(hours=2)) == (
        shanghai(2026, 3, 12, 10, 0)
    )
    # the lunch break is skipped
    assert add_business(WORKDAYS, shanghai(2026, 3, 9, 11, 0), timedelta(hours=2)) == (
        shanghai(2026, 3, 9, 14, 0)
    )


def test_an_amount_ending_at_closing_time_is_due_at_closing_time() -> None:
    due = add_business(WORKDAYS, shanghai(2026, 3, 9, 17, 0), timedelta(hours=1))
    assert due == shanghai(2026, 3, 9, 18, 0)


def test_a_calendar_that_never_opens_never_comes_due() -> None:
    closed = WorkCalendar(timezone="UTC", weekly={}, holiday_country=None)
    assert add_business(closed, datetime(2026, 1, 1, tzinfo=UTC), timedelta(minutes=1)) is None


# ------------------------------------------------------------------ calendars, properties


@settings(max_examples=150, deadline=None)
@given(CALENDARS, INSTANTS, AMOUNTS)
def test_due_time_is_never_inside_closed_hours(
    calendar: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    due = add_business(calendar, start, amount)
    assert due is not None
    if amount > timedelta(0):
        # just before the due instant the calendar is open: due lies in a span or at its end
        assert is_open_at(calendar, due - timedelta(microseconds=1))
    else:
        assert due == start


@settings(max_examples=150, deadline=None)
@given(CALENDARS, INSTANTS, AMOUNTS)
def test_adding_business_time_is_undone_by_measuring_it(
    calendar: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    due = add_business(calendar, start, amount)
    assert due is not None
    assert business_time(calendar, start, due) == amount


@settings(max_examples=150, deadline=None)
@given(CALENDARS, INSTANTS, AMOUNTS, AMOUNTS)
def test_adding_business_time_is_monotonic(
    calendar: WorkCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    small, large = sorted((a, b))
    first, second = add_business(calendar, start, small), add_business(calendar, start, large)
    assert first is not None
    assert second is not None
    assert first <= second


@settings(max_examples=150, deadline=None)
@given(CALENDARS, st.lists(INSTANTS, min_size=3, max_size=3))
def test_business_time_is_additive(calendar: WorkCalendar, instants: list[datetime]) -> None:
    a, b, c = sorted(instants)
    assert business_time(calendar, a, c) == business_time(calendar, a, b) + business_time(
        calendar, b, c
    )


# ------------------------------------------------------------------ the clock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TARGETS = Targets(first_response=HOUR, next_response=2 * HOUR, resolution=10 * HOUR)


def facts(*pairs: tuple[Fact, float]) -> list[ClockFact]:
    return [ClockFact(kind, T0 + timedelta(hours=h)) for kind, h in pairs]


def test_a_fresh_case_has_its_due_times_and_warnings_at_80_percent() -> None:
    status = sla_status(TARGETS, ALWAYS_OPEN, facts((Fact.CREATED, 0)), T0)
    first = status.latest(Target.FIRST_RESPONSE)
    assert first is not None
    assert first.due_at == T0 + HOUR
    assert first.warn_at == T0 + timedelta(minutes=48)
    assert not status.breached()
    assert status.due(T0) == []
    later = sla_status(TARGETS, ALWAYS_OPEN, facts((Fact.CREATED, 0)), T0 + 0.9 * HOUR)
    assert [(t.target, t.level) for t in later.due(T0 + 0.9 * HOUR)] == [
        (Target.FIRST_RESPONSE, "warning")
    ]


def test_a_response_in_time_stops_the_first_response_clock_unbreached() -> None:
    now = T0 + 5 * HOUR
    status = sla_status(TARGETS, ALWAYS_OPEN, facts((Fact.CREATED, 0), (Fact.RESPONDED, 1)), now)
    first = status.latest(Target.FIRST_RESPONSE)
    assert first is not None
    assert first.state == "stopped"
    assert not first.breached  # exactly at the due instant is on time
    assert [t.level for t in status.timers if t.target is Target.FIRST_RESPONSE] == ["warning"]


def test_a_late_response_keeps_the_breach_at_the_due_instant() -> None:
    now = T0 + 5 * HOUR
    status = sla_status(TARGETS, ALWAYS_OPEN, facts((Fact.CREATED, 0), (Fact.RESPONDED, 2)), now)
    assert status.breached(Target.FIRST_RESPONSE)
    breach = [t for t in status.due(now) if t.level == "breach"]
    assert [(t.target, t.due_at) for t in breach] == [(Target.FIRST_RESPONSE, T0 + HOUR)]


def test_pending_customer_pauses_the_clocks() -> None:
    history = facts((Fact.CREATED, 0), (Fact.PAUSED, 0.5), (Fact.RESUMED, 3.5))
    status = sla_status(TARGETS, ALWAYS_OPEN, history, T0 + 4 * HOUR)
    resolution = status.latest(Target.RESOLUTION)
    assert resolution is not None
    assert resolution.elapsed == timedelta(hours=1)
    assert resolution.due_at == T0 + 13 * HOUR  # 10 h of clock + 3 h paused
    paused = sla_status(TARGETS, ALWAYS_OPEN, history[:2], T0 + 2 * HOUR)
    clock = paused.latest(Target.RESOLUTION)
    assert clock is not None
    assert clock.state == "paused"
    assert clock.due_at is None


def test_each_customer_message_after_the_first_response_starts_a_next_response_cycle() -> None:
    history = facts(
        (Fact.CREATED, 0),
        (Fact.RESPONDED, 0.5),
        (Fact.CUSTOMER_WROTE, 1),
        (Fact.RESPONDED, 1.5),
        (Fact.CUSTOMER_WROTE, 2),
    )
    status = sla_status(TARGETS, ALWAYS_OPEN, history, T0 + 5 * HOUR)
    cycles = [c for c in status.clocks if c.target is Target.NEXT_RESPONSE]
    assert [(c.cycle, c.state, c.breached) for c in cycles] == [
        (1, "stopped", False),
        (2, "running", True),
    ]


def test_a_reopened_case_goes_on_counting_its_resolution_time() -> None:
    history = facts((Fact.CREATED, 0), (Fact.RESOLVED, 4), (Fact.REOPENED, 10))
    status = sla_status(TARGETS, ALWAYS_OPEN, history, T0 + 12 * HOUR)
    resolution = status.latest(Target.RESOLUTION)
    assert resolution is not None
    assert (resolution.cycle, resolution.state) == (0, "running")
    assert resolution.elapsed == timedelta(hours=6)
    assert resolution.due_at == T0 + 16 * HOUR


def test_closing_stops_every_clock() -> None:
    history = facts((Fact.CREATED, 0), (Fact.CLOSED, 0.5))
    status = sla_status(TARGETS, ALWAYS_OPEN, history, T0 + 48 * HOUR)
    assert {c.state for c in status.clocks} == {"stopped"}
    assert not status.breached()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(list(Fact)), max_size=12),
    st.lists(st.floats(min_value=0, max_value=30), min_size=13, max_size=13),
)
def test_the_clock_never_counts_more_than_the_time_that_passed(
    kinds: list[Fact], hours: list[float]
) -> None:
    moments = sorted(hours)
    history = [ClockFact(Fact.CREATED, T0)] + [
        ClockFact(kind, T0 + timedelta(hours=h)) for kind, h in zip(kinds, moments, strict=False)
    ]
    now = T0 + timedelta(hours=31)
    status = sla_status(TARGETS, ALWAYS_OPEN, history, now)
    for clock in status.clocks:
        assert timedelta(0) <= clock.elapsed <= now - clock.started_at
        assert clock.breached == (
            clock.elapsed > clock.allowed
            or (clock.state == "running" and clock.elapsed >= clock.allowed)
        )
    keys = [(t.target, t.cycle, t.level) for t in status.timers]
    assert len(keys) == len(set(keys))


# ------------------------------------------------------------------ policies


def test_the_most_specific_policy_wins() -> None:
    policies = [
        Policy("standard", TARGETS),
        Policy("vip", TARGETS, vip=True),
        Policy("complaint", TARGETS, case_type="complaint"),
        Policy("vip-complaint", TARGETS, case_type="complaint", vip=True),
        Policy("grade-p", TARGETS, grade="P"),
    ]

    def name(case_type: str, grade: str | None, vip: bool) -> str | None:
        chosen = choose_policy(policies, case_type, grade, vip)
        return None if chosen is None else chosen.name

    assert name("complaint", "P", True) == "vip-complaint"
    assert name("complaint", None, False) == "complaint"
    assert name("inquiry", "P", True) == "vip"
    assert name("inquiry", "P", False) == "grade-p"
    assert name("inquiry", None, False) == "standard"
    assert choose_policy(policies[1:2], "inquiry", None, False) is None


def test_escalation_raises_priority_and_never_lowers_it() -> None:
    assert raised("normal", "urgent") == "urgent"
    assert raised("urgent", "high") == "urgent"
    assert raised("low", None) == "low"


# ------------------------------------------------------------------ states


@given(st.sampled_from(STATES), st.sampled_from(STATES))
def test_only_listed_transitions_pass(current: str, wanted: str) -> None:
    if wanted in TRANSITIONS[current]:  # type: ignore[index]
        check_transition(current, wanted)  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, wanted)  # type: ignore[arg-type]


def test_closed_is_final_and_reopened_comes_only_from_resolved() -> None:
    assert TRANSITIONS["closed"] == frozenset()
    assert [s for s in STATES if "reopened" in TRANSITIONS[s]] == ["resolved"]


def test_a_customer_writing_reopens_within_the_period_only() -> None:
    resolved = T0
    week = timedelta(days=7)
    assert on_customer_wrote("resolved", resolved, T0 + timedelta(days=6), week).state == (
        "reopened"
    )
    late = on_customer_wrote("resolved", resolved, T0 + timedelta(days=8), week)
    assert (late.state, late.refused) == (None, "resolved_too_long_ago")
    assert on_customer_wrote("pending_customer", None, T0, week).state == "open"
    assert on_customer_wrote("closed", resolved, T0, week).refused == "closed"
    assert on_customer_wrote("open", None, T0, week).state is None
