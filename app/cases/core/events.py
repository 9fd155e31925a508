"""The case event log (timeline) and what its events mean for the SLA clock.

Events are appended, never changed. Their payloads carry ids and codes, never personal
data (a note's text lives in ``case_notes``; the event names the note).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from app.cases.core.sla import ClockFact, Fact

EventKind = Literal[
    "created",
    "state_changed",
    "note_added",
    "contact_linked",
    "owner_changed",
    "priority_changed",
    "queue_changed",
    "sla_warning",
    "sla_breach",
    "escalated",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)


@dataclass(frozen=True, slots=True)
class CaseEventView:
    kind: str
    at: datetime
    payload: Mapping[str, Any]


def _state_facts(old: str, new: str) -> list[Fact]:
    facts: list[Fact] = []
    if new == "pending_customer" and old != "pending_customer":
        facts += [Fact.RESPONDED, Fact.PAUSED]  # asking the customer is a response
    if old == "pending_customer" and new != "pending_customer":
        facts.append(Fact.RESUMED)
    if new == "resolved":
        facts.append(Fact.RESOLVED)
    elif new == "reopened":
        facts.append(Fact.REOPENED)
    elif new == "closed":
        facts.append(Fact.CLOSED)
    return facts


def _facts_of(event: CaseEventView) -> list[Fact]:
    payload = event.payload
    match event.kind:
        case "created":
            return [Fact.CREATED]
        case "state_changed":
            return _state_facts(str(payload.get("from")), str(payload.get("to")))
        case "note_added":
            return [Fact.RESPONDED] if payload.get("kind") == "reply" else []
        case "contact_linked":
            facts = []
            if payload.get("direction") == "inbound":
                facts.append(Fact.CUSTOMER_WROTE)
            if payload.get("direction") == "outbound" or payload.get("conversation"):
                facts.append(Fact.RESPONDED)
            return facts
    return []


def clock_facts(events: Iterable[CaseEventView]) -> list[ClockFact]:
    """The SLA clock's facts, in the log's order.

    * ``created`` starts the clocks.
    * A response: a note of kind ``reply``; a move to ``pending_customer`` (the agent asked
      the customer); linking an outbound contact, or a live conversation (``conversation``:
      a voice or chat contact an agent answered).
    * The customer wrote: linking an inbound contact.
    * ``pending_customer`` pauses the clocks and leaving it resumes them; ``resolved``,
      ``reopened`` and ``closed`` do what their names say.
    """
    return [ClockFact(kind, event.at) for event in events for kind in _facts_of(event)]
