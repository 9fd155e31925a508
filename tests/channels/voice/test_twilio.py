"""Twilio webhooks through the running app, with the provider's REST API faked over HTTP."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element, fromstring

import httpx
from fastapi import FastAPI

from app.channels.voice import twiml
from app.customers.models import Customer
from tests.channels.voice.conftest import (
    ACCOUNT_SID,
    CALLER,
    PUBLIC,
    TOKEN,
    FakeProvider,
    TwilioSide,
    contact_row,
    count,
    event_kinds,
    events_of,
    stored,
)
from tests.routing_service.conftest import Center, eventually

CALL = "CA00000000000000000000000000000001"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1"


def parse(response: httpx.Response) -> Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return fromstring(response.text)  # noqa: S314 (our own output)


def contact_of(document: Element) -> int:
    redirect = document.find("Redirect")
    assert redirect is not None
    assert redirect.text is not None
    url = urlsplit(redirect.text)
    assert f"{url.scheme}://{url.netloc}" == PUBLIC
    return int(parse_qs(url.query)["contact"][0])


async def test_a_call_is_queued_offered_bridged_completed_and_recorded(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, fake_provider: FakeProvider
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")

    document = parse(await twilio.call(CALL))
    say = document.find("Say")
    assert say is not None
    assert say.get("language") == "zh-CN"
    assert say.text == twiml.CHINESE.greeting
    contact_id = contact_of(document)
    contact = await center.get(contact_id)
    assert (contact["channel"], contact["provider"], contact["provider_ref"]) == (
        "voice",
        "twilio",
        CALL,
    )
    assert contact["customer_match"] == "created"

    await center.wait_state(contact_id, "offered", "li.na")
    accepted = await center.act("li.na", contact_id, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "applied"

    bridge = await eventually(lambda: _first(fake_provider))
    assert bridge.method == "POST"
    assert bridge.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL}.json"
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode()
    assert bridge.headers["authorization"] == f"Basic {expected_auth}"
    survey = f"{PUBLIC}/webhooks/twilio/survey?contact={contact_id}"
    assert bridge.form() == {
        "Twiml": f'<Response><Dial action="{survey}" method="POST">'
        "<Client>agent-li.na</Client></Dial></Response>"
    }
    await eventually(lambda: _has(voice_app, contact_id, "call.bridged"))

    assert (await twilio.status(CALL, "in-progress")).status_code == 204
    completed = await twilio.status(
        CALL, "completed", CallDuration="42", RecordingUrl=RECORDING, SequenceNumber="3"
    )
    assert completed.status_code == 204, completed.text
    ended = await center.wait_state(contact_id, "wrap_up", "li.na")
    assert ended["recording_url"] == RECORDING
    assert ended["attributes"]["call"]["duration_seconds"] == 42
    assert ended["attributes"]["call"]["status"] == "completed"
    assert ended["answered_at"] is not None
    assert ended["ended_at"] is not None
    kinds = await event_kinds(voice_app, contact_id)
    assert kinds.index("contact.assigned") < kinds.index("call.bridged")
    assert kinds.index("call.in-progress") < kinds.index("call.completed")
    assert len(fake_provider.requests) == 1


async def _first(fake: FakeProvider) -> object:
    return fake.requests[0] if fake.requests else None


async def _has(app: FastAPI, contact_id: int, kind: str) -> bool:
    return kind in await event_kinds(app, contact_id)


async def test_a_retried_incoming_call_gets_the_same_twiml_and_no_second_contact(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    first, second = await asyncio.gather(twilio.call(CALL), twilio.call(CALL))
    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    before = await stored(voice_app)
    third = await twilio.call(CALL)
    assert third.text == first.text
    assert await stored(voice_app) == before
    assert before[0] == 1


async def test_a_replayed_status_callback_changes_nothing(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    contact_id = contact_of(parse(await twilio.call(CALL)))
    assert (await twilio.status(CALL, "completed", CallDuration="5")).status_code == 204
    await center.wait_state(contact_id, "abandoned")
    before = await stored(voice_app)
    replay = await twilio.status(CALL, "completed", CallDuration="5")
    assert replay.status_code == 204
    assert await stored(voice_app) == before


async def test_caller_hanging_up_in_line_abandons_and_records_the_wait(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    contact_id = contact_of(parse(await twilio.call(CALL)))
    assert (await twilio.status(CALL, "ringing")).status_code == 204
    assert (await twilio.status(CALL, "canceled")).status_code == 204
    contact = await center.wait_state(contact_id, "abandoned")
    abandoned = next(e for e in contact["events"] if e["kind"] == "contact.abandoned")
    assert abandoned["payload"]["waited_seconds"] >= 0
    canceled = next(e for e in contact["events"] if e["kind"] == "call.canceled")
    assert canceled["payload"]["effect"] == "abandon"


async def test_a_caller_with_a_callback_keeps_their_place(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    contact_id = contact_of(parse(await twilio.call(CALL)))
    callback = await center.client.post(
        f"/api/v1/contacts/{contact_id}/callback",
        json={"number": "13800138000"},
        headers=center.admin,
    )
    assert callback.status_code == 200, callback.text
    assert (await twilio.status(CALL, "completed")).status_code == 204
    contact = await center.get(contact_id)
    assert contact["state"] == "queued"
    assert "contact.caller_hung_up" in [e["kind"] for e in contact["events"]]


async def test_late_and_out_of_order_statuses_are_recorded_but_ignored(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    contact_id = contact_of(parse(await twilio.call(CALL)))
    assert (await twilio.status(CALL, "in-progress")).status_code == 204
    assert (await twilio.status(CALL, "ringing")).status_code == 204  # late
    row = await contact_row(voice_app, contact_id)
    assert row.attributes["call"]["status"] == "in-progress"

    assert (await twilio.status(CALL, "completed")).status_code == 204
    await center.wait_state(contact_id, "abandoned")
    for late in ("ringing", "in-progress", "busy"):
        assert (await twilio.status(CALL, late, SequenceNumber="9")).status_code == 204
    contact = await center.get(contact_id)
    assert contact["state"] == "abandoned"
    assert contact["attributes"]["call"]["status"] == "completed"
    ignored = {
        (e.kind, e.payload["ignored"])
        for e in await events_of(voice_app, contact_id)
        if e.kind.startswith("call.") and e.payload.get("ignored")
    }
    assert ignored == {
        ("call.ringing", "out_of_order"),
        ("call.in-progress", "out_of_order"),
        ("call.busy", "already_ended"),
    }
    abandons = [e for e in contact["events"] if e["kind"] == "contact.abandoned"]
    assert len(abandons) == 1


async def test_hold_loop_tells_position_and_plays_music(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    first = contact_of(parse(await twilio.call(CALL)))
    second_sid = CALL[:-1] + "2"
    second = contact_of(parse(await twilio.call(second_sid, caller="+8613900139000")))

    async def turn(contact_id: int, call_sid: str) -> Element:
        path = f"/webhooks/twilio/hold?contact={contact_id}"
        params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress"}
        return parse(await twilio.post(path, params))

    async def position_known() -> Element | None:
        document = await turn(second, second_sid)
        return document if "第2位" in (document.findtext("Say") or "") else None

    document = await eventually(position_known)
    assert document.findtext("Play") == twiml.DEFAULT_HOLD_MUSIC_URL
    assert contact_of(document) == second
    assert "第1位" in ((await turn(first, CALL)).findtext("Say") or "")

    wrong = await twilio.post(
        f"/webhooks/twilio/hold?contact={first}",
        {"CallSid": second_sid, "AccountSid": ACCOUNT_SID},
    )
    assert wrong.status_code == 404
    assert wrong.json()["error"]["code"] == "unknown_call"


async def test_bad_or_missing_signature_is_refused_and_stores_nothing(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, voice_client: httpx.AsyncClient
) -> None:
    params = TwilioSide.call_params(CALL)
    before = await stored(voice_app)
    customers = await count(voice_app, Customer)
    for signature in (
        "bm90IGEgc2lnbmF0dXJl",
        TwilioSide.signature("http://testserver/webhooks/twilio/voice", params),  # wrong URL
        TwilioSide.signature(PUBLIC + "/webhooks/twilio/voice", {**params, "From": "+1"}),
    ):
        refused = await twilio.post("/webhooks/twilio/voice", params, signature=signature)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "invalid_signature"
    unsigned = await voice_client.post(
        "/webhooks/twilio/voice",
        data=params,
    )
    assert unsigned.status_code == 403
    assert unsigned.json()["error"]["code"] == "invalid_signature"
    status = await twilio.post(
        "/webhooks/twilio/status",
        {"CallSid": CALL, "AccountSid": ACCOUNT_SID, "CallStatus": "completed"},
        signature="x",
    )
    assert status.status_code == 403
    assert await stored(voice_app) == before
    assert await count(voice_app, Customer) == customers


async def test_without_an_auth_token_twilio_webhooks_are_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    params = TwilioSide.call_params(CALL)
    response = await client.post(
        "/webhooks/twilio/voice",
        data=params,
        headers={"X-Twilio-Signature": TwilioSide.signature("http://x/", params)},
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "twilio_not_configured"
    assert "TWILIO_AUTH_TOKEN" in error["message"]
    assert await stored(app) == (0, 0, 0)


async def test_another_accounts_call_is_refused(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    params = {**TwilioSide.call_params(CALL), "AccountSid": "ACother"}
    response = await twilio.post("/webhooks/twilio/voice", params)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_account"


async def test_unknown_number_is_not_in_service_and_nothing_is_stored(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    before = await stored(voice_app)
    for _ in range(2):
        document = parse(await twilio.call(CALL, to="+861088886666"))
        assert [verb.tag for verb in document] == ["Say", "Say", "Hangup"]
        assert document[0].text == twiml.CHINESE.not_in_service
    assert await stored(voice_app) == before


async def test_unknown_call_sid_on_status_is_404_and_stores_nothing(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    before = await stored(voice_app)
    response = await twilio.status("CA" + "f" * 32, "completed")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_call"
    assert await stored(voice_app) == before


async def test_malformed_and_invalid_forms_are_422(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, voice_client: httpx.AsyncClient
) -> None:
    contact_of(parse(await twilio.call(CALL)))
    before = await stored(voice_app)
    malformed = await voice_client.post(
        "/webhooks/twilio/status",
        content=b"CallSid&&=",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "x",
        },
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "malformed_form"
    for params in (
        {"CallSid": CALL, "AccountSid": ACCOUNT_SID, "CallStatus": "exploded"},
        {
            "CallSid": CALL,
            "AccountSid": ACCOUNT_SID,
            "CallStatus": "completed",
            "CallDuration": "-1",
        },
        {
            "CallSid": CALL,
            "AccountSid": ACCOUNT_SID,
            "CallStatus": "completed",
            "RecordingUrl": "x",
        },
        {"AccountSid": ACCOUNT_SID, "CallStatus": "completed"},
    ):
        invalid = await twilio.post("/webhooks/twilio/status", params)
        assert invalid.status_code == 422, params
        assert invalid.json()["error"]["code"] == "invalid_input"
    no_to = {k: v for k, v in TwilioSide.call_params(CALL[:-1] + "9").items() if k != "To"}
    assert (await twilio.post("/webhooks/twilio/voice", no_to)).status_code == 422
    json_body = await voice_client.post("/webhooks/twilio/status", json={"CallSid": CALL})
    assert json_body.status_code == 415
    assert await stored(voice_app) == before


async def test_closed_queue_takes_a_voicemail(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    published = await center.publish(
        {
            "queues": {
                "support": {
                    "skills": [{"skill": "support", "level": 1}],
                    "hours": {"weekly": {}, "closed_action": "voicemail"},
                }
            }
        }
    )
    assert published.status_code == 201, published.text
    response = await twilio.call(CALL)
    document = parse(response)
    assert [verb.tag for verb in document] == ["Say", "Record", "Say", "Hangup"]
    action = urlsplit(document[1].get("action") or "")
    contact_id = int(parse_qs(action.query)["contact"][0])
    assert (await center.get(contact_id))["state"] == "ended"
    assert (await twilio.call(CALL)).text == response.text  # a retry: the same answer

    path = f"{action.path}?{action.query}"
    params = {
        "CallSid": CALL,
        "AccountSid": ACCOUNT_SID,
        "RecordingUrl": RECORDING,
        "RecordingDuration": "12",
    }
    thanks = parse(await twilio.post(path, params))
    assert thanks[0].text == twiml.CHINESE.message_thanks
    assert parse(await twilio.post(path, params)).text == thanks.text
    contact = await center.get(contact_id)
    assert contact["recording_url"] == RECORDING
    assert [e["kind"] for e in contact["events"]].count("call.voicemail") == 1


async def test_a_failed_bridge_is_recorded(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, fake_provider: FakeProvider
) -> None:
    fake_provider.statuses = [500, 503, 502]
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = contact_of(parse(await twilio.call(CALL)))
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200

    async def failure() -> object:
        events = await events_of(voice_app, contact_id)
        return next((e for e in events if e.kind == "call.bridge_failed"), None)

    failed = await eventually(failure)
    assert failed.payload["attempts"] == 3
    assert failed.payload["reason"] == "twilio: HTTP 502"
    assert failed.agent_id == center.id("li.na")
    assert len(fake_provider.requests) == 3


async def test_a_caller_gone_before_the_bridge_ends_the_contact_instead(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, fake_provider: FakeProvider
) -> None:
    await center.agent("li.na", {"support": 3})
    contact_id = contact_of(parse(await twilio.call(CALL)))
    async with voice_app.state.db.unit_of_work() as session:
        from app.channels.voice.service import find_call, update_call_info

        contact = await find_call(session, "twilio", CALL)
        assert contact is not None
        update_call_info(contact, status="completed")
    await center.available("li.na")
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    await center.wait_state(contact_id, "wrap_up", "li.na")
    assert "call.bridge_skipped" in await event_kinds(voice_app, contact_id)
    assert fake_provider.requests == []


IN_PROGRESS = {"CallSid": CALL, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress"}


class OnHold:
    """A call waiting in the support queue, whose escalation step makes ``action`` due."""

    def __init__(self, twilio: TwilioSide, contact_id: int) -> None:
        self.twilio = twilio
        self.contact_id = contact_id
        self.hold = f"/webhooks/twilio/hold?contact={contact_id}"
        self.choice = f"/webhooks/twilio/hold/choice?contact={contact_id}"

    @classmethod
    async def past_step(cls, center: Center, twilio: TwilioSide, action: str) -> OnHold:
        policy = {
            "skills": [{"skill": "support", "level": 1}],
            "steps": [{"after_seconds": 0.2, "action": action}],
        }
        published = await center.publish({"queues": {"support": policy}})
        assert published.status_code == 201, published.text
        return cls(twilio, contact_of(parse(await twilio.call(CALL))))

    async def turn(self) -> Element:
        return parse(await self.twilio.post(self.hold, IN_PROGRESS))

    async def offer(self) -> Element:
        """The turn's ``<Gather>``, once the step is due."""

        async def offered() -> Element | None:
            return (await self.turn()).find("Gather")

        gather: Element = await eventually(offered)
        return gather

    async def press(self, digits: str) -> Element:
        return parse(await self.twilio.post(self.choice, {**IN_PROGRESS, "Digits": digits}))


