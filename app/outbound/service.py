"""Outbound calls, the shell: asking for one (every outbound path, ``request_outbound_call``),
starting each try as a contact routed like an inbound call, what the agent's acceptance
dials, and the provider's call statuses. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.voice import cti, twilio
from app.channels.voice.schemas import TERMINAL_STATUSES, TwilioStatus
from app.channels.voice.service import claim_event, e164, end_call
from app.consent.core import Decision, Touch
from app.consent.service import (
    TouchRef,
    admit_touch,
    check_touch,
    record_suppression,
    record_touch,
    recording_allowed,
)
from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.models import Customer, CustomerPhone
from app.errors import InvalidInput, NotFound
from app.outbound.attempts import (
    CALLBACK,
    OUTBOUND,
    close_call,
    context_of,
    is_outbound,
    leg_dialled,
    leg_of,
    provider_ended,
    schedule,
    settle,
    update_leg,
)
from app.outbound.core import ORIGINS
from app.outbound.models import OutboundAttempt, OutboundCall
from app.routing.service import NewContact, enqueue, is_callback, queue_by_name
from app.skills.schemas import SkillLevel
from app.users.models import User

log = structlog.get_logger(__name__)
HELD_FOR_NOW = frozenset({"quiet_hours", "frequency_cap"})
"""Reasons a try waits for (``Decision.next_allowed_at``) rather than gives up on."""


@dataclass(frozen=True, slots=True)
class OutboundCallRequest:
    customer_id: int
    queue: str
    purpose: Literal["service", "marketing"]
    origin: str  # "api", "care", "campaign", "callback"
    ref: str | None  # e.g. "care_touch:12"
    now: datetime
    script: str | None = None
    priority: int | None = None
    skills: list[SkillLevel] | None = None


@dataclass(frozen=True, slots=True)
class OutboundCallResult:
    contact_id: int | None  # None when suppressed
    suppressed_reason: str | None
    call_id: int | None = None  # the outbound call (None when suppressed)
    next_allowed_at: datetime | None = None  # when suppressed: when it would be allowed


async def customer_phone(session: AsyncSession, customer_id: int) -> str | None:
    """The number a call to the customer is placed to: their first phone (E.164)."""
    phone: str | None = await session.scalar(
        select(CustomerPhone.e164)
        .where(CustomerPhone.customer_id == customer_id)
        .order_by(CustomerPhone.id)
        .limit(1)
    )
    return phone


async def voice_queue(session: AsyncSession, name: str) -> None:
    """InvalidInput ``unknown_queue`` / ``channel_not_served`` unless the queue takes calls."""
    queue = await queue_by_name(session, name)
    if "voice" not in queue.channels:
        raise InvalidInput(
            f"Queue {name} does not take voice contacts.",
            details={"queue": name, "channels": queue.channels},
            code="channel_not_served",
        )


async def _check_request(session: AsyncSession, request: OutboundCallRequest) -> str:
    """The customer's number, once the request is one that can be made."""
    if request.purpose not in ("service", "marketing"):
        raise InvalidInput("A call is for service or marketing.", code="invalid_purpose")
    if request.origin not in ORIGINS:
        raise InvalidInput(
            f"Unknown origin {request.origin}.",
            details={"origin": request.origin, "allowed": list(ORIGINS)},
            code="invalid_origin",
        )
    if await session.get(Customer, request.customer_id) is None:
        raise NotFound(
            f"No customer {request.customer_id}.", details={"customer_id": request.customer_id}
        )
    await voice_queue(session, request.queue)
    phone = await customer_phone(session, request.customer_id)
    if phone is None:
        raise InvalidInput(
            "The customer has no phone number to call.",
            details={"customer_id": request.customer_id},
            code="no_phone",
        )
    return phone


