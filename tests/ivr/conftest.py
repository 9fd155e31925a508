"""The IVR under test: the voice channel's app and Twilio helpers, plus the demo flow on our
number, its queues and skills, a fixed clock inside opening hours and lookups served by the
app itself."""

from __future__ import annotations

from datetime import datetime
from xml.etree.ElementTree import Element, fromstring
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from app.ivr.demo import install_demo_flow
from app.ivr.runtime import ivr_state
from tests.channels.voice.conftest import (  # noqa: F401 - fixtures
    ACCOUNT_SID,
    NUMBER,
    PUBLIC,
    TwilioSide,
    center,
    fake_provider,
    twilio,
    voice_app,
    voice_client,
)
from tests.routing_service.conftest import Center

OPEN = datetime(2025, 3, 11, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Tuesday
CLOSED = datetime(2025, 3, 11, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def demo(voice_app: FastAPI, center: Center) -> Center:  # noqa: F811
    for skill in ("sales", "billing", "vip_care", "english", "mandarin"):
        await center.skill(skill)
    await center.queue("sales", [("sales", 1)], channels=["voice"])
    await center.queue("billing", [("billing", 1)], channels=["voice"])
    await center.queue("vip", [("vip_care", 1)], channels=["voice"])
    async with voice_app.state.db.unit_of_work() as session:
        await install_demo_flow(session, NUMBER)
    state = ivr_state(voice_app)
    state.clock = lambda: OPEN
    state.lookups.transport = httpx.ASGITransport(app=voice_app)
    return center


def parse(document: str) -> Element:
    return fromstring(document)  # noqa: S314 (our own output)


def gather_action(document: str) -> str:
    """The path (and query) Twilio would post the caller's answer to."""
    gather = parse(document).find("Gather")
    assert gather is not None, document
    return gather.attrib["action"].removeprefix(PUBLIC)


async def press(twilio: TwilioSide, action: str, call_sid: str, **params: str) -> str:  # noqa: F811
    response = await twilio.post(action, {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, **params})
    assert response.status_code == 200, response.text
    return response.text
