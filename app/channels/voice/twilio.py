"""Twilio's webhooks, once their signature is checked: what each stores and answers.

* voice: a call arrives. It is put in line once per CallSid (Twilio retries get the same
  TwiML); a number we do not serve gets "not in service" and nothing is stored.
* hold: one turn of the hold loop (position, expected wait, music). Stores nothing. Once the
  queue's escalation step has made a callback or voicemail due, the turn also offers it.
* hold choice: the key pressed on that offer. "1" takes it (once, however often Twilio
  retries): the caller keeps their place, and is called back, after a message if they chose
  to leave one.
* status: the call moved on. Each (CallSid, CallStatus, SequenceNumber) once; a status
  ranking below the one already seen is recorded and otherwise ignored.
* voicemail: the ``<Record>`` of a closed queue finished; its URL goes on the contact.
* survey: the agent's leg ended (the ``<Dial>`` action). After a conversation the contact
  ends for the agent and the caller hears the post-call survey (press 1-5); the key pressed
  is the contact's one rating, however often Twilio retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.voice import twiml
from app.channels.voice.schemas import (
    STATUS_RANK,
    TERMINAL_STATUSES,
    TwilioCall,
    TwilioDialEnded,
    TwilioHoldChoice,
    TwilioRecording,
    TwilioStatus,
)
from app.channels.voice.service import (
    WAITING_STATES,
    CallEntry,
    IncomingCall,
    call_info,
    claim_event,
    e164,
    end_call,
    entry_for_number,
    find_call,
    link_receipt,
    standing_offer,
    start_call,
    take_offer,
    update_call_info,
)
from app.contacts.events import record
from app.contacts.models import Contact
from app.errors import AppError, NotFound
from app.events.bus import EventBus
from app.routing.service import is_callback
from app.surveys import service as surveys

PROVIDER = "twilio"
log = structlog.get_logger(__name__)


def survey_url(base: str, contact_id: int) -> str:
    """The ``<Dial>`` action: Twilio asks it what follows once the agent's leg ends."""
    return f"{base.rstrip('/')}/webhooks/twilio/survey?contact={contact_id}"


@dataclass(frozen=True, slots=True)
class Urls:
    """Where Twilio finds us (``public_base_url``) and the hold music."""

    base: str
    hold_music: str

    def hold(self, contact_id: int) -> str:
        return f"{self.base.rstrip('/')}/webhooks/twilio/hold?contact={contact_id}"

    def hold_choice(self, contact_id: int) -> str:
        return f"{self.base.rstrip('/')}/webhooks/twilio/hold/choice?contact={contact_id}"

    def voicemail(self, contact_id: int) -> str:
        return f"{self.base.rstrip('/')}/webhooks/twilio/voicemail?contact={contact_id}"

    def survey_answer(self, contact_id: int) -> str:
        return f"{self.base.rstrip('/')}/webhooks/twilio/survey/answer?contact={contact_id}"


@dataclass(frozen=True, slots=True)
class Position:
    position: int
    expected_wait_seconds: float | None  # None: unknown


async def incoming_call(session: AsyncSession, call: TwilioCall, urls: Urls, region: str) -> str:
    dialled = e164(call.called, region)
    entry = None if dialled is None else await entry_for_number(session, dialled)
    if dialled is None or entry is None:
        log.info("twilio_call_not_in_service", call_sid=call.call_sid)
        return twiml.not_in_service()
    key = f"call:{call.call_sid}"
    if not await claim_event(session, PROVIDER, key, None):
        return await _answer_again(session, call.call_sid, entry, urls, region)
    started = await start_call(
        session,
        IncomingCall(
            provider=PROVIDER,
            ref=call.call_sid,
            caller=call.caller or None,
            dialled=dialled,
            details={"account_sid": call.account_sid, "status": call.call_status},
        ),
        entry,
        region,
    )
    await link_receipt(session, PROVIDER, key, started.contact_id)
    log.info(
        "twilio_call_received",
        call_sid=call.call_sid,
        contact_id=started.contact_id,
        queue=entry.queue,
        closed_action=started.closed_action,
    )
    return _answer(
        started.contact_id,
        entry,
        started.closed_action,
        urls,
        caller_known=e164(call.caller, region) is not None,
    )


