"""Email conversations: storing what arrives, threading it, reopening, queueing replies.

Every function works in the caller's unit of work (flush, never commit). An inbound message
is claimed once by its Message-ID (a webhook receipt in the same transaction), so a message
delivered twice, by SMTP retry or by two recipients, is stored once.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.channels.email import mime
from app.channels.email.mime import ParsedEmail
from app.channels.email.schemas import EmailReplyIn, Outcome
from app.channels.models import Attachment, EntryPoint, Message, OutboundEmail, WebhookReceipt
from app.config import Settings
from app.contacts.access import authorize_contact
from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.identity import InvalidEmail, normalize_email
from app.customers.matching import match_customer
from app.customers.value.models import CustomerValue
from app.database import after_commit
from app.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from app.events.bus import EventBus
from app.queues.models import Queue
from app.routing import inbox
from app.routing.models import RoutingInbox
from app.routing.service import NewContact, enqueue
from app.users.models import User

PROVIDER = "email"
CHANNEL = "email"
OPEN_STATES = frozenset({"new", "ivr", "queued", "offered", "assigned"})
AGENT_STATES = frozenset({"assigned", "wrap_up"})  # an agent holds the conversation
CONSOLE_TEXT_CHARS = 4000  # the console gets this much of the body; the rest over HTTP
_MAX_REFERENCES = 20


class MalformedEmailError(InvalidInput):
    code = "malformed_email"


class AttachmentTooLargeError(PayloadTooLarge):
    code = "attachment_too_large"


class UnknownRecipient(NotFound):
    code = "unknown_recipient"


@dataclass(frozen=True, slots=True)
class Received:
    outcome: Outcome
    contact_id: int | None
    message_id: int | None


def parse(raw: bytes, settings: Settings) -> ParsedEmail:
    try:
        return mime.parse_email(raw, max_attachment_bytes=settings.max_attachment_bytes)
    except mime.AttachmentTooLarge as exc:
        raise AttachmentTooLargeError(
            f"An attachment is larger than {exc.limit} bytes.",
            details={"filename": exc.filename, "size": exc.size, "max_bytes": exc.limit},
        ) from exc
    except mime.MalformedEmail as exc:
        raise MalformedEmailError(f"Not a readable email: {exc}.") from exc


def normalize_address(address: str) -> str:
    return address.strip().strip("<>").strip().lower()


async def find_entry_point(
    session: AsyncSession, addresses: Iterable[str]
) -> tuple[EntryPoint, str] | None:
    """The first of ``addresses`` that is an email entry point, with its queue's name."""
    wanted = list(dict.fromkeys(normalize_address(a) for a in addresses if a))
    if not wanted:
        return None
    rows = (
        await session.execute(
            select(EntryPoint, Queue.name)
            .join(Queue, Queue.id == EntryPoint.queue_id)
            .where(EntryPoint.channel == CHANNEL, EntryPoint.address.in_(wanted))
        )
    ).all()
    found = {point.address: (point, name) for point, name in rows}
    return next((found[a] for a in wanted if a in found), None)


def event_key(message_id: str) -> str:
    """Message-IDs may be 998 characters; keys and provider_ref hold 255."""
    if len(message_id) <= 255:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


async def _claim(session: AsyncSession, key: str) -> bool:
    """True if this transaction is the first to see the message. A concurrent delivery of
    the same message waits here until the first commits, then sees it as a duplicate."""
    claimed = await session.scalar(
        pg_insert(WebhookReceipt)
        .values(provider=PROVIDER, event_key=key)
        .on_conflict_do_nothing()
        .returning(WebhookReceipt.event_key)
    )
    return claimed is not None


async def _settle_receipt(session: AsyncSession, key: str, contact_id: int | None) -> None:
    await session.execute(
        update(WebhookReceipt)
        .where(WebhookReceipt.provider == PROVIDER, WebhookReceipt.event_key == key)
        .values(contact_id=contact_id)
    )


async def _locked_contact(session: AsyncSession, contact_id: int) -> Contact | None:
    """The contact row, locked: its messages' ``seq`` and its reopening are serialized."""
    contact: Contact | None = await session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return contact


