"""The call lifecycle both providers share: where a call goes, putting it in line, seeing
each provider event once, and what a hang-up means for the contact.

A call's provider-specific state lives in ``contacts.attributes["call"]``: the language it
is served in, the last status that counted (statuses never go back), its duration and hold
time, the Twilio account it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.entry_points import entry_point
from app.channels.models import WebhookReceipt
from app.channels.voice.schemas import STEP_ACTIONS
from app.contacts.models import Contact, ContactEvent
from app.customers.identity import InvalidPhone, normalize_phone
from app.customers.matching import match_customer
from app.routing import inbox
from app.routing.service import (
    NewContact,
    abandon,
    due_step_action,
    enqueue,
    is_callback,
    request_callback,
)

CALL = "call"
WAITING_STATES = ("queued", "offered")


@dataclass(frozen=True, slots=True)
class CallEntry:
    """Where a call to one of our numbers goes."""

    queue: str
    language: str
    greeting: str | None


@dataclass(frozen=True, slots=True)
class IncomingCall:
    provider: str  # twilio | cti
    ref: str  # CallSid, the PBX's call id
    caller: str | None
    dialled: str  # E.164
    details: dict[str, Any]  # provider-specific, kept in attributes["call"]


@dataclass(frozen=True, slots=True)
class StartedCall:
    contact_id: int
    closed_action: str | None


def e164(raw: str | None, region: str) -> str | None:
    if not raw:
        return None
    try:
        return normalize_phone(raw, region).e164
    except InvalidPhone:
        return None


async def entry_for_number(session: AsyncSession, dialled: str) -> CallEntry | None:
    """Where a call to ``dialled`` (E.164) goes: its entry point's queue and language.

    The one place that decides; the IVR will replace it with its menus.
    """
    found = await entry_point(session, "voice", dialled)
    if found is None:
        return None
    point, queue = found
    return CallEntry(queue=queue, language=point.language, greeting=point.greeting)


async def claim_event(
    session: AsyncSession, provider: str, event_key: str, contact_id: int | None
) -> bool:
    """Record that this provider event is being handled; False if it was already.

    In the caller's transaction: if the effect rolls back, so does the receipt. A concurrent
    duplicate waits here until the first commits, then sees it.
    """
    statement = (
        insert(WebhookReceipt)
        .values(provider=provider, event_key=event_key, contact_id=contact_id)
        .on_conflict_do_nothing()
        .returning(WebhookReceipt.event_key)
    )
    return (await session.execute(statement)).first() is not None


async def receipt_contact(session: AsyncSession, provider: str, event_key: str) -> int | None:
    contact_id: int | None = await session.scalar(
        select(WebhookReceipt.contact_id).where(
            WebhookReceipt.provider == provider, WebhookReceipt.event_key == event_key
        )
    )
    return contact_id


async def link_receipt(
    session: AsyncSession, provider: str, event_key: str, contact_id: int
) -> None:
    await session.execute(
        update(WebhookReceipt)
        .where(WebhookReceipt.provider == provider, WebhookReceipt.event_key == event_key)
        .values(contact_id=contact_id)
    )


async def find_call(
    session: AsyncSession, provider: str, ref: str, *, lock: bool = False
) -> Contact | None:
    """The contact of a call; ``lock`` serializes the events of one call."""
    query = select(Contact).where(
        Contact.channel == "voice", Contact.provider == provider, Contact.provider_ref == ref
    )
    if lock:
        query = query.with_for_update()
    contact: Contact | None = await session.scalar(query)
    return contact


def call_info(contact: Contact) -> dict[str, Any]:
    info = contact.attributes.get(CALL)
    return dict(info) if isinstance(info, dict) else {}


def update_call_info(contact: Contact, **changes: Any) -> None:
    contact.attributes = {**contact.attributes, CALL: {**call_info(contact), **changes}}


async def start_call(
    session: AsyncSession, call: IncomingCall, entry: CallEntry, region: str
) -> StartedCall:
    """Match the caller, create the contact and put it in line (or note the queue is closed)."""
    match = await match_customer(session, phone=call.caller, region=region)
    details = {**call.details, "language": entry.language}
    enqueued = await enqueue(
        session,
        NewContact(
            channel="voice",
            queue=entry.queue,
            customer_id=match.customer_id,
            customer_match=match.how,
            provider=call.provider,
            provider_ref=call.ref,
            from_address=match.e164 or (call.caller or None),
            to_address=call.dialled,
            attributes={CALL: details},
        ),
    )
    if enqueued.closed_action is not None:
        contact = await session.get(Contact, enqueued.contact_id)
        assert contact is not None
        update_call_info(contact, closed_action=enqueued.closed_action)
    return StartedCall(enqueued.contact_id, enqueued.closed_action)


async def end_call(session: AsyncSession, contact: Contact) -> str | None:
    """The call is over: what that means for the contact, by where it stood.

    Still waiting: the caller hung up (abandoned; a caller who took a callback keeps their
    place). With an agent: the contact ends for them (wrap-up starts). Already over:
    nothing. Returns what was asked of the router.
    """
    if contact.state in WAITING_STATES:
        await abandon(session, contact.id)
        return "abandon"
    if contact.state == "assigned":
        await inbox.submit(session, "contact.end", {"contact_id": contact.id})
        return "end"
    return None


def hold_seconds(marks: Iterable[tuple[str, datetime]], ended_at: datetime | None) -> float:
    """Time on hold: the sum of held→resumed spans, in the order they happened.

    A hold still open when the call ended counts until the end; a repeated ``held`` or a
    ``resumed`` without a hold before it counts nothing.
    """
    total = 0.0
    held_since: datetime | None = None
    for kind, at in sorted(marks, key=lambda mark: mark[1]):
        if kind == "held" and held_since is None:
            held_since = at
        elif kind == "resumed" and held_since is not None:
            total += (at - held_since).total_seconds()
            held_since = None
    if held_since is not None and ended_at is not None and ended_at > held_since:
        total += (ended_at - held_since).total_seconds()
    return round(total, 3)


async def update_hold(session: AsyncSession, contact: Contact) -> None:
    """``attributes.call.hold_seconds`` and ``on_hold`` from the call's ``call.held`` and
    ``call.resumed`` events (the PBX's, or contactd's own for a Twilio call); call it after
    recording one of them (flushed)."""
    rows = await session.scalars(
        select(ContactEvent).where(
            ContactEvent.contact_id == contact.id,
            ContactEvent.kind.in_(("call.held", "call.resumed")),
        )
    )
    marks = sorted(
        (
            (event.kind.removeprefix("call."), datetime.fromisoformat(event.payload["at"]))
            for event in rows
            if isinstance(event.payload.get("at"), str)
        ),
        key=lambda mark: mark[1],
    )
    if not marks:
        return
    ended_at = call_info(contact).get("ended_at")
    end = datetime.fromisoformat(ended_at) if isinstance(ended_at, str) else None
    update_call_info(contact, hold_seconds=hold_seconds(marks, end), on_hold=marks[-1][0] == "held")


async def standing_offer(session: AsyncSession, contact: Contact) -> str | None:
    """What a waiting caller is offered now: the action the queue's escalation step made due
    (callback or voicemail), while they wait, have taken none and have a number to call
    back (a message is answered by calling back too)."""
    if contact.state not in WAITING_STATES or is_callback(contact) or not contact.from_address:
        return None
    action = await due_step_action(session, contact)
    return action if action in STEP_ACTIONS else None


async def take_offer(session: AsyncSession, contact: Contact, offer: str) -> None:
    """The caller took ``offer`` (from ``standing_offer``): they keep their place and are
    called back, after the message they leave if it is a voicemail."""
    assert contact.from_address is not None
    await request_callback(session, contact.id, contact.from_address)
    if offer == "voicemail":
        contact.attributes = {**contact.attributes, "voicemail": {"from_queue": True}}