def _answer(
    contact_id: int,
    entry: CallEntry,
    closed_action: str | None,
    urls: Urls,
    *,
    caller_known: bool,
) -> str:
    if closed_action is not None:
        return twiml.closed(
            entry.language, closed_action, urls.voicemail(contact_id), caller_known=caller_known
        )
    return twiml.greeting_then_hold(entry.language, entry.greeting, urls.hold(contact_id))


async def _answer_again(
    session: AsyncSession, call_sid: str, entry: CallEntry, urls: Urls, region: str
) -> str:
    """A retried webhook: the same answer as the first time, nothing new stored."""
    contact = await find_call(session, PROVIDER, call_sid)
    if contact is None:  # the first attempt stored nothing, so there is nothing to resume
        return twiml.not_in_service()
    info = call_info(contact)
    language = str(info.get("language", entry.language))
    served = CallEntry(queue=entry.queue, language=language, greeting=entry.greeting)
    closed_action = info.get("closed_action")
    return _answer(
        contact.id,
        served,
        closed_action if isinstance(closed_action, str) else None,
        urls,
        caller_known=e164(contact.from_address, region) is not None,
    )


async def _call_of(session: AsyncSession, contact_id: int, call_sid: str) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.provider != PROVIDER or contact.provider_ref != call_sid:
        raise NotFound(
            f"No call {call_sid} on contact {contact_id}.",
            details={"contact_id": contact_id},
            code="unknown_call",
        )
    return contact


async def _locked_call(session: AsyncSession, contact_id: int, call_sid: str) -> Contact:
    """The contact of the call, locked; 404 ``unknown_call`` when they do not match."""
    contact = await find_call(session, PROVIDER, call_sid, lock=True)
    if contact is None or contact.id != contact_id:
        raise NotFound(
            f"No call {call_sid} on contact {contact_id}.",
            details={"contact_id": contact_id},
            code="unknown_call",
        )
    return contact


async def hold_turn(
    session: AsyncSession,
    contact_id: int,
    call_sid: str,
    urls: Urls,
    position: Position | None,
) -> str:
    contact = await _call_of(session, contact_id, call_sid)
    language = str(call_info(contact).get("language", "zh-CN"))
    if contact.state in WAITING_STATES:
        return twiml.hold(
            language,
            urls.hold_music,
            urls.hold(contact_id),
            position=position.position if position else None,
            expected_wait_seconds=position.expected_wait_seconds if position else None,
            offer=await standing_offer(session, contact),
            choice_url=urls.hold_choice(contact_id),
        )
    if contact.state == "assigned":
        return twiml.music_until_bridged(urls.hold_music, urls.hold(contact_id))
    return twiml.goodbye()


def _taken(contact: Contact, language: str, urls: Urls) -> str:
    """The answer to a caller who has taken the offer (again, for a retried webhook)."""
    if "voicemail" in contact.attributes:
        return twiml.leave_message(language, urls.voicemail(contact.id))
    return twiml.callback_booked(language)


async def hold_choice(
    session: AsyncSession, contact_id: int, choice: TwilioHoldChoice, urls: Urls
) -> str:
    """The key the caller pressed on the hold loop's offer (callback or voicemail)."""
    contact = await _locked_call(session, contact_id, choice.call_sid)
    language = str(call_info(contact).get("language", "zh-CN"))
    if is_callback(contact):  # Twilio retried, or the caller pressed twice
        return _taken(contact, language, urls)
    offer = await standing_offer(session, contact)
    if choice.digits != "1" or offer is None:
        return twiml.back_on_hold(urls.hold(contact_id))
    await take_offer(session, contact, offer)
    log.info("voice_hold_offer_taken", contact_id=contact.id, offer=offer)
    return _taken(contact, language, urls)


def status_event_key(status: TwilioStatus) -> str:
    key = f"status:{status.call_sid}:{status.call_status}"
    return key if status.sequence_number is None else f"{key}:{status.sequence_number}"


