"""Business time: how much of it lies between two instants, and when an amount of it ends.

A ``WorkCalendar`` opens on spans of minutes of the local day (``(540, 1080)`` is
09:00-18:00; 1440 is the day's end), per ISO weekday, in its time zone. Public holidays of
``holiday_country`` (the ``holidays`` package) and ``closed_days`` are closed; a make-up
working day (调休) and ``open_days`` keep Monday's hours (``app.routing.hours``).

Every instant in and out is timezone-aware; results are in UTC. Amounts are ``timedelta``
(microsecond-exact, so the arithmetic is additive without rounding).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from app.routing.hours import working_weekday

MinuteSpan = tuple[int, int]
DAY_MINUTES = 1440
HORIZON_DAYS = 3 * 366  # an amount not used up within three years never ends (None)
ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    timezone: str = "Asia/Shanghai"
    weekly: Mapping[int, tuple[MinuteSpan, ...]] = field(default_factory=dict)
    holiday_country: str | None = "CN"
    closed_days: frozenset[date] = frozenset()
    open_days: frozenset[date] = frozenset()


ALWAYS_OPEN = WorkCalendar(
    timezone="UTC", weekly=dict.fromkeys(range(1, 8), ((0, DAY_MINUTES),)), holiday_country=None
)


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Wall-clock ``minute`` of ``day`` in ``zone`` (1440: the next midnight), in UTC."""
    moment = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minute)
    return moment.astimezone(UTC)


def open_spans(calendar: WorkCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The calendar's opening spans on local ``day``, as UTC [start, end) pairs in order."""
    weekday = working_weekday(
        day, calendar.holiday_country, calendar.closed_days, calendar.open_days
    )
    if weekday is None:
        return []
    zone = _zone(calendar.timezone)
    spans = []
    for start, end in calendar.weekly.get(weekday, ()):
        a, b = _local_instant(day, start, zone), _local_instant(day, end, zone)
        if a < b:  # a span swallowed by a daylight-saving jump is no span
            spans.append((a, b))
    return spans


def _days_from(calendar: WorkCalendar, moment: datetime) -> Iterator[date]:
    day = moment.astimezone(_zone(calendar.timezone)).date() - timedelta(days=1)
    for _ in range(HORIZON_DAYS + 2):
        yield day
        day += timedelta(days=1)


def business_time(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Open time in [start, end); zero when ``end`` is not after ``start``."""
    if end <= start:
        return ZERO
    total = ZERO
    last_day = end.astimezone(_zone(calendar.timezone)).date() + timedelta(days=1)
    for day in _days_from(calendar, start):
        if day > last_day:
            break
        for a, b in open_spans(calendar, day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
    return total


def add_business(calendar: WorkCalendar, start: datetime, amount: timedelta) -> datetime | None:
    """The instant at which ``amount`` of open time counted from ``start`` is used up.

    Zero or less: ``start`` itself. Otherwise the instant lies in an opening span or at its
    closing end (never inside closed hours), and ``business_time(start, result) == amount``.
    None when the calendar does not open enough within ``HORIZON_DAYS``."""
    if amount <= ZERO:
        return start
    remaining = amount
    for day in _days_from(calendar, start):
        for a, b in open_spans(calendar, day):
            lo = max(a, start)
            if b <= lo:
                continue
            if b - lo >= remaining:
                return lo + remaining
            remaining -= b - lo
    return None


def is_open_at(calendar: WorkCalendar, moment: datetime) -> bool:
    """Whether ``moment`` lies in an opening span [start, end)."""
    local_day = moment.astimezone(_zone(calendar.timezone)).date()
    for day in (local_day - timedelta(days=1), local_day):
        if any(a <= moment < b for a, b in open_spans(calendar, day)):
            return True
    return False
