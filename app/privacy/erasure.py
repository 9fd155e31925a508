"""Erasure of one customer's personal data, as a plan of redactions (pure data) and the
shell that runs it in the caller's unit of work.

Each ``Redaction`` names a kind of data, the table, what its columns become (or that the
rows go) and which rows are the customer's. The customer row stays as a tombstone
(``customers.erased_at``) and so do the rows that reports count (contacts, messages,
orders, cases, consent history), stripped of what identifies the person. ``contact_events``
is append-only (a trigger refuses UPDATE): nothing there is changed, and the answer counts
the events that still carry text written during a contact (see docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Delete, Select, Update, delete, func, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from app.care.models import CareTouch
from app.cases.models import Case, CaseNote
from app.channels.models import (
    Attachment,
    ChatSession,
    ChatTranscriptMail,
    Message,
    OutboundEmail,
)
from app.consent.models import ConsentHistory
from app.contacts.models import Contact, ContactEvent, ContactEventText
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.note_models import ContactNote
from app.customers.value.models import CustomerValue
from app.errors import Conflict, NotFound
from app.ivr.models import IvrRun
from app.orders.models import Order
from app.outbound.models import OutboundCall
from app.surveys.models import CsatSurvey

LEGACY_TEXT_KEYS = ("text", "digits", "error")
"""Payload keys that events written before ``contact_event_texts`` existed used for what a
person wrote or typed (consult texts, DTMF digits, a relay's error). Those rows stay as
they are in the append-only log; an erasure reports how many there are, per kind."""

Scope = Callable[[int], ColumnElement[bool]]

NOW: Any = object()
"""A redaction's value that stands for the time of the erasure."""


def _contacts_of(customer_id: int) -> Select[int]:
    return select(Contact.id).where(Contact.customer_id == customer_id)


def _messages_of(customer_id: int) -> Select[int]:
    return select(Message.id).where(Message.contact_id.in_(_contacts_of(customer_id)))


def _cases_of(customer_id: int) -> Select[int]:
    return select(Case.id).where(Case.customer_id == customer_id)


@dataclass(frozen=True, slots=True)
class Redaction:
    """One kind of personal data: rows of ``table`` in ``scope`` get ``values`` (or are
    deleted when ``values`` is None). ``only_if`` limits it to the rows that hold any."""

    kind: str
    table: type[Any]
    scope: Scope
    values: dict[str, Any] | None
    only_if: Callable[[], ColumnElement[bool]] | None = None

    def statement(self, customer_id: int, now: datetime) -> Update | Delete:
        """The statement for ``customer_id``; a value ``NOW`` becomes ``now``."""
        where = [self.scope(customer_id)]
        if self.only_if is not None:
            where.append(self.only_if())
        if self.values is None:
            return delete(self.table).where(*where)
        values = {k: now if v is NOW else v for k, v in self.values.items()}
        return update(self.table).where(*where).values(**values)


PLAN: tuple[Redaction, ...] = (
    Redaction("phones", CustomerPhone, lambda c: CustomerPhone.customer_id == c, None),
    Redaction("emails", CustomerEmail, lambda c: CustomerEmail.customer_id == c, None),
    Redaction(
        "contacts",
        Contact,
        lambda c: Contact.customer_id == c,
        {
            "from_address": None,
            "to_address": None,
            "subject": None,
            "attributes": {},
            "provider_ref": None,  # a Message-ID names the sender's domain
        },
    ),
    Redaction(
        "recording_links",
        Contact,
        lambda c: Contact.customer_id == c,
        {"recording_url": None},
        lambda: Contact.recording_url.is_not(None),
    ),
    Redaction(
        "messages",
        Message,
        lambda c: Message.contact_id.in_(_contacts_of(c)),
        {"body": "", "body_html": None, "meta": {}, "external_id": None},
    ),
    Redaction(
        "attachments", Attachment, lambda c: Attachment.message_id.in_(_messages_of(c)), None
    ),
    Redaction(
        "outbound_email_errors",
        OutboundEmail,
        lambda c: OutboundEmail.message_id.in_(_messages_of(c)),
        {"last_error": None},
        lambda: OutboundEmail.last_error.is_not(None),
    ),
    Redaction(
        "chat_visitors",
        ChatSession,
        lambda c: ChatSession.contact_id.in_(_contacts_of(c)),
        {"visitor_name": None, "visitor_email": None, "page_url": None},
    ),
    Redaction(
        "chat_transcript_mails",
        ChatTranscriptMail,
        lambda c: ChatTranscriptMail.contact_id.in_(_contacts_of(c)),
        None,
    ),
    Redaction(
        "event_texts",
        ContactEventText,
        lambda c: ContactEventText.contact_id.in_(_contacts_of(c)),
        {"body": "", "erased_at": NOW},
        lambda: ContactEventText.erased_at.is_(None),
    ),
    Redaction(
        "contact_notes",
        ContactNote,
        lambda c: ContactNote.contact_id.in_(_contacts_of(c)),
        {"body": ""},
    ),
    Redaction(
        "ivr_runs",
        IvrRun,
        lambda c: (IvrRun.customer_id == c) | IvrRun.contact_id.in_(_contacts_of(c)),
        {"caller": None, "state": {}},
    ),
    Redaction("order_lines", Order, lambda c: Order.customer_id == c, {"lines": None}),
    Redaction("cases", Case, lambda c: Case.customer_id == c, {"subject": ""}),
    Redaction("case_notes", CaseNote, lambda c: CaseNote.case_id.in_(_cases_of(c)), {"body": ""}),
    Redaction(
        "consent_notes",
        ConsentHistory,
        lambda c: ConsentHistory.customer_id == c,
        {"note": None, "form": None},
        lambda: ConsentHistory.note.is_not(None) | ConsentHistory.form.is_not(None),
    ),
    Redaction(
        "csat_comments",
        CsatSurvey,
        lambda c: (CsatSurvey.customer_id == c) | CsatSurvey.contact_id.in_(_contacts_of(c)),
        {"comment": None, "comment_erased_at": NOW},
        lambda: CsatSurvey.comment.is_not(None),
    ),
    Redaction(
        "outbound_scripts",
        OutboundCall,
        lambda c: OutboundCall.customer_id == c,
        {"script": None},
        lambda: OutboundCall.script.is_not(None),
    ),
    Redaction(
        "value_block_reasons",
        CustomerValue,
        lambda c: CustomerValue.customer_id == c,
        {"blocked_reason": None},
        lambda: CustomerValue.blocked_reason.is_not(None),
    ),
    Redaction(
        "care_touch_texts",
        CareTouch,
        lambda c: CareTouch.customer_id == c,
        {"rendered": None, "context": {}},
        lambda: CareTouch.rendered.is_not(None),
    ),
)
"""What an erasure changes, one statement per kind."""

TOMBSTONE: dict[str, Any] = {
    "name": "",
    "tags": [],
    "attributes": {},
    "consent": {},
    "birthday": None,
}
"""What the customer row keeps of the person: nothing but its id, language and times."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure did: rows changed or deleted per kind, and the events kept."""

    customer_id: int
    erased_at: datetime
    erased: dict[str, int]
    retained_events: dict[str, int]


async def erase_customer(session: AsyncSession, customer_id: int, now: datetime) -> Erasure:
    """Erase the customer's personal data everywhere in the session's transaction.

    Raises NotFound for an unknown customer and Conflict (``already_erased``) for one
    erased before. Flushes, never commits."""
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", details={"customer_id": customer_id})
    if customer.erased_at is not None:
        raise Conflict(
            f"Customer {customer_id} was erased already.",
            details={"customer_id": customer_id, "erased_at": customer.erased_at.isoformat()},
            code="already_erased",
        )
    erased = {"customer": 1}
    for redaction in PLAN:
        result = await session.execute(redaction.statement(customer_id, now))
        assert isinstance(result, CursorResult)
        erased[redaction.kind] = result.rowcount
    await session.execute(
        update(Customer).where(Customer.id == customer_id).values(**TOMBSTONE, erased_at=now)
    )
    await session.refresh(customer)
    return Erasure(customer_id, now, erased, await _retained_events(session, customer_id))


async def _retained_events(session: AsyncSession, customer_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(ContactEvent.kind, func.count())
        .where(
            ContactEvent.contact_id.in_(_contacts_of(customer_id)),
            ContactEvent.payload.has_any(array(LEGACY_TEXT_KEYS)),
        )
        .group_by(ContactEvent.kind)
    )
    return {kind: int(count) for kind, count in rows}