async def request_outbound_call(
    session: AsyncSession, request: OutboundCallRequest, *, actor_id: int | None = None
) -> OutboundCallResult:
    """Ask for a call to the customer: consent admits it (``admit_touch``, channel voice:
    the touch is recorded as made or as suppressed), then its first try is put in line as
    an outbound contact. Flushes, never commits.

    NotFound: no such customer. InvalidInput: unknown queue, a queue without voice, a
    customer without a phone, an unknown purpose or origin."""
    phone = await _check_request(session, request)
    context = context_of(session)
    decision = await admit_touch(
        session,
        request.customer_id,
        Touch("voice", request.purpose),
        request.now,
        TouchRef(request.origin, request.ref),
        policy=context.consent,
    )
    if not decision.allowed:
        log.info("outbound_call_suppressed", origin=request.origin, reason=decision.reason)
        return OutboundCallResult(None, decision.reason, None, decision.next_allowed_at)
    call = OutboundCall(
        customer_id=request.customer_id,
        queue=request.queue,
        skills=[{"skill": s.skill, "level": s.level} for s in request.skills or []],
        priority=request.priority,
        purpose=request.purpose,
        script=request.script,
        origin=request.origin,
        ref=request.ref,
        created_by=actor_id,
        created_at=request.now,
    )
    session.add(call)
    await session.flush()
    attempt = OutboundAttempt(call_id=call.id, attempt=1, due_at=request.now, state="scheduled")
    session.add(attempt)
    await session.flush()
    contact_id = await start_try(session, call, attempt, phone, request.now, actor_id=actor_id)
    return OutboundCallResult(contact_id, None, call.id)


async def start_try(
    session: AsyncSession,
    call: OutboundCall,
    attempt: OutboundAttempt,
    phone: str,
    now: datetime,
    *,
    actor_id: int | None = None,
) -> int:
    """Put ``attempt`` in line: an outbound voice contact routed by the call's queue,
    skills and priority. A closed queue ends it at once, as a try that did not reach."""
    context = context_of(session)
    skills = [SkillLevel(skill=s["skill"], level=s["level"]) for s in call.skills]
    enqueued = await enqueue(
        session,
        NewContact(
            channel="voice",
            queue=call.queue,
            customer_id=call.customer_id,
            customer_match="provided",
            priority=call.priority,
            skills=skills or None,
            provider=context.provider,
            from_address=context.caller_id,
            to_address=phone,
            attributes={
                OUTBOUND: {
                    "call_id": call.id,
                    "attempt": attempt.attempt,
                    "purpose": call.purpose,
                    "origin": call.origin,
                    "script": call.script,
                }
            },
            direction="outbound",
        ),
        actor_id=actor_id,
    )
    attempt.state, attempt.contact_id, attempt.started_at = "started", enqueued.contact_id, now
    await session.flush()
    if enqueued.closed_action is not None:
        contact = await session.get(Contact, enqueued.contact_id)
        assert contact is not None
        await settle(session, contact, None, now)
    return enqueued.contact_id


async def start_due_attempt(
    session: AsyncSession, call: OutboundCall, attempt: OutboundAttempt, now: datetime
) -> int | None:
    """A scheduled retry, claimed: started (its contact id), held to when consent allows
    it (quiet hours moved since), or given up (suppressed, no number any more, a queue no
    longer taking calls: the call closed)."""
    if call.state != "active":
        attempt.state = "cancelled"
        return None
    touch = Touch("voice", call.purpose)  # type: ignore[arg-type]
    decision = await check_touch(
        session,
        call.customer_id,
        "voice",
        call.purpose,
        now,
        policy=context_of(session).dial_policy,
    )
    if not decision.allowed:
        _hold_or_give_up(session, call, attempt, touch, decision, now)
        return None
    phone = await customer_phone(session, call.customer_id)
    if phone is None:
        attempt.state = "suppressed"
        close_call(call, "done", "no_phone")
        return None
    try:
        await voice_queue(session, call.queue)
    except InvalidInput as gone:  # deleted or changed since: the retry can never start
        attempt.state = "cancelled"
        close_call(call, "done", gone.code)
        return None
    return await start_try(session, call, attempt, phone, now)


def _hold_or_give_up(
    session: AsyncSession,
    call: OutboundCall,
    attempt: OutboundAttempt,
    touch: Touch,
    decision: Decision,
    now: datetime,
) -> None:
    by = TouchRef(call.origin, call.ref)
    record_suppression(session, call.customer_id, touch, decision, now, by)
    if decision.reason in HELD_FOR_NOW and decision.next_allowed_at is not None:
        attempt.due_at = decision.next_allowed_at
        return
    attempt.state = "suppressed"
    close_call(call, "suppressed", decision.reason)


# ---------------------------------------------------------------- dialling


