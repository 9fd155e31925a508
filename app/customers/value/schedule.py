"""When the daily full evaluation runs: pure, the clock passed in."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_run(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first ``at`` o'clock in ``zone`` strictly after ``now`` (aware)."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate
