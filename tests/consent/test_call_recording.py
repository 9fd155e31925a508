"""``call_recording`` consent honored by the voice channel: with recording configured, a
bridged call is recorded unless the caller refused it (Twilio TwiML, CTI command)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.channels.voice.conftest import (  # noqa: F401  (fixtures)
    CALLER,
    PUBLIC,
    CtiSide,
    FakeProvider,
    TwilioSide,
    center,
    fake_provider,
    pbx,
    twilio,
    voice_app,
    voice_client,
)
from tests.channels.voice.test_cti import offered, send_ok
from tests.channels.voice.test_twilio import contact_of, parse
from tests.routing_service.conftest import Center, eventually

CALL = "CA00000000000000000000000000000077"
DIAL = "<Response><Dial{}><Client>agent-li.na</Client></Dial></Response>"


async def _caller(desk: Center, recording: str | None) -> None:
    created = await desk.client.post(
        "/api/v1/customers", json={"name": "王小明", "phones": [CALLER]}, headers=desk.admin
    )
    assert created.status_code == 201, created.text
    if recording is not None:
        put = await desk.client.put(
            f"/api/v1/customers/{created.json()['id']}/consent",
            json={
                "channel": "voice",
                "purpose": "call_recording",
                "status": recording,
                "source": "ivr",
            },
            headers=desk.admin,
        )
        assert put.status_code == 200, put.text


async def _bridged(fake: FakeProvider) -> object:
    return fake.requests[0] if fake.requests else None


@pytest.mark.parametrize(
    ("configured", "consent", "recorded"),
    [
        (True, "refused", False),
        (True, "granted", True),
        (True, None, True),
        (False, "granted", False),
    ],
)
async def test_twilio_bridge_records_only_when_configured_and_not_refused(
    voice_app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    twilio: TwilioSide,  # noqa: F811
    fake_provider: FakeProvider,  # noqa: F811
    configured: bool,
    consent: str | None,
    recorded: bool,
) -> None:
    voice_app.state.voice.record_calls = configured
    await _caller(center, consent)
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = contact_of(parse(await twilio.call(CALL)))
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    bridge = await eventually(lambda: _bridged(fake_provider))
    record = ' record="record-from-answer-dual"' if recorded else ""
    survey = f' action="{PUBLIC}/webhooks/twilio/survey?contact={contact_id}" method="POST"'
    assert bridge.form() == {"Twiml": DIAL.format(record + survey)}  # type: ignore[attr-defined]


async def test_cti_bridge_command_carries_the_recording_flag(
    voice_app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    pbx: CtiSide,  # noqa: F811
    fake_provider: FakeProvider,  # noqa: F811
) -> None:
    voice_app.state.voice.record_calls = True
    await _caller(center, "refused")
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = (await send_ok(pbx, offered()))["contact_id"]
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    command = await eventually(lambda: _bridged(fake_provider))
    body = command.json()  # type: ignore[attr-defined]
    assert (body["type"], body["record"]) == ("bridge", False)
