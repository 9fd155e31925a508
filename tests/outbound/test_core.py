"""The retry policy and the provider outcomes, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from app.consent.core import QuietHours
from app.outbound.core import (
    FINAL_DISPOSITIONS,
    RetryPolicy,
    last_digits,
    next_attempt_at,
    unreached_disposition,
)

SHANGHAI = "Asia/Shanghai"
POLICY = RetryPolicy()  # 3 tries, 2 h apart, quiet 21:00-09:00


def at(hour: int, minute: int = 0, day: int = 7) -> datetime:
    """A Shanghai wall-clock instant, in UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)


def test_an_unanswered_try_is_retried_two_hours_after_it_ended() -> None:
    assert next_attempt_at(POLICY, 1, "no_answer", at(10), SHANGHAI) == at(12)
    assert next_attempt_at(POLICY, 2, "busy", at(14, 30), SHANGHAI) == at(16, 30)
    assert next_attempt_at(POLICY, 1, None, at(10), SHANGHAI) == at(12)  # failed, no disposition


def test_three_tries_at_most() -> None:
    assert next_attempt_at(POLICY, 3, "no_answer", at(10), SHANGHAI) is None
    assert next_attempt_at(RetryPolicy(max_attempts=1), 1, "busy", at(10), SHANGHAI) is None


def test_no_retry_after_reached_wrong_number_or_do_not_call() -> None:
    for disposition in ("reached", "wrong_number", "do_not_call"):
        assert next_attempt_at(POLICY, 1, disposition, at(10), SHANGHAI) is None


def test_a_retry_falling_in_quiet_hours_waits_for_their_end() -> None:
    assert next_attempt_at(POLICY, 1, "no_answer", at(20), SHANGHAI) == at(9, day=8)
    assert next_attempt_at(POLICY, 1, "busy", at(1), SHANGHAI) == at(9)
    assert next_attempt_at(POLICY, 1, "busy", at(19), SHANGHAI) == at(9, day=8)  # 21:00 is quiet
    assert next_attempt_at(POLICY, 1, "busy", at(6, 59), SHANGHAI) == at(9)
    assert next_attempt_at(POLICY, 1, "busy", at(7), SHANGHAI) == at(9)  # 09:00 is not quiet


def test_the_end_of_quiet_hours_is_read_in_the_customers_zone() -> None:
    ended = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai, 09:00 in New York
    assert next_attempt_at(POLICY, 1, "busy", ended, "America/New_York") == ended + timedelta(
        hours=2
    )
    assert next_attempt_at(POLICY, 1, "busy", ended, SHANGHAI) == at(9, day=8)


def test_without_quiet_hours_the_gap_alone_counts() -> None:
    none = RetryPolicy(quiet_hours=QuietHours(time(0), time(0)))
    assert next_attempt_at(none, 1, "busy", at(22), SHANGHAI) == at(0, day=8)


def test_provider_outcomes() -> None:
    assert unreached_disposition("busy", answered=False) == (True, "busy")
    assert unreached_disposition("no-answer", answered=False) == (True, "no_answer")
    assert unreached_disposition("failed", answered=False) == (True, None)
    assert unreached_disposition("completed", answered=False) == (True, "no_answer")
    assert unreached_disposition("completed", answered=True) == (False, None)
    assert unreached_disposition("in-progress", answered=True) == (False, None)


def test_the_agent_sees_the_last_four_digits_only() -> None:
    assert last_digits("+8613800138000") == "8000"
    assert last_digits(None) is None
    assert last_digits("") is None


instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from([SHANGHAI, "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
dispositions = st.sampled_from([None, "no_answer", "busy", "reached", "wrong_number"])
clock = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(
    instants,
    zones,
    dispositions,
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(0, 600),
    clock,
    clock,
)
def test_a_scheduled_retry_is_never_early_never_quiet_and_never_after_the_last_try(
    ended: datetime,
    zone: str,
    disposition: str | None,
    attempt: int,
    max_attempts: int,
    gap_minutes: int,
    quiet_start: time,
    quiet_end: time,
) -> None:
    quiet = QuietHours(quiet_start, quiet_end)
    policy = RetryPolicy(max_attempts, timedelta(minutes=gap_minutes), quiet)
    due = next_attempt_at(policy, attempt, disposition, ended, zone)
    if disposition in FINAL_DISPOSITIONS or attempt >= max_attempts:
        assert due is None
        return
    assert due is not None
    assert due >= ended + policy.gap
    assert not quiet.holds(due.astimezone(ZoneInfo(zone)).time())
    if not quiet.holds((ended + policy.gap).astimezone(ZoneInfo(zone)).time()):
        assert due == ended + policy.gap