async def test_past_a_callback_step_the_hold_loop_offers_one_and_the_caller_keeps_their_place(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    call = await OnHold.past_step(center, twilio, "callback")
    gather = await call.offer()
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == PUBLIC + call.choice
    assert [verb.tag for verb in gather] == ["Say", "Say", "Play"]
    assert gather[1].text == twiml.CHINESE.offer_callback
    assert contact_of(await call.turn()) == call.contact_id  # no key: the next turn

    other_key = await call.press("5")
    assert other_key.find("Hangup") is None
    assert contact_of(other_key) == call.contact_id
    for _ in range(2):  # a retried webhook books nothing twice
        booked = await call.press("1")
        assert booked.findtext("Say") == twiml.CHINESE.callback_booked
        assert booked.find("Hangup") is not None
    contact = await center.get(call.contact_id)
    assert contact["attributes"]["callback"] == {"number": CALLER}
    kinds = [e["kind"] for e in contact["events"]]
    assert kinds.count("contact.callback_requested") == 1
    assert "contact.step_action_due" in kinds
    assert (await call.turn()).find("Gather") is None

    assert (await twilio.status(CALL, "completed")).status_code == 204
    assert (await center.get(call.contact_id))["state"] == "queued"


async def test_without_a_callback_step_the_hold_loop_offers_none(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    call = OnHold(twilio, contact_of(parse(await twilio.call(CALL))))
    await asyncio.sleep(0.3)
    assert (await call.turn()).find("Gather") is None
    assert (await call.press("1")).find("Hangup") is None
    assert "callback" not in (await center.get(call.contact_id))["attributes"]


async def test_past_a_voicemail_step_the_caller_may_leave_a_message_and_keep_their_place(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    call = await OnHold.past_step(center, twilio, "voicemail")
    assert (await call.offer())[1].text == twiml.CHINESE.offer_voicemail
    voicemail_url = f"{PUBLIC}/webhooks/twilio/voicemail?contact={call.contact_id}"
    for _ in range(2):  # a retried webhook answers the same and books nothing twice
        document = await call.press("1")
        assert document.findtext("Say") == twiml.CHINESE.leave_message
        recording = document.find("Record")
        assert recording is not None
        assert recording.get("action") == voicemail_url

    thanks = parse(
        await twilio.post(
            f"/webhooks/twilio/voicemail?contact={call.contact_id}",
            {**IN_PROGRESS, "RecordingUrl": RECORDING, "RecordingDuration": "12"},
        )
    )
    assert thanks.findtext("Say") == twiml.CHINESE.message_thanks
    assert (await twilio.status(CALL, "completed")).status_code == 204
    contact = await center.get(call.contact_id)
    assert contact["state"] == "queued"
    assert contact["recording_url"] == RECORDING
    assert contact["attributes"]["callback"] == {"number": CALLER}
    kinds = [e["kind"] for e in contact["events"]]
    assert kinds.count("contact.callback_requested") == 1
    assert "call.voicemail" in kinds