@dataclass(frozen=True, slots=True)
class DialPlan:
    """What to place once the agent accepted: the customer's number, the agent's client."""

    contact_id: int
    agent_id: int
    agent_username: str
    provider: str
    to: str
    caller_id: str | None
    call_ref: str | None  # the CTI call id we name; Twilio names its own
    record: bool


def places_call(contact: Contact) -> bool:
    """Whether accepting ``contact`` places a call rather than bridges one: an outbound
    contact, or a callback whose caller has hung up (``app.routing.service.is_callback``)."""
    return is_outbound(contact) or (is_callback(contact) and cti.call_over(contact))


def _number_to_call(contact: Contact, region: str) -> str | None:
    if is_outbound(contact):
        return contact.to_address
    return e164(str(contact.attributes[CALLBACK].get("number", "")), region)


def _purpose(contact: Contact) -> str:
    return str(contact.attributes[OUTBOUND].get("purpose")) if is_outbound(contact) else "service"


def _touch_ref(contact: Contact, call: OutboundCall | None) -> TouchRef:
    return (
        TouchRef("callback", f"contact:{contact.id}")
        if call is None
        else TouchRef(call.origin, call.ref)
    )


async def dial_plan(
    session: AsyncSession, contact: Contact, agent_id: int, now: datetime, *, record_calls: bool
) -> DialPlan | None:
    """The call to place for an accepted contact (``places_call``, read locked), or None
    (recorded why): no longer the agent's, dialled already, no number, or consent no
    longer allows it (checked again now, in this unit of work: the try ends and waits or
    gives up as a retry would). A callback's touch is recorded here, as it is made."""
    if contact.state != "assigned" or contact.agent_id != agent_id:
        _skip(session, contact, agent_id, "no_longer_assigned")
        return None
    if leg_dialled(contact):
        return None  # the same acceptance delivered twice
    context = context_of(session)
    number = _number_to_call(contact, context.region)
    if number is None:
        _skip(session, contact, agent_id, "no_number")
        await end_call(session, contact)
        return None
    if contact.customer_id is not None:
        purpose = _purpose(contact)
        decision = await check_touch(
            session, contact.customer_id, "voice", purpose, now, policy=context.dial_policy
        )
        if not decision.allowed:
            await _suppressed_at_dial(session, contact, purpose, decision, now)
            return None
        if not is_outbound(contact):
            touch = Touch("voice", "service")
            record_touch(session, contact.customer_id, touch, now, _touch_ref(contact, None))
    username = await session.scalar(select(User.username).where(User.id == agent_id))
    if username is None:
        return None
    call_ref = None
    if contact.provider == cti.PROVIDER:
        call_ref = f"out-{contact.id}"
        if is_outbound(contact):
            contact.provider_ref = call_ref
    update_leg(contact, dialled_at=now.isoformat())
    return DialPlan(
        contact_id=contact.id,
        agent_id=agent_id,
        agent_username=username,
        provider=contact.provider or context.provider,
        to=number,
        caller_id=context.caller_id if contact.direction == "inbound" else contact.from_address,
        call_ref=call_ref,
        record=record_calls and await recording_allowed(session, contact.customer_id),
    )


def _skip(session: AsyncSession, contact: Contact, agent_id: int, reason: str) -> None:
    record(
        session,
        "call.dial_skipped",
        contact_id=contact.id,
        agent_id=agent_id,
        payload={"reason": reason},
    )


async def _suppressed_at_dial(
    session: AsyncSession, contact: Contact, purpose: str, decision: Decision, now: datetime
) -> None:
    """Consent holds the call back at dial time: the try ends; an outbound call waits for
    its next allowed time (quiet hours) as a retry, or is closed as suppressed."""
    assert contact.customer_id is not None
    attempt = await session.scalar(
        select(OutboundAttempt).where(OutboundAttempt.contact_id == contact.id).with_for_update()
    )
    call = None
    if attempt is not None:
        call = await session.get(OutboundCall, attempt.call_id, with_for_update=True)
    touch = Touch("voice", purpose)  # type: ignore[arg-type]
    by = _touch_ref(contact, call)
    record_suppression(session, contact.customer_id, touch, decision, now, by)
    record(
        session,
        "call.dial_suppressed",
        contact_id=contact.id,
        agent_id=contact.agent_id,
        payload={"reason": decision.reason},
    )
    await end_call(session, contact)
    if attempt is None or call is None:
        return
    attempt.state = "suppressed"
    held = decision.reason in HELD_FOR_NOW and decision.next_allowed_at is not None
    if held and call.state == "active":
        assert decision.next_allowed_at is not None
        await schedule(session, call.id, attempt.attempt + 1, decision.next_allowed_at)
    else:
        close_call(call, "suppressed", decision.reason)
    await session.flush()


