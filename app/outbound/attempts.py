"""What an outbound try's outcome does to its call: the disposition recorded on the attempt,
and the next attempt scheduled (once) or the call closed. Imported by routing (an agent's
disposition) and by the provider webhooks; it imports neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.consent.core import ContactPolicy, FrequencyCap
from app.consent.service import DEFAULT_POLICY, customer_zone, policy_from_settings
from app.contacts.models import Contact
from app.outbound.core import (
    FINAL_DISPOSITIONS,
    RetryPolicy,
    next_attempt_at,
    unreached_disposition,
)
from app.outbound.models import OutboundAttempt, OutboundCall

OUTBOUND_KEY = "contactd.outbound"
OUTBOUND = "outbound"  # contacts.attributes["outbound"]: call_id, attempt, purpose, script
CALLBACK = "callback"  # contacts.attributes["callback"]: number, and the leg once dialled
CALL = "call"  # contacts.attributes["call"] (``app.channels.voice.service.call_info``)


@dataclass(frozen=True, slots=True)
class OutboundContext:
    """The settings outbound calls follow, shared with every session of the app
    (``Database.share_with_every_session``); a session without it gets the defaults."""

    consent: ContactPolicy = DEFAULT_POLICY
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    provider: str = "twilio"
    caller_id: str | None = None
    region: str = "CN"  # for a callback number given without its country code

    @property
    def dial_policy(self) -> ContactPolicy:
        """The consent policy a try is checked by once its call was admitted: every rule
        but the frequency cap, which counted the call when it was admitted."""
        unlimited = FrequencyCap(max_touches=2**31, window=self.consent.frequency_cap.window)
        return ContactPolicy(self.consent.quiet_hours, unlimited, self.consent.default_zone)


def context_from_settings(settings: Settings) -> OutboundContext:
    consent = policy_from_settings(settings)
    return OutboundContext(
        consent=consent,
        retry=RetryPolicy(
            settings.outbound_max_attempts,
            timedelta(minutes=settings.outbound_retry_minutes),
            consent.quiet_hours,
        ),
        provider=settings.outbound_voice_provider,
        caller_id=settings.outbound_caller_id,
        region=settings.default_region,
    )


def context_of(session: AsyncSession) -> OutboundContext:
    found = session.info.get(OUTBOUND_KEY)
    return found if isinstance(found, OutboundContext) else OutboundContext()


def is_outbound(contact: Contact) -> bool:
    return contact.direction == "outbound" and OUTBOUND in contact.attributes


def _leg_key(contact: Contact) -> str | None:
    """Where the state of the call we place for ``contact`` lives: ``attributes.call`` for
    an outbound contact, ``attributes.callback`` for a callback (the caller's own call,
    in ``attributes.call``, is over)."""
    if is_outbound(contact):
        return CALL
    return CALLBACK if isinstance(contact.attributes.get(CALLBACK), dict) else None


def leg_of(contact: Contact) -> dict[str, Any]:
    """The placed call's state: ``dialled_at``, ``status``, ``answered``, ``call_sid``."""
    key = _leg_key(contact)
    leg = None if key is None else contact.attributes.get(key)
    return dict(leg) if isinstance(leg, dict) else {}


def update_leg(contact: Contact, **changes: Any) -> None:
    key = _leg_key(contact)
    assert key is not None, "not a call we place"
    contact.attributes = {**contact.attributes, key: {**leg_of(contact), **changes}}


def leg_dialled(contact: Contact) -> bool:
    return "dialled_at" in leg_of(contact)


async def schedule(session: AsyncSession, call_id: int, attempt: int, due_at: datetime) -> bool:
    """Attempt ``attempt`` of the call, due at ``due_at``; False when it exists already
    (scheduled by an earlier delivery of the same outcome)."""
    statement = (
        insert(OutboundAttempt)
        .values(call_id=call_id, attempt=attempt, due_at=due_at, state="scheduled")
        .on_conflict_do_nothing(index_elements=["call_id", "attempt"])
        .returning(OutboundAttempt.id)
    )
    return (await session.execute(statement)).first() is not None


def close_call(call: OutboundCall, state: str, outcome: str | None) -> None:
    call.state, call.outcome = state, outcome


async def settle(
    session: AsyncSession, contact: Contact, disposition: str | None, now: datetime
) -> datetime | None:
    """The try on ``contact`` is over with ``disposition`` (None: not reached, no
    disposition): the next attempt is scheduled once (``core.next_attempt_at``), or the call
    is closed; a final disposition given later (the agent's, after a provider's ``busy``)
    cancels a retry not yet started. The next attempt's due time, if any. Not an outbound
    contact: nothing."""
    if not is_outbound(contact):
        return None
    attempt = await session.scalar(
        select(OutboundAttempt).where(OutboundAttempt.contact_id == contact.id).with_for_update()
    )
    if attempt is None:
        return None
    if attempt.state == "done" and attempt.disposition == disposition:
        return None  # the same outcome again (a replayed webhook, a second wrap-up)
    call = await session.get(OutboundCall, attempt.call_id, with_for_update=True)
    assert call is not None  # attempts cascade with their call
    attempt.state, attempt.disposition = "done", disposition
    if disposition in FINAL_DISPOSITIONS:
        await session.execute(
            update(OutboundAttempt)
            .where(OutboundAttempt.call_id == call.id, OutboundAttempt.state == "scheduled")
            .values(state="cancelled")
        )
        close_call(call, "done", disposition)
        await session.flush()
        return None
    if call.state != "active":
        await session.flush()
        return None
    context = context_of(session)
    zone = await customer_zone(session, call.customer_id, context.consent)
    due = next_attempt_at(context.retry, attempt.attempt, disposition, now, zone)
    if due is None:
        close_call(call, "done", "exhausted")
    else:
        await schedule(session, call.id, attempt.attempt + 1, due)
    await session.flush()
    return due


async def provider_ended(
    session: AsyncSession, contact: Contact, status: str, *, answered: bool, now: datetime
) -> str | None:
    """The provider's final status of an outbound try (Twilio's, or the PBX's ``call.ended``
    reason): one that did not reach the customer gives the try its disposition (``busy``,
    ``no_answer``; an agent's own stays) and settles it. The disposition, if any."""
    if not leg_dialled(contact):
        return None  # not a call we placed (an inbound caller hanging up, say)
    unreached, disposition = unreached_disposition(status, answered)
    if not unreached:
        return None
    if disposition is not None and contact.disposition is None:
        contact.disposition = disposition
    await settle(session, contact, disposition, now)
    return disposition
