"""Consent, the pure core: may this touch reach this customer now, and if not, when.

No I/O and no clock: the customer's consents, do-not-contact flag, time zone, recent
touches and ``now`` are passed in, so every outbound path (care touches, campaigns, VIP
notices, callbacks) applies exactly the same rules, and a scheduler can retry at
``Decision.next_allowed_at``.

The rules, in the order they are checked (the first that blocks is the ``reason``):

1. ``do_not_contact``: the customer asked for no contact at all. Never allowed.
2. Consent of the touch's channel × purpose. A **service** touch is allowed unless that
   channel × service is ``refused`` (unknown counts as allowed: a callback the customer
   asked for, a delivery question). A **marketing** touch needs ``granted`` (unknown
   counts as no: opt-in). Reasons ``refused`` / ``no_marketing_consent``; never allowed
   until the consent changes.
3. Quiet hours in the customer's local time (default 21:00–09:00, across midnight), for
   the channels that interrupt (``voice``, ``sms``); an email waits in the inbox, so
   quiet hours do not hold it. Allowed again at the end of the quiet hours.
4. Frequency cap for marketing (default at most 1 marketing touch per 7 days, every
   channel counted together). Allowed again when the oldest touch counted leaves the
   window.

``next_allowed_at`` is the earliest instant at or after ``now`` at which rules 3 and 4
both pass (None when rule 1 or 2 blocks): it is itself allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezones

Channel = Literal["voice", "sms", "email"]
Purpose = Literal["service", "marketing", "call_recording"]
TouchPurpose = Literal["service", "marketing"]
Status = Literal["granted", "refused"]
StatusOrUnknown = Literal["granted", "refused", "unknown"]

CHANNELS: tuple[str, ...] = get_args(Channel)
PURPOSES: tuple[str, ...] = get_args(Purpose)
TOUCH_PURPOSES: tuple[str, ...] = get_args(TouchPurpose)
STATUSES: tuple[str, ...] = get_args(StatusOrUnknown)
QUIET_CHANNELS = frozenset({"voice", "sms"})
"""Channels that interrupt the customer: the ones quiet hours hold."""

Reason = Literal[
    "do_not_contact", "refused", "no_marketing_consent", "quiet_hours", "frequency_cap"
]
REASONS: tuple[str, ...] = get_args(Reason)
Consents = Mapping[tuple[str, str], str]
"""(channel, purpose) -> ``granted`` / ``refused``; a missing key is unknown."""


def purposes_of(channel: str) -> tuple[str, ...]:
    """The purposes a channel has consent for: ``call_recording`` only for voice."""
    return PURPOSES if channel == "voice" else TOUCH_PURPOSES


def valid_pair(channel: str, purpose: str) -> bool:
    return channel in CHANNELS and purpose in purposes_of(channel)


@dataclass(frozen=True, slots=True)
class Touch:
    """One outbound act: a call, an SMS, an email, for a service or marketing purpose."""

    channel: Channel
    purpose: TouchPurpose


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock hours in which interrupting channels stay silent: ``start``
    included, ``end`` excluded; ``start > end`` spans midnight; ``start == end`` is none."""

    start: time = time(21, 0)
    end: time = time(9, 0)
    channels: frozenset[str] = QUIET_CHANNELS

    def holds(self, local: time) -> bool:
        local = local.replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """The first end of quiet hours after ``instant`` (which lies in them), in UTC."""
        local = instant.astimezone(zone)
        candidate = datetime.combine(local.date(), self.end, tzinfo=zone)
        if candidate.replace(tzinfo=None) <= local.replace(tzinfo=None):
            candidate = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return max(candidate.astimezone(UTC), instant.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most ``max_touches`` marketing touches within any ``window``."""

    max_touches: int = 1
    window: timedelta = timedelta(days=7)

    def free_at(self, instant: datetime, touches: Sequence[datetime]) -> datetime:
        """The earliest instant at or after ``instant`` at which one more touch fits."""
        counted = sorted(t for t in touches if t > instant - self.window)
        if len(counted) < self.max_touches:
            return instant
        return counted[len(counted) - self.max_touches] + self.window


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """The center's settings the rules read (``CONTACTD_QUIET_HOURS_*``,
    ``CONTACTD_MARKETING_CAP_*``, ``CONTACTD_TIMEZONE``)."""

    quiet_hours: QuietHours = field(default_factory=QuietHours)
    frequency_cap: FrequencyCap = field(default_factory=FrequencyCap)
    default_zone: str = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason | None = None
    next_allowed_at: datetime | None = None
    """When ``allowed`` is False: the earliest instant it would be allowed (None: not
    until the customer's consent or do-not-contact flag changes). When True: ``now``."""


def _consent_block(touch: Touch, consents: Consents) -> Reason | None:
    status = consents.get((touch.channel, touch.purpose))
    if status == "refused":
        return "refused"
    if touch.purpose == "marketing" and status != "granted":
        return "no_marketing_consent"
    return None


def _first_free(
    touch: Touch,
    quiet_hours: QuietHours,
    zone: ZoneInfo,
    cap: FrequencyCap,
    touches: Sequence[datetime],
    now: datetime,
) -> tuple[datetime, Reason | None]:
    """The earliest instant >= now passing quiet hours and cap, and what blocks at now."""
    quiet = touch.channel in quiet_hours.channels
    capped = touch.purpose == "marketing"
    at = now
    first_reason: Reason | None = None
    for _ in range(8):  # quiet ends recur daily, the cap's end is fixed: this converges
        moved = at
        if quiet and quiet_hours.holds(moved.astimezone(zone).time()):
            moved = quiet_hours.end_after(moved, zone)
            first_reason = first_reason or "quiet_hours"
        if capped and cap.free_at(moved, touches) > moved:
            moved = cap.free_at(moved, touches)
            first_reason = first_reason or "frequency_cap"
        if moved == at:
            return at, first_reason
        at = moved
    return at, first_reason


def decide(
    touch: Touch,
    consents: Consents,
    do_not_contact: bool,
    quiet_hours: QuietHours,
    customer_tz: str,
    frequency_cap: FrequencyCap,
    recent_touches: Iterable[datetime],
    now: datetime,
) -> Decision:
    """Whether ``touch`` may reach the customer at ``now`` (aware), by the module's rules.

    ``recent_touches``: when the customer's marketing touches were made (any channel).
    """
    if do_not_contact:
        return Decision(False, "do_not_contact")
    blocked = _consent_block(touch, consents)
    if blocked is not None:
        return Decision(False, blocked)
    zone = ZoneInfo(customer_tz)
    at, reason = _first_free(
        touch, quiet_hours, zone, frequency_cap, list(recent_touches), now.astimezone(UTC)
    )
    if reason is None:
        return Decision(True, None, now)
    return Decision(False, reason, at)


def may_record(consents: Consents) -> bool:
    """A call may be recorded unless the customer refused ``voice`` × ``call_recording``
    (the greeting announces recording; refusing it is the customer's word)."""
    return consents.get(("voice", "call_recording")) != "refused"


def zone_for(customer_tz: str | None, phones: Sequence[str], default: str) -> str:
    """The customer's time zone: their own, else their first phone's (when its number
    lies in exactly one zone), else ``default`` (``CONTACTD_TIMEZONE``)."""
    if customer_tz:
        return customer_tz
    for e164 in phones[:1]:
        try:
            zones = phone_timezones.time_zones_for_number(phonenumbers.parse(e164))
        except phonenumbers.NumberParseException:
            continue
        if len(zones) == 1 and zones[0] != phone_timezones.UNKNOWN_TIMEZONE:
            return str(zones[0])
    return default
