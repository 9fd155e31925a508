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


def _hours_for(hours: BusinessHours, day: date) -> tuple[Span, ...]:
    if day in hours.closed_days:
        return ()
    if day in hours.open_days:
        return hours.weekly.get(1, ())
    if hours.holiday_country is not None:
        calendar = _calendar(hours.holiday_country, day.year)
        if day in calendar:
            return ()
        if day in getattr(calendar, "weekend_workdays", ()):
            return hours.weekly.get(1, ())
    return hours.weekly.get(day.isoweekday(), ())


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether ``at`` (timezone-aware) falls in an opening span [start, end) local time."""
    local = at.astimezone(ZoneInfo(hours.timezone))
    now = local.time()
    return any(start <= now < end for start, end in _hours_for(hours, local.date()))
