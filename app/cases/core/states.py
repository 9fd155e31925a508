"""The case state machine: which changes are allowed, and what a customer's new message
does to a case.

``new → open → pending_customer → resolved → closed``; ``reopened`` when the customer
writes again within the reopen period after resolution. ``closed`` is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

State = Literal["new", "open", "pending_customer", "resolved", "closed", "reopened"]
STATES: tuple[State, ...] = ("new", "open", "pending_customer", "resolved", "closed", "reopened")
OPEN_STATES: tuple[State, ...] = ("new", "open", "pending_customer", "reopened")

TRANSITIONS: dict[State, frozenset[State]] = {
    "new": frozenset({"open", "pending_customer", "resolved", "closed"}),
    "open": frozenset({"pending_customer", "resolved"}),
    "pending_customer": frozenset({"open", "resolved"}),
    "resolved": frozenset({"closed", "reopened"}),
    "reopened": frozenset({"open", "pending_customer", "resolved"}),
    "closed": frozenset(),
}


class InvalidTransition(Exception):
    def __init__(self, current: State, wanted: State) -> None:
        super().__init__(f"A {current} case cannot become {wanted}.")
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(TRANSITIONS[current])


def check_transition(current: State, wanted: State) -> None:
    """Raise ``InvalidTransition`` unless ``current → wanted`` is allowed."""
    if wanted not in TRANSITIONS[current]:
        raise InvalidTransition(current, wanted)


@dataclass(frozen=True, slots=True)
class CustomerWrote:
    """What a new message of the customer does: ``state`` to change to (None: stays), or
    ``refused`` with a reason (``closed``, ``resolved_too_long_ago``)."""

    state: State | None = None
    refused: str | None = None


def on_customer_wrote(
    state: State, resolved_at: datetime | None, now: datetime, reopen_within: timedelta
) -> CustomerWrote:
    """A pending case goes back to ``open``; a case resolved at most ``reopen_within`` ago
    is ``reopened``; a case resolved longer ago, or closed, does not take the message (a
    new case does)."""
    if state == "pending_customer":
        return CustomerWrote("open")
    if state == "resolved":
        if resolved_at is not None and now - resolved_at <= reopen_within:
            return CustomerWrote("reopened")
        return CustomerWrote(refused="resolved_too_long_ago")
    if state == "closed":
        return CustomerWrote(refused="closed")
    return CustomerWrote()
