"""A circuit breaker: stop calling a provider that keeps failing, try again after a pause.

A pure state machine: the caller passes the time in, so tests drive it without sleeping.

* **closed**: requests go through; ``failure_threshold`` consecutive failures open it.
* **open**: requests are refused at once until ``cool_down_seconds`` have passed.
* **half-open**: one probe request goes through. Its success closes the breaker, its
  failure opens it for another cool-down. A probe whose outcome never comes back (the caller
  was cancelled) does not wedge the breaker: after a cool-down another probe is allowed.
"""

from __future__ import annotations

from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5, cool_down_seconds: float = 30.0) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cool_down_seconds < 0:
            raise ValueError("cool_down_seconds must not be negative")
        self.failure_threshold = failure_threshold
        self.cool_down_seconds = cool_down_seconds
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_started_at: float | None = None

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def state(self, now: float) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if now - self._opened_at >= self.cool_down_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self, now: float) -> bool:
        """May a request go out now? In half-open state this takes the single probe slot."""
        match self.state(now):
            case BreakerState.CLOSED:
                return True
            case BreakerState.OPEN:
                return False
        if (
            self._probe_started_at is not None
            and now - self._probe_started_at < self.cool_down_seconds
        ):
            return False  # a probe is out already
        self._probe_started_at = now
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_started_at = None

    def record_failure(self, now: float) -> None:
        self._failures += 1
        self._probe_started_at = None
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = now  # a failed probe (or the threshold reached) opens it anew