def status_regression(current: Any, new: str) -> str | None:
    """Why ``new`` must not change the call, if it must not."""
    if not isinstance(current, str) or current not in STATUS_RANK:
        return None
    if current in TERMINAL_STATUSES:
        return "already_ended" if new in TERMINAL_STATUSES else "out_of_order"
    return "out_of_order" if STATUS_RANK[new] < STATUS_RANK[current] else None


async def call_status(session: AsyncSession, status: TwilioStatus) -> None:
    contact = await find_call(session, PROVIDER, status.call_sid, lock=True)
    if contact is None:
        raise NotFound(
            f"No call {status.call_sid}.",
            details={"call_sid": status.call_sid},
            code="unknown_call",
        )
    if not await claim_event(session, PROVIDER, status_event_key(status), contact.id):
        return
    new = status.call_status
    ignored = status_regression(call_info(contact).get("status"), new)
    changes: dict[str, Any] = {}
    if status.call_duration is not None:
        changes["duration_seconds"] = status.call_duration
    if status.recording_url is not None:
        contact.recording_url = status.recording_url
    effect = None
    if ignored is None:
        changes["status"] = new
        if new in TERMINAL_STATUSES:
            effect = await end_call(session, contact)
    if changes:
        update_call_info(contact, **changes)
    record(
        session,
        f"call.{new}",
        contact_id=contact.id,
        payload={
            "provider": PROVIDER,
            "sequence_number": status.sequence_number,
            "duration_seconds": status.call_duration,
            "recording": status.recording_url is not None,
            "effect": effect,
            "ignored": ignored,
        },
    )
    log.info(
        "twilio_call_status",
        call_sid=status.call_sid,
        contact_id=contact.id,
        status=new,
        effect=effect,
        ignored=ignored,
    )


async def voicemail(session: AsyncSession, contact_id: int, recording: TwilioRecording) -> str:
    contact = await _call_of(session, contact_id, recording.call_sid)
    language = str(call_info(contact).get("language", "zh-CN"))
    recorded = recording.recording_url is not None
    if await claim_event(session, PROVIDER, f"voicemail:{recording.call_sid}", contact.id):
        if recording.recording_url is not None:
            contact.recording_url = recording.recording_url
        record(
            session,
            "call.voicemail",
            contact_id=contact.id,
            payload={
                "provider": PROVIDER,
                "recorded": recorded,
                "seconds": recording.recording_duration,
            },
        )
    return twiml.voicemail_received(language, recorded=recorded)


SURVEY_KEYS = frozenset("12345")


async def survey_offer(
    session: AsyncSession, contact_id: int, dial: TwilioDialEnded, urls: Urls
) -> str:
    """The agent hung up: end the contact for them and ask the caller to rate the call.
    A dial that never connected (no answer, busy), or a survey already answered, hangs up."""
    contact = await _locked_call(session, contact_id, dial.call_sid)
    language = str(call_info(contact).get("language", "zh-CN"))
    if dial.dial_call_status != "completed" or contact.agent_id is None:
        return twiml.goodbye()
    await end_call(session, contact)
    await surveys.offer_voice(session, contact)
    if await surveys.open_survey(session, contact.id, surveys.utc_now()) is None:
        return twiml.goodbye()
    return twiml.survey(language, urls.survey_answer(contact.id))


async def survey_answer(
    session: AsyncSession,
    bus: EventBus | None,
    contact_id: int,
    choice: TwilioHoldChoice,
    urls: Urls,
) -> str:
    """The key pressed on the survey: 1-5 is the rating (a retried webhook, or a second
    key, finds it recorded and hears the same thanks); any other key asks again."""
    contact = await _call_of(session, contact_id, choice.call_sid)
    language = str(call_info(contact).get("language", "zh-CN"))
    if choice.digits is None or choice.digits not in SURVEY_KEYS:
        if await surveys.open_survey(session, contact.id, surveys.utc_now()) is None:
            return twiml.goodbye()
        return twiml.survey(language, urls.survey_answer(contact.id))
    try:
        await surveys.answer(session, bus, contact.id, int(choice.digits), None)
    except surveys.AlreadyRated:
        pass  # Twilio retried: the rating stands
    except AppError:  # no survey, or expired: nothing to record
        return twiml.goodbye()
    return twiml.survey_thanks(language)