async def find_thread(session: AsyncSession, parsed: ParsedEmail) -> Contact | None:
    """The email conversation this message answers: by a Message-ID we stored (ours or the
    customer's), else by our ``[#<contact id>]`` token when the sender is the same person
    (a token alone is easy to type, an address we wrote to is not)."""
    ids = parsed.thread_ids[:100]
    if ids:
        contact_id = await session.scalar(
            select(Message.contact_id)
            .join(Contact, Contact.id == Message.contact_id)
            .where(Message.external_id.in_(ids), Contact.channel == CHANNEL)
            .order_by(Message.id.desc())
            .limit(1)
        )
        if contact_id is not None:
            return await _locked_contact(session, contact_id)
    token = parsed.ticket_id
    if token is None or token > 2**63 - 1:
        return None
    contact = await session.get(Contact, token)
    if (
        contact is None
        or contact.channel != CHANNEL
        or contact.from_address is None
        or contact.from_address.lower() != parsed.from_address
    ):
        return None
    return await _locked_contact(session, contact.id)


@dataclass(frozen=True, slots=True)
class _NewMessage:
    direction: str
    author: str
    body: str
    body_html: str | None = None
    external_id: str | None = None
    meta: dict[str, Any] | None = None
    agent_id: int | None = None


async def add_message(
    session: AsyncSession,
    contact_id: int,
    new: _NewMessage,
    attachments: Sequence[mime.ParsedAttachment] = (),
) -> Message:
    """Append a message to a contact whose row the caller holds (locked or just created)."""
    last = await session.scalar(
        select(func.coalesce(func.max(Message.seq), 0)).where(Message.contact_id == contact_id)
    )
    message = Message(
        contact_id=contact_id,
        seq=int(last or 0) + 1,
        direction=new.direction,
        author=new.author,
        agent_id=new.agent_id,
        body=new.body,
        body_html=new.body_html,
        external_id=new.external_id,
        meta=new.meta or {},
    )
    session.add(message)
    await session.flush()
    for item in attachments:
        session.add(
            Attachment(
                message_id=message.id,
                filename=item.filename,
                content_type=item.content_type[:255],
                size_bytes=item.size,
                sha256=item.sha256,
                inline=item.inline,
                content_id=item.content_id,
                content=item.content,
            )
        )
    await session.flush()
    return message


def _inbound_meta(parsed: ParsedEmail, entry_address: str, automatic: str | None) -> dict[str, Any]:
    return {
        "from": parsed.from_address,
        "from_name": parsed.from_name,
        "to": parsed.to,
        "cc": parsed.cc,
        "reply_to": parsed.reply_to,
        "subject": parsed.subject,
        "date": None if parsed.date is None else parsed.date.isoformat(),
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references[-_MAX_REFERENCES:],
        "entry_point": entry_address,
        "automatic": automatic,
        "message_id_derived": parsed.message_id_derived,
    }


def _announce(session: AsyncSession, bus: EventBus | None, message: Message) -> None:
    """Tell whoever shows the conversation (agent console) once the message is committed."""
    if bus is None:
        return
    payload = {
        "type": "message",
        "channel": CHANNEL,
        "message_id": message.id,
        "seq": message.seq,
        "direction": message.direction,
        "author": message.author,
    }
    after_commit(session, functools.partial(bus.publish, f"contact:{message.contact_id}", payload))


def holder_of(contact: Contact) -> int | None:
    """The agent holding the conversation now (assigned or in wrap-up), if any. Read it
    from the locked row, before a reopening clears ``agent_id``."""
    return contact.agent_id if contact.state in AGENT_STATES else None