def _link_sid(contact: Contact, call_sid: str) -> bool:
    """Name the placed call by its sid, unless it has one; False: it has another."""
    if is_outbound(contact):
        if contact.provider_ref is None:
            contact.provider_ref = call_sid
        return contact.provider_ref == call_sid
    known = leg_of(contact).get("call_sid")
    if known is None:
        update_leg(contact, call_sid=call_sid)
    return known in (None, call_sid)


async def dial_outcome(
    session: AsyncSession,
    contact_id: int,
    agent_id: int,
    *,
    provider: str,
    call_sid: str | None,
    failure: str | None,
    attempts: int,
    now: datetime,
) -> None:
    """Record how placing the call went. A failed request ends the try (not reached)."""
    contact = await session.get(Contact, contact_id, with_for_update=True)
    if contact is None:
        return
    base: dict[str, Any] = {"provider": provider, "attempts": attempts}
    if failure is None:
        if call_sid is not None:
            _link_sid(contact, call_sid)
        record(session, "call.dialled", contact_id=contact_id, agent_id=agent_id, payload=base)
        return
    record(
        session,
        "call.dial_failed",
        contact_id=contact_id,
        agent_id=agent_id,
        payload={**base, "reason": failure},
    )
    update_leg(contact, status="failed")
    await end_call(session, contact)
    await provider_ended(session, contact, "failed", answered=False, now=now)


# ---------------------------------------------------------------- provider statuses


async def twilio_status(
    session: AsyncSession, contact_id: int, status: TwilioStatus, now: datetime
) -> None:
    """A Twilio status callback of a call we placed (``?contact=`` names the contact; the
    first callback links the CallSid when the create answer did not). Each (CallSid, status,
    sequence) once; a status ranking below the one seen is recorded and ignored. A final
    status that did not reach the customer ends the try with its disposition (busy,
    no_answer) and schedules the retry."""
    contact = await session.get(Contact, contact_id, with_for_update=True)
    if contact is None or contact.provider != twilio.PROVIDER or not leg_dialled(contact):
        raise NotFound(f"No placed call on contact {contact_id}.", code="unknown_call")
    if not _link_sid(contact, status.call_sid):
        raise NotFound(f"No call {status.call_sid} on contact {contact_id}.", code="unknown_call")
    if not await claim_event(session, twilio.PROVIDER, twilio.status_event_key(status), contact.id):
        return
    leg = leg_of(contact)
    new = status.call_status
    ignored = twilio.status_regression(leg.get("status"), new)
    disposition: str | None = None
    if ignored is None:
        changes: dict[str, Any] = {"status": new}
        if new == "in-progress":
            changes["answered"] = True
        if status.call_duration is not None:
            changes["duration_seconds"] = status.call_duration
        update_leg(contact, **changes)
        if new in TERMINAL_STATUSES:
            await end_call(session, contact)
            answered = bool(leg.get("answered"))
            disposition = await provider_ended(session, contact, new, answered=answered, now=now)
    if status.recording_url is not None:
        contact.recording_url = status.recording_url
    record(
        session,
        f"call.{new}",
        contact_id=contact.id,
        payload={
            "provider": twilio.PROVIDER,
            "direction": "outbound",
            "sequence_number": status.sequence_number,
            "duration_seconds": status.call_duration,
            "disposition": disposition,
            "ignored": ignored,
        },
    )
    log.info("outbound_call_status", contact_id=contact.id, status=new, ignored=ignored)


# ---------------------------------------------------------------- reading


async def outbound_call(session: AsyncSession, call_id: int) -> tuple[OutboundCall, list[Any]]:
    call = await session.get(OutboundCall, call_id)
    if call is None:
        raise NotFound(f"No outbound call {call_id}.", details={"call_id": call_id})
    attempts = await session.scalars(
        select(OutboundAttempt)
        .where(OutboundAttempt.call_id == call_id)
        .order_by(OutboundAttempt.attempt)
    )
    return call, list(attempts)
