"""The generic CTI API through the running app: signed events in, signed commands out."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app.channels.voice import twiml
from app.channels.voice.cti_signature import verify
from tests.channels.voice.conftest import (
    CALLER,
    CTI_SECRET,
    NUMBER,
    CtiSide,
    FakeProvider,
    Recorded,
    contact_row,
    event_kinds,
    event_texts,
    events_of,
    stored,
)
from tests.routing_service.conftest import Center, eventually

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CALL_ID = "pbx-call-1"


def event(event_id: str, kind: str, seconds: float = 0, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "call_id": CALL_ID,
        "timestamp": (T0 + timedelta(seconds=seconds)).isoformat(),
        **extra,
    }


def offered(event_id: str = "e-offered", **extra: Any) -> dict[str, Any]:
    return event(event_id, "call.offered", **{"from": CALLER, "to": NUMBER, **extra})


async def send_ok(pbx: CtiSide, body: dict[str, Any]) -> dict[str, Any]:
    response = await pbx.send(body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_cti_call_flow_with_bridge_command_hold_time_and_recording(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    ack = await send_ok(pbx, offered())
    assert ack["duplicate"] is False
    assert ack["closed_action"] is None
    contact_id = ack["contact_id"]
    contact = await center.get(contact_id)
    assert (contact["provider"], contact["provider_ref"]) == ("cti", CALL_ID)

    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200

    async def command() -> Recorded | None:
        return fake_provider.requests[0] if fake_provider.requests else None

    sent: Recorded = await eventually(command)
    assert sent.path == "/cti/commands"
    verify(CTI_SECRET, sent.headers["x-cti-signature"], sent.body, now=time.time())
    body = sent.json()
    assert body["type"] == "bridge"
    assert body["call_id"] == CALL_ID
    assert body["contact_id"] == contact_id
    assert body["agent"] == {"id": center.id("li.na"), "username": "li.na"}

    await send_ok(pbx, event("e-answered", "call.answered", 5))
    await send_ok(pbx, event("e-resumed-1", "call.resumed", 25))  # before its hold: reordered
    await send_ok(pbx, event("e-held-1", "call.held", 10))
    await send_ok(pbx, event("e-dtmf", "dtmf", 30, data={"digits": "12#"}))
    await send_ok(pbx, event("e-pin", "dtmf", 31, data={"digits": "4321", "sensitive": True}))
    await send_ok(pbx, event("e-held-2", "call.held", 40))
    ended = await send_ok(pbx, event("e-ended", "call.ended", 60, data={"duration": 55}))
    assert ended["ignored"] is None
    ready = event("e-rec", "recording.ready", 70, data={"url": "https://pbx.test/rec/1.wav"})
    await send_ok(pbx, ready)

    contact = await center.wait_state(contact_id, "wrap_up", "li.na")
    call = contact["attributes"]["call"]
    assert call["hold_seconds"] == 35.0  # 10→25, then 40→60 (held at the end)
    assert call["duration_seconds"] == 55
    assert call["status"] == "ended"
    assert contact["recording_url"] == "https://pbx.test/rec/1.wav"
    events = await events_of(voice_app, contact_id)
    dtmf = [e for e in events if e.kind == "call.dtmf"]
    assert [(e.payload["count"], e.payload["sensitive"]) for e in dtmf] == [(3, False), (4, True)]
    assert all("digits" not in e.payload for e in dtmf)  # kept out of the append-only log
    assert await event_texts(voice_app, [e.id for e in dtmf]) == {dtmf[0].id: "12#"}
    kinds = [e.kind for e in events]
    assert {"call.offered", "call.bridged", "call.held", "call.resumed", "call.ended"} <= set(kinds)

    late = await send_ok(pbx, event("e-late", "call.answered", 50))
    assert late["ignored"] == "out_of_order"
    before = await stored(voice_app)
    replay = await send_ok(pbx, event("e-ended", "call.ended", 60, data={"duration": 55}))
    assert replay["duplicate"] is True
    assert replay["contact_id"] == contact_id
    assert await stored(voice_app) == before
    assert (await contact_row(voice_app, contact_id)).attributes["call"]["status"] == "ended"


async def test_offered_twice_is_one_contact(
    voice_app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    first = await send_ok(pbx, offered())
    again = await send_ok(pbx, offered())
    renamed = await send_ok(pbx, offered("e-offered-retry"))
    assert again == {**first, "duplicate": True}
    assert renamed["contact_id"] == first["contact_id"]
    assert renamed["duplicate"] is True
    assert (await stored(voice_app))[0] == 1


async def test_hang_up_in_line_abandons(voice_app: FastAPI, center: Center, pbx: CtiSide) -> None:
    contact_id = (await send_ok(pbx, offered()))["contact_id"]
    ended = await send_ok(pbx, event("e-ended", "call.ended", 20))
    assert ended["ignored"] is None
    await center.wait_state(contact_id, "abandoned")


async def test_signature_is_required_and_fresh(
    voice_app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    before = await stored(voice_app)
    body = offered()
    now = int(time.time())
    for kwargs, code in (
        ({"header": "t=1,v1=00"}, "stale_signature"),
        ({"at": now - 360}, "stale_signature"),  # a minute past the tolerance:
        ({"at": now + 360}, "stale_signature"),  # a slow run stays out of it
        ({"secret": "wrong"}, "invalid_signature"),
        ({"header": "v1=abc"}, "malformed_signature"),
    ):
        refused = await pbx.send(body, **kwargs)
        assert refused.status_code == 403, kwargs
        assert refused.json()["error"]["code"] == code
    unsigned = await pbx.client.post("/webhooks/cti/events", json=body)
    assert unsigned.status_code == 403
    assert unsigned.json()["error"]["code"] == "missing_signature"
    assert await stored(voice_app) == before
    assert (await pbx.send(body, at=int(time.time()) - 240)).status_code == 200


async def test_without_a_secret_cti_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await CtiSide(client).send(offered())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cti_not_configured"
    assert await stored(app) == (0, 0, 0)


async def test_bad_events_are_4xx_and_store_nothing(
    voice_app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    before = await stored(voice_app)
    for raw, status, code in (
        (b"{not json", 422, "invalid_input"),
        (json.dumps(event("e1", "call.held")).encode(), 404, "unknown_call"),
        (json.dumps(offered(to="+861088886666")).encode(), 404, "unknown_number"),
        (json.dumps(offered(to="not a number")).encode(), 404, "unknown_number"),
        (json.dumps({**offered(), "to": None}).encode(), 422, "invalid_input"),
        (json.dumps(event("e2", "dtmf")).encode(), 422, "invalid_input"),
        (json.dumps({**offered(), "type": "call.exploded"}).encode(), 422, "invalid_input"),
        (json.dumps([1, 2]).encode(), 422, "invalid_input"),
    ):
        response = await pbx.send({}, raw=raw)
        assert response.status_code == status, (raw, response.text)
        assert response.json()["error"]["code"] == code
    assert await stored(voice_app) == before


async def test_bridge_without_command_url_is_recorded_as_failed(
    voice_app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    voice_app.state.voice.cti.url = None
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = (await send_ok(pbx, offered()))["contact_id"]
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200

    async def failure() -> Any:
        found = [
            e for e in await events_of(voice_app, contact_id) if e.kind == "call.bridge_failed"
        ]
        return found[0] if found else None

    failed = await eventually(failure)
    assert "CTI_COMMAND_URL" in failed.payload["reason"]


async def _past_a_step(center: Center, pbx: CtiSide, action: str) -> int:
    """A CTI call waiting in the support queue (nobody to answer) whose escalation step
    makes ``action`` due after 0.2 s."""
    policy = {
        "skills": [{"skill": "support", "level": 1}],
        "steps": [{"after_seconds": 0.2, "action": action}],
    }
    published = await center.publish({"queues": {"support": policy}})
    assert published.status_code == 201, published.text
    contact_id: int = (await send_ok(pbx, offered()))["contact_id"]
    return contact_id


async def _offer_command(fake_provider: FakeProvider) -> dict[str, Any]:
    async def offer() -> dict[str, Any] | None:
        for sent in fake_provider.requests:
            body: dict[str, Any] = sent.json()
            if body["type"] == "offer_step_action":
                verify(CTI_SECRET, sent.headers["x-cti-signature"], sent.body, now=time.time())
                return body
        return None

    command: dict[str, Any] = await eventually(offer)
    return command


async def test_past_a_callback_step_the_pbx_is_told_to_offer_it_and_the_caller_keeps_their_place(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    contact_id = await _past_a_step(center, pbx, "callback")
    command = await _offer_command(fake_provider)
    assert command["call_id"] == CALL_ID
    assert command["contact_id"] == contact_id
    assert command["action"] == "callback"
    assert command["prompt"] == twiml.CHINESE.offer_callback

    async def recorded() -> bool:
        # recorded once the PBX has answered the command, so a moment after it arrives
        return "call.step_action_offered" in await event_kinds(voice_app, contact_id)

    assert await eventually(recorded)

    taken = event("e-take", "call.step_action_taken", 30, data={"action": "callback"})
    assert (await send_ok(pbx, taken))["ignored"] is None
    assert (await send_ok(pbx, taken))["duplicate"] is True
    again = event("e-take-2", "call.step_action_taken", 31, data={"action": "callback"})
    assert (await send_ok(pbx, again))["ignored"] == "already_taken"

    ended = await send_ok(pbx, event("e-ended", "call.ended", 40))
    assert ended["ignored"] is None
    contact = await center.get(contact_id)
    assert contact["state"] == "queued"  # the callback keeps the caller's place
    assert contact["attributes"]["callback"] == {"number": CALLER}
    kinds = [e["kind"] for e in contact["events"]]
    assert kinds.count("contact.callback_requested") == 1
    assert kinds.count("call.step_action_taken") == 2


async def test_past_a_voicemail_step_the_caller_leaves_a_message_and_keeps_their_place(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    contact_id = await _past_a_step(center, pbx, "voicemail")
    command = await _offer_command(fake_provider)
    assert command["action"] == "voicemail"
    assert command["prompt"] == twiml.CHINESE.offer_voicemail

    wrong = event("e-wrong", "call.step_action_taken", 30, data={"action": "callback"})
    assert (await send_ok(pbx, wrong))["ignored"] == "no_offer"
    taken = event("e-take", "call.step_action_taken", 31, data={"action": "voicemail"})
    assert (await send_ok(pbx, taken))["ignored"] is None
    url = "https://pbx.test/rec/voicemail-1.wav"
    await send_ok(pbx, event("e-rec", "recording.ready", 50, data={"url": url}))
    await send_ok(pbx, event("e-ended", "call.ended", 51))

    contact = await center.get(contact_id)
    assert contact["state"] == "queued"
    assert contact["recording_url"] == url
    assert contact["attributes"]["voicemail"] == {"from_queue": True}
    assert contact["attributes"]["callback"] == {"number": CALLER}


async def test_without_a_step_action_the_pbx_is_told_nothing_and_a_take_books_nothing(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    contact_id = (await send_ok(pbx, offered()))["contact_id"]
    await asyncio.sleep(0.3)
    taken = event("e-take", "call.step_action_taken", 30, data={"action": "callback"})
    assert (await send_ok(pbx, taken))["ignored"] == "no_offer"
    assert "callback" not in (await center.get(contact_id))["attributes"]
    assert fake_provider.requests == []


async def test_a_step_action_offer_the_pbx_cannot_take_is_recorded_as_failed(
    voice_app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    voice_app.state.voice.cti.url = None
    contact_id = await _past_a_step(center, pbx, "callback")

    async def failure() -> Any:
        found = [
            e
            for e in await events_of(voice_app, contact_id)
            if e.kind == "call.step_action_offer_failed"
        ]
        return found[0] if found else None

    failed = await eventually(failure)
    assert failed.payload["action"] == "callback"
    assert "CTI_COMMAND_URL" in failed.payload["reason"]


async def test_a_step_action_taken_needs_its_action(
    voice_app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    await send_ok(pbx, offered())
    before = await stored(voice_app)
    response = await pbx.send(event("e-take", "call.step_action_taken", 30, data={}))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert await stored(voice_app) == before
