"""Where the voice channel hands a call to the IVR: numbers with a published flow."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.voice.schemas import TERMINAL_STATUSES, TwilioCall, TwilioStatus
from app.channels.voice.service import e164
from app.channels.voice.twilio import Urls
from app.config import Settings
from app.ivr.calls import CallStart, hung_up, start
from app.ivr.render import IvrUrls, to_twiml
from app.ivr.runtime import ivr_state
from app.ivr.store import published_for_number

TWILIO = "twilio"


def ivr_urls(settings: Settings) -> IvrUrls:
    music = str(settings.voice_hold_music_url)
    return IvrUrls(Urls(base=settings.public_base_url, hold_music=music))


async def answer_twilio_call(
    app: FastAPI, session: AsyncSession, call: TwilioCall, settings: Settings
) -> str | None:
    """TwiML of the flow's first turn, or None when the dialled number runs no flow."""
    dialled = e164(call.called, settings.default_region)
    published = None if dialled is None else await published_for_number(session, dialled)
    if dialled is None or published is None:
        return None
    details = {"account_sid": call.account_sid, "status": call.call_status}
    answer = await start(
        session,
        CallStart(TWILIO, call.call_sid, call.caller or None, dialled, details),
        published,
        settings.default_region,
        ivr_state(app).clock(),
    )
    return to_twiml(answer, ivr_urls(settings))


async def twilio_status_in_ivr(session: AsyncSession, status: TwilioStatus) -> bool:
    """True when the call is the IVR's alone (not yet a contact): the status is handled."""
    terminal = status.call_status in TERMINAL_STATUSES
    return await hung_up(session, TWILIO, status.call_sid, terminal=terminal)
