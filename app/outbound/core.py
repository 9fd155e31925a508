"""Outbound calls, the pure core: dispositions, what a provider's outcome means, and when
(whether) the next attempt is due. No I/O, no clock: ``now`` and the customer's zone are
passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from app.consent.core import QuietHours

Disposition = Literal["reached", "no_answer", "busy", "wrong_number", "do_not_call"]
DISPOSITIONS: tuple[str, ...] = get_args(Disposition)
FINAL_DISPOSITIONS = frozenset({"reached", "wrong_number", "do_not_call"})
"""After these no attempt follows: the customer was reached, or must not be called."""
ORIGINS = ("api", "care", "campaign", "callback")
Origin = Literal["api", "care", "campaign", "callback"]

# What a provider's final call status means, when it means the customer was not reached.
# ``failed`` / ``canceled`` have no disposition of their own: tried again like no answer.
UNREACHED_STATUSES: dict[str, str | None] = {
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": None,
    "canceled": None,
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``max_attempts`` tries, the next ``gap`` after the previous one ended, never
    in the customer's quiet hours (``CONTACTD_OUTBOUND_*``)."""

    max_attempts: int = 3
    gap: timedelta = timedelta(hours=2)
    quiet_hours: QuietHours = field(default_factory=QuietHours)


def unreached_disposition(status: str, answered: bool) -> tuple[bool, str | None]:
    """(unreached, disposition) for a final provider status. ``completed`` after the
    customer answered is a conversation (not unreached; the agent disposes); ``completed``
    without an answer counts as no answer."""
    if status == "completed":
        return (False, None) if answered else (True, "no_answer")
    if status in UNREACHED_STATUSES:
        return True, UNREACHED_STATUSES[status]
    return False, None


def next_attempt_at(
    policy: RetryPolicy,
    attempt: int,
    disposition: str | None,
    ended_at: datetime,
    zone: str,
) -> datetime | None:
    """When attempt ``attempt + 1`` is due after attempt ``attempt`` ended at ``ended_at``
    (aware) with ``disposition`` (None: not reached, no disposition), or None when no
    attempt follows: a final disposition, or ``max_attempts`` used up.

    The instant is ``ended_at + gap`` moved to the end of the customer's quiet hours when
    it falls in them (voice is a channel quiet hours hold, unless configured otherwise)."""
    if disposition in FINAL_DISPOSITIONS or attempt >= policy.max_attempts:
        return None
    at = ended_at + policy.gap
    quiet = policy.quiet_hours
    tz = ZoneInfo(zone)
    if "voice" in quiet.channels and quiet.holds(at.astimezone(tz).time()):
        at = quiet.end_after(at, tz)
    return at


def last_digits(number: str | None, keep: int = 4) -> str | None:
    """The last ``keep`` digits of a phone number: what the agent is shown of it."""
    if not number:
        return None
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[-keep:] if digits else None


def disposition_at_end(given: str | None, answered: bool) -> str:
    """What a try whose contact ended with nobody settling it counts as: the agent's
    disposition if one was given, else ``reached`` when the customer answered (they talked)
    and ``no_answer`` when they did not (it is retried)."""
    if given is not None:
        return given
    return "reached" if answered else "no_answer"
