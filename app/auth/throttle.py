"""Failed sign-ins, counted per user and per client address: the pure rules.

A key (a username, or an address) that fails ``limit`` times within ``window_seconds`` is
locked for ``lockout_seconds``: every sign-in for it is refused at once (no password is
checked, so a locked key costs no hashing either), the right password included. A success
clears the user's count. The counts live in PostgreSQL (``SignInThrottle``), shared by
every instance; ``app.auth.service`` reads and writes them around these functions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    limit: int
    window_seconds: float
    lockout_seconds: float


@dataclass(frozen=True, slots=True)
class Attempts:
    """One key's failures: how many since ``window_started`` and, once over the limit,
    until when it is locked (epoch seconds)."""

    failures: int
    window_started: float
    locked_until: float | None = None


def seconds_locked(state: Attempts | None, now: float) -> float | None:
    """How long the key stays locked; None when it may try."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until - now


def after_failure(state: Attempts | None, policy: Policy, now: float) -> Attempts:
    """The key's attempts once one more failed at ``now``."""
    if state is None or now - state.window_started >= policy.window_seconds:
        state = Attempts(failures=0, window_started=now)
    failures = state.failures + 1
    locked_until = now + policy.lockout_seconds if failures >= policy.limit else None
    return Attempts(failures, state.window_started, locked_until)
