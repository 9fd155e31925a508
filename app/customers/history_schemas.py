"""The customer 360 as the API and the agent console show it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.cases.schemas import PopCase
from app.consent.schemas import ConsentFlags
from app.customers.schemas import CustomerOut


class NoteOut(BaseModel):
    id: int
    author_id: int | None
    body: str
    created_at: datetime


class ExcerptLine(BaseModel):
    """One of the last lines of a chat or email thread, cut to ``EXCERPT_CHARS``."""

    seq: int
    author: str
    text: str


class HistoryItem(BaseModel):
    contact_id: int
    channel: str
    direction: str
    state: str
    open: bool  # still live, or left as a complaint / follow-up / promised callback
    created_at: datetime
    ended_at: datetime | None
    agent_id: int | None
    disposition: str | None
    subject: str | None
    recording_url: str | None
    notes: list[NoteOut]
    excerpt: list[ExcerptLine]


class Suggestion(BaseModel):
    customer_id: int
    name: str
    why: str  # same_phone | same_email | similar_phone


class OutboundPop(BaseModel):
    """What the agent previews of a call we place (docs/outbound.md): the purpose, the
    script to read (may be bilingual) and only the last digits of the number dialled."""

    call_id: int
    attempt: int
    purpose: str
    script: str | None
    number_last_digits: str | None


class ScreenPop(BaseModel):
    contact_id: int
    channel: str
    direction: str = "inbound"  # outbound: a call we place when the agent accepts
    outbound: OutboundPop | None = None  # set for an outbound contact
    customer_match: str  # exact_phone | email | several | created | provided | unknown
    customer: CustomerOut | None
    suggestions: list[Suggestion]  # for an unknown or ambiguous caller
    from_address: str | None
    subject: str | None
    ivr_inputs: dict[str, Any]
    waited_seconds: float
    cases: list[PopCase] = []  # the customer's open cases first, with their SLA state
    history: list[HistoryItem]  # open cases and complaints first, then the most recent
    enrichment: dict[str, Any] | None  # from the external CRM, when it answered in time
    consent_flags: ConsentFlags | None = None  # do-not-contact and refused consents
