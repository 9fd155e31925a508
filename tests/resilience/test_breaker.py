"""The circuit breaker's state machine, with time passed in."""

from __future__ import annotations

import pytest

from app.resilience.breaker import BreakerState, CircuitBreaker


def test_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cool_down_seconds=10)
    for at in (0.0, 1.0):
        assert breaker.allow(at)
        breaker.record_failure(at)
        assert breaker.state(at) is BreakerState.CLOSED
    breaker.record_failure(2.0)
    assert breaker.state(2.0) is BreakerState.OPEN
    assert not breaker.allow(5.0)


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, cool_down_seconds=10)
    breaker.record_failure(0)
    breaker.record_success()
    breaker.record_failure(1)
    assert breaker.state(1) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 1


def test_half_open_lets_one_probe_through() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cool_down_seconds=10)
    breaker.record_failure(0)
    assert breaker.state(9.9) is BreakerState.OPEN
    assert breaker.state(10) is BreakerState.HALF_OPEN
    assert breaker.allow(10)
    assert not breaker.allow(10.5)  # the probe is still out


def test_probe_success_closes() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cool_down_seconds=10)
    breaker.record_failure(0)
    assert breaker.allow(12)
    breaker.record_success()
    assert breaker.state(12) is BreakerState.CLOSED
    assert breaker.allow(12)
    assert breaker.allow(12)


def test_probe_failure_opens_for_another_cool_down() -> None:
    breaker = CircuitBreaker(failure_threshold=3, cool_down_seconds=10)
    for at in (0, 0, 0):
        breaker.record_failure(at)
    assert breaker.allow(10)
    breaker.record_failure(11)  # one failed probe is enough, whatever the threshold
    assert breaker.state(11) is BreakerState.OPEN
    assert not breaker.allow(20.9)
    assert breaker.state(21) is BreakerState.HALF_OPEN
    assert breaker.allow(21)


def test_a_lost_probe_does_not_wedge_it() -> None:
    breaker = CircuitBreaker(failure_threshold=1, cool_down_seconds=10)
    breaker.record_failure(0)
    assert breaker.allow(10)  # this probe's caller never reports back
    assert not breaker.allow(15)
    assert breaker.allow(20)


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="cool_down"):
        CircuitBreaker(cool_down_seconds=-1)
