"""The consent rules, directly: no database, the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.consent.core import (
    CHANNELS,
    Decision,
    FrequencyCap,
    QuietHours,
    Touch,
    decide,
    may_record,
    valid_pair,
    zone_for,
)

SHANGHAI = "Asia/Shanghai"
ZONES = ("Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC")
QUIET = QuietHours()
CAP = FrequencyCap()
GRANTED_ALL = {(c, p): "granted" for c in CHANNELS for p in ("service", "marketing")}

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
touches = st.builds(
    Touch,
    channel=st.sampled_from(["voice", "sms", "email"]),
    purpose=st.sampled_from(["service", "marketing"]),
)
statuses = st.sampled_from(["granted", "refused", None])
consents = st.dictionaries(
    st.tuples(
        st.sampled_from(["voice", "sms", "email"]), st.sampled_from(["service", "marketing"])
    ),
    st.sampled_from(["granted", "refused"]),
)
clock_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
quiet_hours = st.builds(QuietHours, start=clock_times, end=clock_times)
caps = st.builds(
    FrequencyCap,
    max_touches=st.integers(1, 3),
    window=st.integers(1, 14).map(lambda d: timedelta(days=d)),
)


def _at(local: str, zone: str = SHANGHAI) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _decide(touch: Touch, now: datetime, **kw: object) -> Decision:
    args: dict[str, object] = {
        "consents": GRANTED_ALL,
        "do_not_contact": False,
        "quiet_hours": QUIET,
        "customer_tz": SHANGHAI,
        "frequency_cap": CAP,
        "recent_touches": [],
    }
    args.update(kw)
    return decide(touch, now=now, **args)  # type: ignore[arg-type]


# ---------------------------------------------------------------- examples


def test_service_is_allowed_unless_refused_marketing_needs_granted() -> None:
    noon = _at("2026-03-02T12:00")
    call = Touch("voice", "service")
    assert decide(call, {}, False, QUIET, SHANGHAI, CAP, [], noon).allowed
    refused = decide(call, {("voice", "service"): "refused"}, False, QUIET, SHANGHAI, CAP, [], noon)
    assert (refused.allowed, refused.reason, refused.next_allowed_at) == (False, "refused", None)
    ad = Touch("email", "marketing")
    unknown = decide(ad, {}, False, QUIET, SHANGHAI, CAP, [], noon)
    assert (unknown.allowed, unknown.reason) == (False, "no_marketing_consent")
    assert decide(
        ad, {("email", "marketing"): "granted"}, False, QUIET, SHANGHAI, CAP, [], noon
    ).allowed


def test_do_not_contact_blocks_even_a_service_email() -> None:
    decision = _decide(Touch("email", "service"), _at("2026-03-02T12:00"), do_not_contact=True)
    assert (decision.allowed, decision.reason, decision.next_allowed_at) == (
        False,
        "do_not_contact",
        None,
    )


def test_quiet_hours_across_midnight_in_the_customers_zone() -> None:
    call = Touch("voice", "service")
    late = _decide(call, _at("2026-03-02T22:30"))
    assert (late.allowed, late.reason) == (False, "quiet_hours")
    assert late.next_allowed_at == _at("2026-03-03T09:00")
    early = _decide(call, _at("2026-03-03T08:59"))
    assert early.next_allowed_at == _at("2026-03-03T09:00")
    assert _decide(call, _at("2026-03-03T09:00")).allowed
    assert not _decide(call, _at("2026-03-03T21:00")).allowed
    # 14:00 in Shanghai is 02:00 in New York: quiet for a New Yorker
    ny = _decide(call, _at("2026-03-03T14:00"), customer_tz="America/New_York")
    assert ny.next_allowed_at == _at("2026-03-03T09:00", "America/New_York")


def test_email_is_not_held_by_quiet_hours() -> None:
    assert _decide(Touch("email", "service"), _at("2026-03-02T23:00")).allowed


def test_marketing_cap_then_quiet_hours_give_the_next_time() -> None:
    touched = _at("2026-03-01T20:30")
    ad = Touch("sms", "marketing")
    capped = _decide(ad, _at("2026-03-05T12:00"), recent_touches=[touched])
    assert capped.reason == "frequency_cap"
    # the window ends 2026-03-08 20:30, still before quiet hours: that is the next time
    assert capped.next_allowed_at == _at("2026-03-08T20:30")
    late = _decide(ad, _at("2026-03-05T12:00"), recent_touches=[_at("2026-03-01T21:30")])
    # the window would end at 21:30 local, in quiet hours: the next morning
    assert late.next_allowed_at == _at("2026-03-09T09:00")
    service = _decide(Touch("sms", "service"), _at("2026-03-05T12:00"), recent_touches=[touched])
    assert service.allowed


def test_recording_unless_refused() -> None:
    assert may_record({})
    assert may_record({("voice", "call_recording"): "granted"})
    assert not may_record({("voice", "call_recording"): "refused"})
    assert valid_pair("voice", "call_recording")
    assert not valid_pair("email", "call_recording")
    assert not valid_pair("fax", "service")


@pytest.mark.parametrize(
    ("own", "phones", "zone"),
    [
        ("Europe/Paris", ["+8613800138000"], "Europe/Paris"),
        (None, ["+4930901820"], "Europe/Berlin"),
        (None, ["+12125550100"], "America/New_York"),
        (None, [], "Asia/Shanghai"),
        (None, ["not a number"], "Asia/Shanghai"),
    ],
)
def test_the_customers_zone(own: str | None, phones: list[str], zone: str) -> None:
    assert zone_for(own, phones, "Asia/Shanghai") == zone


# ---------------------------------------------------------------- properties


@given(touches, consents, st.booleans(), quiet_hours, st.sampled_from(ZONES), caps, instants)
def test_refused_is_never_allowed_whatever_the_time(
    touch: Touch,
    given_consents: dict[tuple[str, str], str],
    dnc: bool,
    quiet: QuietHours,
    zone: str,
    cap: FrequencyCap,
    now: datetime,
) -> None:
    refused = {**given_consents, (touch.channel, touch.purpose): "refused"}
    decision = decide(touch, refused, dnc, quiet, zone, cap, [], now)
    assert not decision.allowed
    assert decision.next_allowed_at is None


@given(
    touches,
    consents,
    quiet_hours,
    st.sampled_from(ZONES),
    caps,
    instants,
    st.lists(st.integers(0, 20 * 24 * 60), max_size=5),
)
def test_the_next_allowed_time_is_itself_allowed(
    touch: Touch,
    given_consents: dict[tuple[str, str], str],
    quiet: QuietHours,
    zone: str,
    cap: FrequencyCap,
    now: datetime,
    minutes_ago: list[int],
) -> None:
    recent = [now - timedelta(minutes=m) for m in minutes_ago]
    decision = decide(touch, given_consents, False, quiet, zone, cap, recent, now)
    if decision.allowed or decision.next_allowed_at is None:
        return
    later = decision.next_allowed_at
    assert later > now
    again = decide(touch, given_consents, False, quiet, zone, cap, recent, later)
    assert again.allowed, (decision, again)


@given(quiet_hours, st.sampled_from(ZONES), instants)
def test_a_call_is_allowed_exactly_outside_local_quiet_hours(
    quiet: QuietHours, zone: str, now: datetime
) -> None:
    call = Touch("voice", "service")
    decision = decide(call, {}, False, quiet, zone, CAP, [], now)
    local = now.astimezone(ZoneInfo(zone)).time()
    assert decision.allowed is not quiet.holds(local)


@given(clock_times, clock_times, clock_times)
def test_quiet_hours_across_midnight_are_the_complement_of_the_day(
    start: time, end: time, at: time
) -> None:
    if start == end:
        assert not QuietHours(start, end).holds(at)
    else:
        assert QuietHours(start, end).holds(at) is not QuietHours(end, start).holds(at)
