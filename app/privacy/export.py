"""The export's shell: reads one customer's data in pages and writes the document.

The document is written while it is sent, in a unit of work of its own (the request's is
committed and closed by then). Rows are read in pages by id, so memory holds one page
(and one contact with its messages) whatever the customer's history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.care.models import CareTouch
from app.cases.models import Case, CaseContact, CaseEvent, CaseNote
from app.channels.models import (
    Attachment,
    ChatSession,
    ChatTranscriptMail,
    Message,
    OutboundEmail,
)
from app.consent.models import ConsentHistory, ContactPreferences, CustomerConsent, TouchLog
from app.contacts.models import Contact, ContactEvent, ContactEventText
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.note_models import ContactNote
from app.customers.value.models import CustomerValue, CustomerValueChange
from app.database import Database
from app.ivr.models import IvrRun
from app.orders.models import Order
from app.outbound.models import OutboundAttempt, OutboundCall
from app.privacy import document
from app.surveys.models import CsatSurvey

PAGE = 200


async def _by_id(
    session: AsyncSession, model: Any, where: ColumnElement[bool]
) -> AsyncIterator[Any]:
    """Every row of ``model`` matching ``where``, in id order, one page at a time."""
    after = 0
    while True:
        page = list(
            await session.scalars(
                select(model).where(where, model.id > after).order_by(model.id).limit(PAGE)
            )
        )
        for found in page:
            yield found
        if len(page) < PAGE:
            return
        after = page[-1].id
        session.expunge_all()


async def _rows(
    session: AsyncSession, model: Any, where: ColumnElement[bool]
) -> AsyncIterator[Any]:
    async for found in _by_id(session, model, where):
        yield document.row(found)


async def _all(session: AsyncSession, model: Any, where: ColumnElement[bool]) -> list[Any]:
    return list(await session.scalars(select(model).where(where)))


async def _profile(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    phones = await _all(session, CustomerPhone, CustomerPhone.customer_id == customer.id)
    emails = await _all(session, CustomerEmail, CustomerEmail.customer_id == customer.id)
    return document.row(
        customer,
        phones=[document.row(p) for p in phones],
        emails=[document.row(e) for e in emails],
    )


async def _message(session: AsyncSession, message: Message) -> dict[str, Any]:
    attachments = await _all(session, Attachment, Attachment.message_id == message.id)
    delivery = await session.scalar(
        select(OutboundEmail).where(OutboundEmail.message_id == message.id)
    )
    return document.row(
        message,
        attachments=[document.row(a, href=document.attachment_href(a.id)) for a in attachments],
        delivery=None if delivery is None else document.row(delivery),
    )


async def _events(session: AsyncSession, contact_id: int) -> list[dict[str, Any]]:
    """The contact's events, each with its ``text`` (null: none) from beside the log."""
    texts = {
        t.event_id: t.body
        for t in await _all(session, ContactEventText, ContactEventText.contact_id == contact_id)
    }
    return [
        document.row(event, text=texts.get(event.id))
        async for event in _by_id(session, ContactEvent, ContactEvent.contact_id == contact_id)
    ]


async def _contact(session: AsyncSession, contact: Contact) -> dict[str, Any]:
    messages = [
        await _message(session, m)
        async for m in _by_id(session, Message, Message.contact_id == contact.id)
    ]
    chat = await session.scalar(select(ChatSession).where(ChatSession.contact_id == contact.id))
    return document.row(
        contact,
        messages=messages,
        notes=[r async for r in _rows(session, ContactNote, ContactNote.contact_id == contact.id)],
        events=await _events(session, contact.id),
        chat_session=None if chat is None else document.row(chat),
        chat_transcript_mails=[
            document.row(m)
            for m in await _all(
                session, ChatTranscriptMail, ChatTranscriptMail.contact_id == contact.id
            )
        ],
        ivr_runs=[
            document.row(r) for r in await _all(session, IvrRun, IvrRun.contact_id == contact.id)
        ],
    )