def _tell_agent(
    session: AsyncSession,
    bus: EventBus | None,
    agent_id: int | None,
    message: Message,
    *,
    attachments: int = 0,
    reopened: bool = False,
) -> None:
    """Push an inbound email to the console of the agent who holds its conversation.

    Published on the agent's own topic ``agent:{id}``, after commit, like the chat service
    does for a visitor's line: the console numbers it (``seq``) and keeps it in the agent's
    outbox, so a reconnect resumes over it. The agent is read from the contact row this
    transaction holds locked, so it is the one who holds the conversation when the message
    commits. The other way round (the console following ``contact:{id}`` of each contact
    it holds) would need the console to subscribe and unsubscribe as contacts are assigned
    and ended, and a message arriving between an assignment and the subscription would be
    lost; here nothing is kept in step. ``reopened``: the contact was in wrap-up and this
    message put it back in the queue."""
    if bus is None or agent_id is None:
        return
    meta = message.meta or {}
    body = message.body or ""
    payload = {
        "type": "chat_message",
        "channel": CHANNEL,
        "contact_id": message.contact_id,
        "seq": message.seq,
        "message_id": message.id,
        "subject": meta.get("subject"),
        "from_address": meta.get("from"),
        "from_name": meta.get("from_name"),
        "text": body[:CONSOLE_TEXT_CHARS],
        "truncated": len(body) > CONSOLE_TEXT_CHARS,
        "attachments": attachments,
        "automatic": meta.get("automatic"),
        "reopened": reopened,
    }
    after_commit(session, functools.partial(bus.publish, f"agent:{agent_id}", payload))


async def requeue_contact(
    session: AsyncSession,
    contact: Contact,
    *,
    reason: str,
    fallback_queue: str,
    actor_id: int | None = None,
) -> RoutingInbox:
    """Put an ended contact back in line, keeping its original arrival time."""
    queue = await session.scalar(select(Queue.name).where(Queue.id == contact.queue_id))
    if queue is None:  # its queue was deleted since: the entry point's queue takes it
        queue = fallback_queue
        contact.queue_id = await session.scalar(select(Queue.id).where(Queue.name == queue))
    value_tags: list[str] = []
    if contact.customer_id is not None:
        value_tags = list(
            await session.scalar(
                select(CustomerValue.routing_tags).where(
                    CustomerValue.customer_id == contact.customer_id
                )
            )
            or ()
        )
    preferred = contact.attributes.get("preferred_agent_id")
    if not isinstance(preferred, int):
        preferred = contact.agent_id  # who handled the conversation before
    previous_state = contact.state
    now = datetime.now(UTC)
    contact.state = "queued"
    contact.agent_id = None
    contact.queued_at = now
    contact.offered_at = None
    contact.offer_deadline = None
    contact.ended_at = None
    contact.wrap_up_ended_at = None
    contact.abandoned_at = None
    contact.routing_step = 0
    record(
        session,
        "contact.reopened",
        contact_id=contact.id,
        actor_id=actor_id,
        payload={"reason": reason, "queue": queue, "previous_state": previous_state},
    )
    skills = [[s["skill"], s["level"]] for s in contact.required_skills] or None
    return await inbox.submit(
        session,
        "contact.enqueue",
        {
            "contact_id": contact.id,
            "queue": queue,
            "channel": contact.channel,
            "arrived_at": contact.created_at.timestamp(),
            "priority": contact.priority,
            "skills": skills,
            "value_tags": value_tags,
            "preferred_agent_id": preferred,
        },
        actor_id=actor_id,
    )


async def receive_email(
    session: AsyncSession,
    raw: bytes,
    settings: Settings,
    *,
    recipients: Sequence[str] = (),
    envelope_sender: str | None = None,
    bus: EventBus | None = None,
) -> Received:
    """Store one inbound email: a new contact, a message on its conversation (reopening it
    if it had ended), or a recorded auto-reply or loop that is never routed.

    ``recipients`` are the envelope recipients (SMTP) or an explicit override; without them
    the message's Delivered-To, To and Cc are searched for an entry point.
    ``envelope_sender`` is the SMTP MAIL FROM; empty means a bounce."""
    parsed = parse(raw, settings)
    candidates = recipients or [*parsed.delivered_to, *parsed.to, *parsed.cc]
    found = await find_entry_point(session, candidates)
    if found is None:
        raise UnknownRecipient("No email entry point among the recipients.")
    point, queue = found
    key = event_key(parsed.message_id)
    if not await _claim(session, key):
        existing = await session.scalar(
            select(WebhookReceipt.contact_id).where(
                WebhookReceipt.provider == PROVIDER, WebhookReceipt.event_key == key
            )
        )
        return Received("duplicate", existing, None)
    null_sender = envelope_sender is not None and not envelope_sender.strip("<> ")
    automatic = parsed.automatic or ("null_sender" if null_sender else None)
    thread = await find_thread(session, parsed)
    if settings.email_domain.lower() in parsed.loop_marks:
        received = _loop(session, parsed, point, thread)
    elif automatic is not None:
        received = await _automatic(session, parsed, point, thread, automatic, bus)
    elif thread is not None:
        received = await _reply(session, parsed, point, queue, thread, bus)
    else:
        received = await _new_conversation(session, parsed, point, queue, settings, bus)
    await _settle_receipt(session, key, received.contact_id)
    return received


