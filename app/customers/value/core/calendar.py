"""Calendar months, counted back from an evaluation date in the shop's time zone."""

from __future__ import annotations

import calendar
from datetime import datetime


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months earlier, the day clamped to the
    month's length (31 March minus one month is 28 or 29 February).

    ``moment`` should be aware and in the shop's time zone, so "a month" is the shop's.
    """
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def months_after(moment: datetime, months: int) -> datetime:
    return months_before(moment, -months)
