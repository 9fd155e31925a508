"""Business hours and holidays: is a queue open at a given instant? Pure, time passed in.

Holidays come from the ``holidays`` package. China moves working days onto weekends around
long holidays (调休); on such a make-up working day the queue keeps Monday's hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

Span = tuple[time, time]


@dataclass(frozen=True, slots=True)
class BusinessHours:
    timezone: str = "Asia/Shanghai"
    weekly: dict[int, tuple[Span, ...]] = field(default_factory=dict)  # ISO weekday -> spans
    holiday_country: str | None = None
    closed_days: frozenset[date] = frozenset()
    open_days: frozenset[date] = frozenset()  # extra working days, Monday's hours


@lru_cache(maxsize=64)
def _calendar(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=year)


def working_weekday(
    day: date,
    holiday_country: str | None,
    closed_days: frozenset[date] = frozenset(),
    open_days: frozenset[date] = frozenset(),
) -> int | None:
    """The ISO weekday whose hours apply on ``day``: None on a day closed by hand or a
    public holiday, Monday (1) on a day opened by hand or a make-up working day (调休),
    otherwise the day's own weekday."""
    if day in closed_days:
        return None
    if day in open_days:
        return 1
    if holiday_country is not None:
        calendar = _calendar(holiday_country, day.year)
        if day in calendar:
            return None
        if day in getattr(calendar, "weekend_workdays", ()):
            return 1
    return day.isoweekday()


def _hours_for(hours: BusinessHours, day: date) -> tuple[Span, ...]:
    weekday = working_weekday(day, hours.holiday_country, hours.closed_days, hours.open_days)
    return () if weekday is None else hours.weekly.get(weekday, ())


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether ``at`` (timezone-aware) falls in an opening span [start, end) local time."""
    local = at.astimezone(ZoneInfo(hours.timezone))
    now = local.time()
    return any(start <= now < end for start, end in _hours_for(hours, local.date()))