def _loop(
    session: AsyncSession, parsed: ParsedEmail, point: EntryPoint, thread: Contact | None
) -> Received:
    contact_id = None if thread is None else thread.id
    record(
        session,
        "email.loop_dropped",
        contact_id=contact_id,
        payload={"entry_point": point.address, "message_id": parsed.message_id},
    )
    return Received("loop", contact_id, None)


async def _automatic(
    session: AsyncSession,
    parsed: ParsedEmail,
    point: EntryPoint,
    thread: Contact | None,
    reason: str,
    bus: EventBus | None,
) -> Received:
    """Recorded on its conversation, never routed, never answered."""
    if thread is None:
        record(
            session,
            "email.automatic_ignored",
            payload={"entry_point": point.address, "reason": reason},
        )
        return Received("automatic", None, None)
    message = await add_message(
        session,
        thread.id,
        _NewMessage(
            direction="inbound",
            author="system",
            body=parsed.text,
            body_html=parsed.html,
            external_id=parsed.message_id,
            meta=_inbound_meta(parsed, point.address, reason),
        ),
        parsed.attachments,
    )
    record(
        session,
        "email.automatic_received",
        contact_id=thread.id,
        payload={"reason": reason, "message_id": message.id},
    )
    _announce(session, bus, message)
    _tell_agent(session, bus, holder_of(thread), message, attachments=len(parsed.attachments))
    return Received("automatic", thread.id, message.id)


async def _customer_message(
    session: AsyncSession, contact_id: int, parsed: ParsedEmail, point: EntryPoint
) -> Message:
    message = await add_message(
        session,
        contact_id,
        _NewMessage(
            direction="inbound",
            author="customer",
            body=parsed.text,
            body_html=parsed.html,
            external_id=parsed.message_id,
            meta=_inbound_meta(parsed, point.address, None),
        ),
        parsed.attachments,
    )
    record(
        session,
        "contact.message_received",
        contact_id=contact_id,
        payload={
            "channel": CHANNEL,
            "message_id": message.id,
            "seq": message.seq,
            "attachments": len(parsed.attachments),
        },
    )
    return message


async def _reply(
    session: AsyncSession,
    parsed: ParsedEmail,
    point: EntryPoint,
    queue: str,
    thread: Contact,
    bus: EventBus | None,
) -> Received:
    message = await _customer_message(session, thread.id, parsed, point)
    holder = holder_of(thread)  # before a reopening takes the contact from its agent
    outcome: Outcome = "threaded"
    if thread.state not in OPEN_STATES:
        await requeue_contact(session, thread, reason="customer_replied", fallback_queue=queue)
        outcome = "reopened"
    _announce(session, bus, message)
    _tell_agent(
        session,
        bus,
        holder,
        message,
        attachments=len(parsed.attachments),
        reopened=outcome == "reopened",
    )
    return Received(outcome, thread.id, message.id)


async def _new_conversation(
    session: AsyncSession,
    parsed: ParsedEmail,
    point: EntryPoint,
    queue: str,
    settings: Settings,
    bus: EventBus | None,
) -> Received:
    language = mime.guess_language(f"{parsed.subject}\n{parsed.text}") or point.language
    match = await match_customer(
        session,
        email=parsed.from_address,
        name=parsed.from_name or (parsed.from_address or "").split("@")[0],
        language=language,
        region=settings.default_region,
    )
    enqueued = await enqueue(
        session,
        NewContact(
            channel=CHANNEL,
            queue=queue,
            customer_id=match.customer_id,
            customer_match=match.how,
            provider=PROVIDER,
            provider_ref=event_key(parsed.message_id),
            from_address=(parsed.from_address or "")[:320] or None,
            to_address=point.address,
            subject=parsed.subject,
        ),
    )
    message = await _customer_message(session, enqueued.contact_id, parsed, point)
    await _acknowledge(session, enqueued.contact_id, parsed, point, settings)
    _announce(session, bus, message)
    return Received("created", enqueued.contact_id, message.id)


