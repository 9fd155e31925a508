"""The demo flow through the running service, driven as Twilio would drive it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.contacts.models import Contact
from app.ivr.runtime import ivr_state
from app.main import create_app
from app.queues.models import Queue
from tests.channels.voice.conftest import CALLER, PUBLIC, TwilioSide
from tests.helpers import make_vip
from tests.ivr.conftest import CLOSED, gather_action, parse, press
from tests.routing_service.conftest import Center


async def call_contact(app: FastAPI, call_sid: str) -> tuple[Contact, str]:
    async with app.state.db.sessionmaker() as session:
        contact = await session.scalar(select(Contact).where(Contact.provider_ref == call_sid))
        assert contact is not None
        queue = await session.get(Queue, contact.queue_id)
        assert queue is not None
        return contact, queue.name


def skills(contact: Contact) -> dict[str, int]:
    return {s["skill"]: s["level"] for s in contact.required_skills}


async def test_caller_chooses_english_and_billing_and_an_agent_accepts(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    answer = (await twilio.call("CAivr1")).text
    gather = parse(answer).find("Gather")
    assert gather is not None
    assert gather.attrib["input"] == "dtmf speech"
    assert [s.attrib["language"] for s in gather.iter("Say")] == ["zh-CN", "en-US"]

    menu = await press(twilio, gather_action(answer), "CAivr1", Digits="1")
    assert parse(menu).find("Gather").attrib["language"] == "en-US"  # type: ignore[union-attr]
    queued = await press(twilio, gather_action(menu), "CAivr1", Digits="3")
    redirect = parse(queued).find("Redirect")
    assert redirect is not None
    assert "/webhooks/twilio/hold?contact=" in (redirect.text or "")

    contact, queue = await call_contact(voice_app, "CAivr1")
    assert queue == "billing"
    assert skills(contact) == {"english": 2, "billing": 2}
    assert contact.attributes["ivr"]["language"] == "en-US"
    assert contact.attributes["ivr"]["inputs"] == {"language_choice": "english"}
    assert contact.attributes["call"]["language"] == "en-US"
    assert contact.attributes["ivr"]["path"][-1] == "billing"

    await demo.agent("amy", {"billing": 3, "english": 3})
    await demo.available("amy")
    await demo.wait_state(contact.id, "offered", "amy")
    accepted = await demo.act("amy", contact.id, "accept")
    assert accepted.status_code == 200, accepted.text
    await demo.wait_state(contact.id, "assigned", "amy")


async def test_invalid_input_is_retried_then_falls_back_to_the_operator(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    answer = (await twilio.call("CAivr2")).text
    menu = await press(twilio, gather_action(answer), "CAivr2", Digits="2")
    for _ in range(2):
        again = await press(twilio, gather_action(menu), "CAivr2", Digits="7")
        said = [s.text for s in parse(again).findall("Say")]
        assert said == ["对不起，您的输入有误，请重新选择。"]
        assert gather_action(again) != gather_action(menu)  # the next turn
        menu = again
    await press(twilio, gather_action(menu), "CAivr2", Digits="7")
    contact, queue = await call_contact(voice_app, "CAivr2")
    assert (queue, contact.priority, skills(contact)) == ("support", 5, {"mandarin": 2})


async def test_a_vip_caller_skips_the_menu(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    created = await demo.client.post(
        "/api/v1/customers",
        json={"name": "贵宾", "phones": [CALLER], "language": "en-US"},
        headers=demo.admin,
    )
    assert created.status_code == 201, created.text
    await make_vip(demo.client, demo.admin, created.json()["id"])
    answer = parse((await twilio.call("CAvip")).text)
    assert answer.find("Gather") is None
    assert [s.attrib["language"] for s in answer.findall("Say")] == ["en-US"]
    contact, queue = await call_contact(voice_app, "CAvip")
    assert (queue, contact.priority, skills(contact)) == ("vip", 50, {"vip_care": 3})
    assert contact.customer_id == created.json()["id"]


async def test_a_restart_between_two_key_presses_keeps_the_place(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide, clean_db: str
) -> None:
    answer = (await twilio.call("CArestart")).text
    menu = await press(twilio, gather_action(answer), "CArestart", Digits="1")
    restarted = create_app(voice_app.state.settings, database_url=clean_db)
    async with restarted.router.lifespan_context(restarted):
        ivr_state(restarted).clock = ivr_state(voice_app).clock
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            queued = await press(TwilioSide(http), gather_action(menu), "CArestart", Digits="1")
    assert "/webhooks/twilio/hold?contact=" in queued
    contact, queue = await call_contact(voice_app, "CArestart")
    assert (queue, skills(contact)) == ("sales", {"english": 2, "sales": 2})


async def test_a_retried_webhook_changes_nothing(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    answer = (await twilio.call("CAretry")).text
    assert (await twilio.call("CAretry")).text == answer
    action = gather_action(answer)
    first = await press(twilio, action, "CAretry", Digits="1")
    assert await press(twilio, action, "CAretry", Digits="2") == first  # a stale turn


async def test_order_status_self_service_is_contained(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    answer = (await twilio.call("CAorder")).text
    menu = await press(twilio, gather_action(answer), "CAorder", Digits="1")
    ask = await press(twilio, gather_action(menu), "CAorder", Digits="4")
    lookup = parse(await press(twilio, gather_action(ask), "CAorder", Digits="123457#"))
    redirect = lookup.find("Redirect")
    assert redirect is not None
    assert redirect.text is not None
    status = await press(twilio, redirect.text.removeprefix(PUBLIC), "CAorder")
    assert "Your order 123457 is shipped." in [s.text for s in parse(status).findall("Say")]
    bye = parse(await press(twilio, gather_action(status), "CAorder", Digits="9"))
    assert bye.find("Hangup") is not None

    metrics = await _metrics(demo)
    assert metrics["contained"] == 1
    assert metrics["routed"] == {}
    assert metrics["nodes"]["order_lookup"]["entered"] == 1


async def test_hanging_up_in_the_menu_is_counted(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    answer = (await twilio.call("CAgone")).text
    await press(twilio, gather_action(answer), "CAgone", Digits="2")
    ended = await twilio.status("CAgone", "completed")
    assert ended.status_code == 204, ended.text
    answer = (await twilio.call("CAstays")).text
    menu = await press(twilio, gather_action(answer), "CAstays", Digits="2")
    await press(twilio, gather_action(menu), "CAstays", Digits="1")

    metrics = await _metrics(demo)
    assert (metrics["started"], metrics["hung_up"], metrics["completed"]) == (2, 1, 1)
    assert metrics["nodes"]["main_menu"]["hung_up"] == 1
    assert metrics["routed"] == {"sales": 1}


async def test_out_of_hours_the_caller_leaves_a_message(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    ivr_state(voice_app).clock = lambda: CLOSED
    answer = (await twilio.call("CAnight")).text
    closed = await press(twilio, gather_action(answer), "CAnight", Digits="2")
    record = parse(await press(twilio, gather_action(closed), "CAnight", Digits="1")).find("Record")
    assert record is not None
    url = "https://api.twilio.example/recordings/RE1"
    bye = await press(
        twilio, record.attrib["action"].removeprefix(PUBLIC), "CAnight", RecordingUrl=url
    )
    assert parse(bye).find("Hangup") is not None
    contact, queue = await call_contact(voice_app, "CAnight:voicemail")
    assert (queue, contact.state, contact.recording_url) == ("support", "queued", url)
    assert (await twilio.status("CAnight", "completed")).status_code == 204
    assert (await call_contact(voice_app, "CAnight:voicemail"))[0].state == "queued"


async def _metrics(demo: Center) -> Any:
    flows = await demo.client.get("/api/v1/ivr/flows", headers=demo.admin)
    flow_id = flows.json()[0]["id"]
    response = await demo.client.get(f"/api/v1/ivr/flows/{flow_id}/metrics", headers=demo.admin)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_unsigned_ivr_webhook_is_refused_and_changes_nothing(
    voice_app: FastAPI, demo: Center, twilio: TwilioSide
) -> None:
    answer = (await twilio.call("CAsign")).text
    action = gather_action(answer)
    params = {"CallSid": "CAsign", "AccountSid": "AC0123456789abcdef0123456789abcdef"}
    forged = await twilio.post(action, {**params, "Digits": "1"}, signature="Zm9yZ2Vk")
    assert forged.status_code == 403
    assert await press(twilio, action, "CAsign", Digits="2") != answer  # the turn still open