async def _contacts(session: AsyncSession, customer_id: int) -> AsyncIterator[dict[str, Any]]:
    async for contact in _by_id(session, Contact, Contact.customer_id == customer_id):
        yield await _contact(session, contact)


async def _cases(session: AsyncSession, customer_id: int) -> AsyncIterator[dict[str, Any]]:
    async for case in _by_id(session, Case, Case.customer_id == customer_id):
        links = await _all(session, CaseContact, CaseContact.case_id == case.id)
        yield document.row(
            case,
            contact_ids=[link.contact_id for link in links],
            notes=[r async for r in _rows(session, CaseNote, CaseNote.case_id == case.id)],
            timeline=[r async for r in _rows(session, CaseEvent, CaseEvent.case_id == case.id)],
        )


async def _csat(session: AsyncSession, customer_id: int) -> AsyncIterator[dict[str, Any]]:
    """The customer's surveys: by the customer at the time, or on one of their contacts."""
    mine = CsatSurvey.customer_id == customer_id
    theirs = CsatSurvey.contact_id.in_(select(Contact.id).where(Contact.customer_id == customer_id))
    async for row in _rows(session, CsatSurvey, mine | theirs):
        yield row


async def _one(session: AsyncSession, model: Any, where: ColumnElement[bool]) -> Any:
    found = await session.scalar(select(model).where(where))
    return None if found is None else document.row(found)


async def _sections(session: AsyncSession, customer: Customer) -> AsyncIterator[bytes]:
    cid = customer.id
    yield document.field("customer", await _profile(session, customer))
    consents = await _all(session, CustomerConsent, CustomerConsent.customer_id == cid)
    yield document.field("consent", [document.row(c) for c in consents])
    async for chunk in document.array_field(
        "consent_history", _rows(session, ConsentHistory, ConsentHistory.customer_id == cid)
    ):
        yield chunk
    preferences = await _one(session, ContactPreferences, ContactPreferences.customer_id == cid)
    yield document.field("contact_preferences", preferences)
    async for chunk in document.array_field(
        "touches", _rows(session, TouchLog, TouchLog.customer_id == cid)
    ):
        yield chunk
    async for chunk in document.array_field(
        "care_touches", _rows(session, CareTouch, CareTouch.customer_id == cid)
    ):
        yield chunk
    async for chunk in document.array_field(
        "outbound_calls", _rows(session, OutboundCall, OutboundCall.customer_id == cid)
    ):
        yield chunk
    calls = select(OutboundCall.id).where(OutboundCall.customer_id == cid)
    async for chunk in document.array_field(
        "outbound_attempts", _rows(session, OutboundAttempt, OutboundAttempt.call_id.in_(calls))
    ):
        yield chunk
    yield document.field(
        "value", await _one(session, CustomerValue, CustomerValue.customer_id == cid)
    )
    async for chunk in document.array_field(
        "value_changes",
        _rows(session, CustomerValueChange, CustomerValueChange.customer_id == cid),
    ):
        yield chunk
    async for chunk in document.array_field(
        "orders", _rows(session, Order, Order.customer_id == cid)
    ):
        yield chunk
    async for chunk in document.array_field("contacts", _contacts(session, cid)):
        yield chunk
    async for chunk in document.array_field("cases", _cases(session, cid)):
        yield chunk
    async for chunk in document.array_field("csat", _csat(session, cid)):
        yield chunk
    async for chunk in document.array_field(
        "audit", _rows(session, AuditEntry, AuditEntry.customer_id == cid)
    ):
        yield chunk


async def export_document(
    db: Database, customer_id: int, reason: str, generated_at: datetime
) -> AsyncIterator[bytes]:
    """The customer's export document, chunk by chunk, read in one unit of work."""
    async with db.unit_of_work() as session:
        customer = await session.get(Customer, customer_id)
        if customer is None:  # checked by the request; gone since
            return
        yield document.head(customer_id, reason, generated_at)
        async for chunk in _sections(session, customer):
            yield chunk
        yield document.END