# ---------------------------------------------------------------- agents' side


async def conversation(session: AsyncSession, contact_id: int, user: User) -> Contact:
    """The email contact, if ``user`` is its agent or a supervisor."""
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.channel != CHANNEL:
        raise NotFound(f"No email contact {contact_id}.", details={"contact_id": contact_id})
    await authorize_contact(session, user, contact, "email")
    return contact


async def _sender_address(session: AsyncSession, contact: Contact) -> str:
    if contact.to_address:
        return contact.to_address
    address = await session.scalar(
        select(EntryPoint.address)
        .where(EntryPoint.channel == CHANNEL, EntryPoint.queue_id == contact.queue_id)
        .order_by(EntryPoint.id)
        .limit(1)
    )
    if address is None:
        raise Conflict(
            "This contact's queue has no email address to reply from.",
            details={"contact_id": contact.id},
            code="no_sender_address",
        )
    return address


def _clean_cc(raw: Sequence[str], to: Sequence[str]) -> list[str]:
    result: list[str] = []
    for value in raw:
        try:
            address = normalize_email(value)
        except InvalidEmail as exc:
            raise InvalidInput(
                "Not a valid email address.", details={"cc": value}, code="invalid_cc"
            ) from exc
        if address not in to and address not in result:
            result.append(address)
    return result


async def last_customer_message(session: AsyncSession, contact_id: int) -> Message | None:
    message: Message | None = await session.scalar(
        select(Message)
        .where(
            Message.contact_id == contact_id,
            Message.direction == "inbound",
            Message.author == "customer",
        )
        .order_by(Message.seq.desc())
        .limit(1)
    )
    return message


@dataclass(frozen=True, slots=True)
class _Outgoing:
    body: str
    body_html: str | None = None
    cc: Sequence[str] = ()
    agent_id: int | None = None
    automatic: str | None = None  # why no person wrote it (e.g. "acknowledgement")


async def _queue_outbound(
    session: AsyncSession, contact: Contact, outgoing: _Outgoing, settings: Settings
) -> tuple[Message, OutboundEmail]:
    """An outbound message answering the customer's last email, and its delivery row."""
    last = await last_customer_message(session, contact.id)
    meta = last.meta if last is not None else {}
    recipient = meta.get("reply_to") or meta.get("from") or contact.from_address
    if not recipient:
        raise Conflict(
            "Nobody to reply to: the contact has no customer address.",
            details={"contact_id": contact.id},
            code="no_recipient",
        )
    to = [str(recipient)]
    references = [*meta.get("references", []), *([last.external_id] if last else [])]
    references = [r for r in references if r][-_MAX_REFERENCES:]
    token = f"{contact.id}.{secrets.token_hex(12)}"
    message = await add_message(
        session,
        contact.id,
        _NewMessage(
            direction="outbound",
            author="agent" if outgoing.automatic is None else "system",
            agent_id=outgoing.agent_id,
            body=outgoing.body,
            body_html=mime.sanitize_html(outgoing.body_html) if outgoing.body_html else None,
            external_id=mime.new_message_id(token, settings.email_domain),
            meta={
                "from": await _sender_address(session, contact),
                "to": to,
                "cc": _clean_cc(outgoing.cc, to),
                "subject": mime.reply_subject(contact.subject, contact.id),
                "in_reply_to": None if last is None else last.external_id,
                "references": references,
                "automatic": outgoing.automatic,
            },
        ),
    )
    outbound = OutboundEmail(message_id=message.id)
    session.add(outbound)
    await session.flush()
    await session.refresh(outbound)
    await session.refresh(message)
    return message, outbound


