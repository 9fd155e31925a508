"""The counting rule, pure: at most ``limit`` requests per key in each fixed window.

A window opens with a key's first request and lasts ``window_seconds``; the request that
finds ``limit`` already counted in it is refused until the window ends. Refused requests
count too, so hammering a closed key does not reopen it early. ``app.ratelimit.service``
applies the same rule in one SQL statement, so that instances share the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Limit:
    limit: int
    window_seconds: float


@dataclass(frozen=True, slots=True)
class Window:
    started: float  # epoch seconds
    count: int  # requests counted in it, this one included


def after_request(window: Window | None, limit: Limit, now: float) -> Window:
    """The key's window once a request arrived at ``now``."""
    if window is None or now - window.started >= limit.window_seconds:
        return Window(started=now, count=1)
    return Window(started=window.started, count=window.count + 1)


def retry_after(window: Window, limit: Limit, now: float) -> float | None:
    """Seconds until the key may ask again; None when this request is allowed."""
    if window.count <= limit.limit:
        return None
    return max(0.0, window.started + limit.window_seconds - now)


def expired_before(now: datetime, longest_window_seconds: float) -> datetime:
    """The cutoff for purging: a window that started before it has ended for every limit
    whose window is at most ``longest_window_seconds`` long, so its row counts for nothing
    (the key's next request would open a new window anyway)."""
    return now - timedelta(seconds=longest_window_seconds)
