"""Calendar months, counted back from an evaluation date in the shop's time zone."""

from __future__ import annotations

import calendar
from datetime import datetime
from functools import lru_cache


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months earlier, the day clamped to the
    month's length (31 March minus one month is 28 or 29 February).

    ``moment`` should be aware and in the shop's time zone, so "a month" is the shop's.
    """
    year, month, day = _shifted(moment.year, moment.month, moment.day, months)
    return moment.replace(year=year, month=month, day=day)


@lru_cache(maxsize=8192)
def _shifted(year: int, month: int, day: int, months: int) -> tuple[int, int, int]:
    """The date ``months`` calendar months before, the day clamped (worked out once)."""
    index = year * 12 + (month - 1) - months
    shifted_year, shifted_month = divmod(index, 12)
    last_day = calendar.monthrange(shifted_year, shifted_month + 1)[1]
    return shifted_year, shifted_month + 1, min(day, last_day)


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)