async def queue_reply(
    session: AsyncSession,
    contact_id: int,
    user: User,
    reply: EmailReplyIn,
    settings: Settings,
    *,
    bus: EventBus | None = None,
) -> tuple[Message, OutboundEmail]:
    """Store the agent's reply and its delivery row; the sender mails it after commit."""
    await conversation(session, contact_id, user)
    contact = await _locked_contact(session, contact_id)
    assert contact is not None
    outgoing = _Outgoing(reply.body, reply.body_html, reply.cc, agent_id=user.id)
    message, outbound = await _queue_outbound(session, contact, outgoing, settings)
    record(
        session,
        "email.reply_queued",
        contact_id=contact_id,
        actor_id=user.id,
        payload={"message_id": message.id, "outbound_id": outbound.id},
    )
    _announce(session, bus, message)
    return message, outbound


async def queue_system_mail(
    session: AsyncSession, contact: Contact, body: str, settings: Settings, why: str
) -> tuple[Message, OutboundEmail]:
    """A mail no person wrote (``why``: e.g. ``csat_survey``) answering the customer's last
    email; the sender mails it after commit. 409 ``no_recipient`` without an address."""
    message, outbound = await _queue_outbound(
        session, contact, _Outgoing(body, automatic=why), settings
    )
    record(
        session,
        f"email.{why}_queued",
        contact_id=contact.id,
        payload={"message_id": message.id, "outbound_id": outbound.id},
    )
    return message, outbound


ACKNOWLEDGEMENT_INTERVAL = timedelta(hours=1)


async def _acknowledged_lately(session: AsyncSession, address: str) -> bool:
    """RFC 3834: answer one sender automatically at most once in a while, so two robots
    that slipped past the other checks cannot keep mailing each other."""
    since = datetime.now(UTC) - ACKNOWLEDGEMENT_INTERVAL
    found = await session.scalar(
        select(Message.id)
        .join(Contact, Contact.id == Message.contact_id)
        .where(
            Contact.channel == CHANNEL,
            Contact.from_address == address,
            Message.direction == "outbound",
            Message.author == "system",
            Message.created_at > since,
        )
        .limit(1)
    )
    return found is not None


async def _acknowledge(
    session: AsyncSession,
    contact_id: int,
    parsed: ParsedEmail,
    point: EntryPoint,
    settings: Settings,
) -> None:
    """The entry point's greeting, mailed to whoever opened a new conversation (only for
    mail a person wrote: automatic mail is never answered)."""
    if not point.greeting or parsed.from_address is None:
        return
    if await _acknowledged_lately(session, parsed.from_address):
        return
    contact = await session.get(Contact, contact_id)
    assert contact is not None
    body = point.greeting.replace("{contact_id}", str(contact_id))
    message, outbound = await _queue_outbound(
        session, contact, _Outgoing(body, automatic="acknowledgement"), settings
    )
    record(
        session,
        "email.acknowledgement_queued",
        contact_id=contact_id,
        payload={"message_id": message.id, "outbound_id": outbound.id},
    )


async def messages_of(
    session: AsyncSession, contact_id: int
) -> list[tuple[Message, list[Attachment], OutboundEmail | None]]:
    messages = list(
        await session.scalars(
            select(Message).where(Message.contact_id == contact_id).order_by(Message.seq)
        )
    )
    ids = [m.id for m in messages]
    attachments: dict[int, list[Attachment]] = {i: [] for i in ids}
    deliveries: dict[int, OutboundEmail] = {}
    if ids:
        listing = (
            select(Attachment)
            .where(Attachment.message_id.in_(ids))
            .order_by(Attachment.id)
            .options(defer(Attachment.content))
        )
        for attachment in await session.scalars(listing):
            attachments[attachment.message_id].append(attachment)
        for outbound in await session.scalars(
            select(OutboundEmail).where(OutboundEmail.message_id.in_(ids))
        ):
            deliveries[outbound.message_id] = outbound
    return [(m, attachments[m.id], deliveries.get(m.id)) for m in messages]


async def attachment_for(session: AsyncSession, attachment_id: int, user: User) -> Attachment:
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(f"No attachment {attachment_id}.", details={"attachment_id": attachment_id})
    message = await session.get(Message, attachment.message_id)
    contact = None if message is None else await session.get(Contact, message.contact_id)
    if contact is None:
        raise NotFound(f"No attachment {attachment_id}.", details={"attachment_id": attachment_id})
    await authorize_contact(
        session, user, contact, "attachment", detail={"attachment_id": attachment_id}
    )
    return attachment
