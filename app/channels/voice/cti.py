"""The generic CTI API: call events from a PBX, each applied once.

``call.offered`` puts the call in line like a Twilio call. The others need the call to be
known (404 otherwise). Progress never goes back: ``call.answered`` or ``call.transferred``
after ``call.ended`` is recorded and ignored. Hold time is recomputed from the held/resumed
events' own timestamps on every one of them, so late or reordered events still count right.
``call.step_action_taken`` is the caller taking the callback or voicemail offer that the
``offer_step_action`` command asked the PBX to play (see ``runtime``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.voice.schemas import TERMINAL_STATUSES, CtiAck, CtiEvent
from app.channels.voice.service import (
    IncomingCall,
    call_info,
    claim_event,
    e164,
    end_call,
    entry_for_number,
    find_call,
    link_receipt,
    receipt_contact,
    standing_offer,
    start_call,
    take_offer,
    update_call_info,
    update_hold,
)
from app.contacts.events import record
from app.contacts.models import Contact
from app.errors import NotFound
from app.outbound.attempts import provider_ended
from app.routing.service import is_callback

PROVIDER = "cti"
ENDED = "ended"
# ``call.ended``'s ``data.reason`` for a call we placed (docs/outbound.md), as Twilio's status.
OUTBOUND_END_REASONS = {
    "busy": "busy",
    "no_answer": "no-answer",
    "no-answer": "no-answer",
    "failed": "failed",
    "canceled": "canceled",
}
log = structlog.get_logger(__name__)


def call_over(contact: Contact) -> bool:
    """The caller's call (Twilio's or the PBX's) has ended."""
    status = call_info(contact).get("status")
    return status in TERMINAL_STATUSES or status == ENDED


def event_key(event: CtiEvent) -> str:
    return f"event:{event.id}"


async def handle(session: AsyncSession, event: CtiEvent, region: str) -> CtiAck:
    if event.type == "call.offered":
        return await _offered(session, event, region)
    contact = await find_call(session, PROVIDER, event.call_id, lock=True)
    if contact is None:
        raise NotFound(
            f"No call {event.call_id}: send call.offered first.",
            details={"call_id": event.call_id},
            code="unknown_call",
        )
    if not await claim_event(session, PROVIDER, event_key(event), contact.id):
        return CtiAck(event_id=event.id, contact_id=contact.id, duplicate=True)
    ignored = await _apply(session, contact, event)
    log.info("cti_event", event_type=event.type, contact_id=contact.id, ignored=ignored)
    return CtiAck(event_id=event.id, contact_id=contact.id, duplicate=False, ignored=ignored)


async def _offered(session: AsyncSession, event: CtiEvent, region: str) -> CtiAck:
    key = event_key(event)
    if not await claim_event(session, PROVIDER, key, None):
        contact_id = await receipt_contact(session, PROVIDER, key)
        return await _ack_known(session, event, contact_id, duplicate=True)
    existing = await find_call(session, PROVIDER, event.call_id)
    if existing is not None:  # offered again under a new event id: still one contact
        await link_receipt(session, PROVIDER, key, existing.id)
        return await _ack_known(session, event, existing.id, duplicate=True)
    dialled = e164(event.to, region)
    entry = None if dialled is None else await entry_for_number(session, dialled)
    if dialled is None or entry is None:
        raise NotFound(
            "The dialled number is not in service (no voice entry point).",
            details={"to": event.to},
            code="unknown_number",
        )
    started = await start_call(
        session,
        IncomingCall(
            provider=PROVIDER,
            ref=event.call_id,
            caller=event.from_,
            dialled=dialled,
            details={"status": "offered"},
        ),
        entry,
        region,
    )
    await link_receipt(session, PROVIDER, key, started.contact_id)
    record(session, "call.offered", contact_id=started.contact_id, payload=_payload(event))
    log.info("cti_call_received", contact_id=started.contact_id, queue=entry.queue)
    return CtiAck(
        event_id=event.id,
        contact_id=started.contact_id,
        duplicate=False,
        closed_action=started.closed_action,
    )


async def _ack_known(
    session: AsyncSession, event: CtiEvent, contact_id: int | None, *, duplicate: bool
) -> CtiAck:
    contact = None if contact_id is None else await session.get(Contact, contact_id)
    closed = None if contact is None else call_info(contact).get("closed_action")
    return CtiAck(
        event_id=event.id,
        contact_id=contact_id,
        duplicate=duplicate,
        closed_action=closed if isinstance(closed, str) else None,
    )


def _payload(event: CtiEvent, **extra: Any) -> dict[str, Any]:
    return {"provider": PROVIDER, "event_id": event.id, "at": event.timestamp.isoformat(), **extra}


async def _apply(session: AsyncSession, contact: Contact, event: CtiEvent) -> str | None:
    """Apply one event to its call; return why it was ignored, if it was."""
    status = call_info(contact).get("status", "offered")
    ended = status == ENDED
    match event.type:
        case "call.answered" | "call.transferred":
            return _progress(session, contact, event, ended)
        case "call.held" | "call.resumed":
            record(session, event.type, contact_id=contact.id, payload=_payload(event))
            await session.flush()
            await update_hold(session, contact)
            return None
        case "call.ended":
            return await _ended(session, contact, event, ended)
        case "dtmf":
            _record_dtmf(session, contact, event)
            return None
        case "recording.ready":
            contact.recording_url = str(event.data["url"])
            record(session, "call.recording_ready", contact_id=contact.id, payload=_payload(event))
            return None
        case "call.step_action_taken":
            return await _step_action_taken(session, contact, event, ended)
    raise AssertionError(f"unhandled CTI event type {event.type}")  # pragma: no cover


def _progress(session: AsyncSession, contact: Contact, event: CtiEvent, ended: bool) -> str | None:
    ignored = "out_of_order" if ended else None
    extra: dict[str, Any] = {"ignored": ignored}
    if event.type == "call.transferred" and isinstance(event.data.get("to"), str):
        extra["to"] = event.data["to"][:320]
    if event.type == "call.answered" and not ended:
        update_call_info(contact, status="answered")
    record(session, event.type, contact_id=contact.id, payload=_payload(event, **extra))
    return ignored


async def _ended(
    session: AsyncSession, contact: Contact, event: CtiEvent, ended: bool
) -> str | None:
    duration = event.data.get("duration")
    recording = event.data.get("recording_url")
    if isinstance(recording, str) and recording.startswith(("http://", "https://")):
        contact.recording_url = recording[:2000]
    effect = None
    ignored = "already_ended" if ended else None
    if not ended:
        answered = call_info(contact).get("status") == "answered"
        changes: dict[str, Any] = {"status": ENDED, "ended_at": event.timestamp.isoformat()}
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
            changes["duration_seconds"] = duration
        update_call_info(contact, **changes)
        effect = await end_call(session, contact)
        reason = OUTBOUND_END_REASONS.get(str(event.data.get("reason")), "completed")
        await provider_ended(session, contact, reason, answered=answered, now=datetime.now(UTC))
    record(
        session,
        "call.ended",
        contact_id=contact.id,
        payload=_payload(event, effect=effect, ignored=ignored),
    )
    await session.flush()
    await update_hold(session, contact)
    return ignored


async def _step_action_taken(
    session: AsyncSession, contact: Contact, event: CtiEvent, ended: bool
) -> str | None:
    """The caller took the ``offer_step_action`` the PBX played (see runtime): like "1" on
    Twilio's hold loop. Taken already, or no such offer standing: recorded, nothing more."""
    action = str(event.data["action"])
    ignored = None
    if ended:
        ignored = "already_ended"
    elif is_callback(contact):
        ignored = "already_taken"
    elif await standing_offer(session, contact) != action:
        ignored = "no_offer"
    else:
        await take_offer(session, contact, action)
    payload = _payload(event, action=action, ignored=ignored)
    record(session, "call.step_action_taken", contact_id=contact.id, payload=payload)
    return ignored


def _record_dtmf(session: AsyncSession, contact: Contact, event: CtiEvent) -> None:
    """How many digits; the digits themselves in the event's text (erasable), unless the
    PBX flags them sensitive (a PIN, a card number): then nowhere."""
    digits = str(event.data["digits"])
    sensitive = event.data.get("sensitive") is True
    record(
        session,
        "call.dtmf",
        contact_id=contact.id,
        payload=_payload(event, sensitive=sensitive, count=len(digits)),
        text=None if sensitive else digits,
    )
