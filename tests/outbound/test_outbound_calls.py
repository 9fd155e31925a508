"""Outbound calls through the running service: HTTP, the agent console, the fake Twilio and
PBX, their status webhooks, and the retry runner."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.consent.models import TouchLog
from app.contacts.models import Contact
from app.outbound.attempts import settle
from app.outbound.models import OutboundCall
from app.outbound.runner import fire_due, settle_ended
from tests.agent_console.conftest import Console, open_console, token_of
from tests.channels.voice.conftest import (
    ACCOUNT_SID,
    PUBLIC,
    TOKEN,
    CtiSide,
    FakeProvider,
    TwilioSide,
    event_kinds,
)
from tests.outbound.conftest import (
    CALLER_ID,
    CUSTOMER_PHONE,
    make_customer,
    outbound_settings,
    running_app,
)
from tests.routing_service.conftest import Center, eventually

CALL_SID = "CA00000000000000000000000000000077"
SCRIPT = "您好，这里是客服中心，关于您的退款… / Hello, this is customer care about your refund…"


async def ask_call(center: Center, customer_id: int, **extra: Any) -> httpx.Response:
    body = {
        "customer_id": customer_id,
        "queue": "support",
        "purpose": "service",
        "script": SCRIPT,
        "origin": "api",
        "ref": "ticket:5821",
    }
    return await center.client.post(
        "/api/v1/outbound/calls", json=body | extra, headers=center.admin
    )


async def placed_call(center: Center, customer_id: int) -> tuple[int, int]:
    """A call asked for: (call id, first contact id)."""
    response = await ask_call(center, customer_id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "active"
    [first] = body["attempts"]
    assert (first["attempt"], first["state"]) == (1, "started")
    return body["id"], first["contact_id"]


async def get_call(center: Center, call_id: int) -> dict[str, Any]:
    response = await center.client.get(f"/api/v1/outbound/calls/{call_id}", headers=center.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def status(twilio: TwilioSide, contact_id: int, call_status: str, **extra: str) -> None:
    params = {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "CallStatus": call_status, **extra}
    response = await twilio.post(f"/webhooks/twilio/outbound/status?contact={contact_id}", params)
    assert response.status_code == 204, response.text


def console_url(live_url: str) -> str:
    return live_url.replace("http://", "ws://") + "/ws/agent"


async def requests_to(fake: FakeProvider, path: str, n: int = 1) -> list[Any] | None:
    found = [r for r in fake.requests if r.path == path]
    return found if len(found) >= n else None


async def offer_for(console: Console, contact_id: int) -> dict[str, Any]:
    while True:
        offer = await console.next_of("offer")
        if offer["contact_id"] == contact_id:
            return offer


async def outbound_contacts(app: FastAPI) -> int:
    async with app.state.db.sessionmaker() as session:
        found: int = await session.scalar(
            select(func.count()).select_from(Contact).where(Contact.direction == "outbound")
        )
        return found


CALLS_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"


async def test_preview_accept_dial_busy_then_retried_once_and_offered_again(
    voice_app: FastAPI,
    center: Center,
    twilio: TwilioSide,
    fake_provider: FakeProvider,
    live_url: str,
) -> None:
    await center.agent("li.na", {"support": 3})
    customer_id = await make_customer(center.client, center.admin)
    async with open_console(console_url(live_url)) as console:
        await console.hello(token_of(center.headers("li.na")))
        await center.available("li.na")
        call_id, contact_id = await placed_call(center, customer_id)

        offer = await offer_for(console, contact_id)
        pop = offer["pop"]
        assert pop["direction"] == "outbound"
        assert pop["outbound"] == {
            "call_id": call_id,
            "attempt": 1,
            "purpose": "service",
            "script": SCRIPT,
            "number_last_digits": "9000",
        }
        assert pop["customer"]["id"] == customer_id
        assert fake_provider.requests == []  # preview: nothing dialled before the accept

        accepted = await console.ask({"type": "accept", "contact_id": contact_id})
        assert accepted["type"] == "result", accepted
        [create] = await eventually(lambda: requests_to(fake_provider, CALLS_PATH))
        expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{TOKEN}".encode()).decode()
        assert create.method == "POST"
        assert create.headers["authorization"] == f"Basic {expected_auth}"
        form = create.form()
        assert (form["To"], form["From"]) == (CUSTOMER_PHONE, CALLER_ID)
        assert form["Twiml"] == "<Response><Dial><Client>agent-li.na</Client></Dial></Response>"
        callback = f"{PUBLIC}/webhooks/twilio/outbound/status?contact={contact_id}"
        assert form["StatusCallback"] == callback
        await eventually(lambda: _has(voice_app, contact_id, "call.dialled"))

        await status(twilio, contact_id, "ringing", SequenceNumber="1")
        await status(twilio, contact_id, "busy", SequenceNumber="2")
        await status(twilio, contact_id, "busy", SequenceNumber="2")  # replayed
        await status(twilio, contact_id, "ringing", SequenceNumber="1")  # late: ignored
        ended = await center.wait_state(contact_id, "wrap_up", "li.na")
        assert ended["disposition"] == "busy"
        assert ended["provider_ref"] == CALL_SID
        assert ended["attributes"]["call"]["status"] == "busy"

        call = await get_call(center, call_id)
        first, second = call["attempts"]
        assert (first["state"], first["disposition"]) == ("done", "busy")
        assert second["attempt"] == 2
        assert second["state"] == "scheduled"
        due = datetime.fromisoformat(second["due_at"])
        assert timedelta(hours=1, minutes=59) < due - datetime.now(UTC) <= timedelta(hours=2)

        wrapped = await console.ask(
            {"type": "wrap_up", "contact_id": contact_id, "disposition": "busy"}
        )
        assert wrapped["type"] == "result", wrapped
        assert len((await get_call(center, call_id))["attempts"]) == 2  # same outcome: no new

        assert await fire_due(voice_app.state.db, now=due - timedelta(seconds=1)) == []
        [retry] = await fire_due(voice_app.state.db, now=due + timedelta(seconds=1))
        assert await fire_due(voice_app.state.db, now=due + timedelta(seconds=2)) == []
        again = await offer_for(console, retry)
        assert again["pop"]["outbound"]["attempt"] == 2
        assert again["pop"]["outbound"]["script"] == SCRIPT
    call = await get_call(center, call_id)
    assert [a["contact_id"] for a in call["attempts"]] == [contact_id, retry]
    assert await outbound_contacts(voice_app) == 2


async def dispose(app: FastAPI, contact_id: int, disposition: str) -> None:
    """The try ends with ``disposition``, as the agent's wrap-up or a provider's outcome
    ends it (``app.outbound.attempts.settle``), without routing it to anyone."""
    async with app.state.db.unit_of_work() as session:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        await settle(session, contact, disposition, datetime.now(UTC))


async def busy_call(app: FastAPI, center: Center) -> tuple[int, int, int]:
    """A call whose first try was busy (its retry scheduled): customer, call, first contact."""
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await dispose(app, contact_id, "busy")
    return customer_id, call_id, contact_id


async def _has(app: FastAPI, contact_id: int, kind: str) -> bool:
    return kind in await event_kinds(app, contact_id)


async def test_reached_then_do_not_call_refuses_voice_and_nothing_is_retried(
    voice_app: FastAPI,
    center: Center,
    twilio: TwilioSide,
    fake_provider: FakeProvider,
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    await eventually(lambda: requests_to(fake_provider, CALLS_PATH))
    await eventually(lambda: _has(voice_app, contact_id, "call.dialled"))
    await status(twilio, contact_id, "in-progress", SequenceNumber="2")
    ended = await center.act("li.na", contact_id, "end", {"disposition": "do_not_call"})
    assert ended.status_code == 200, ended.text
    await status(twilio, contact_id, "completed", SequenceNumber="3", CallDuration="30")
    contact = await center.wait_state(contact_id, "wrap_up", "li.na")
    assert contact["disposition"] == "do_not_call"  # the agent's, not overwritten
    consent = await center.client.get(
        f"/api/v1/customers/{customer_id}/consent", headers=center.admin
    )
    assert consent.status_code == 200, consent.text
    voice = {
        c["purpose"]: c["status"] for c in consent.json()["consents"] if c["channel"] == "voice"
    }
    call = await get_call(center, call_id)
    assert (call["state"], call["outcome"]) == ("done", "do_not_call")
    assert voice["service"] == voice["marketing"] == "refused"
    assert len(call["attempts"]) == 1
    again = await ask_call(center, customer_id)
    assert again.status_code == 409
    assert again.json()["error"]["details"]["reason"] == "refused"


async def test_a_suppressed_call_answers_409_is_recorded_and_creates_no_contact(
    voice_app: FastAPI, center: Center
) -> None:
    customer_id = await make_customer(center.client, center.admin)
    marketing = await ask_call(center, customer_id, purpose="marketing")
    assert marketing.status_code == 409, marketing.text
    error = marketing.json()["error"]
    assert error["code"] == "touch_suppressed"
    assert error["details"]["reason"] == "no_marketing_consent"

    flagged = await center.client.put(
        f"/api/v1/customers/{customer_id}/contact-preferences",
        json={"do_not_contact": True, "source": "agent"},
        headers=center.admin,
    )
    assert flagged.status_code == 200, flagged.text
    service = await ask_call(center, customer_id)
    assert service.status_code == 409
    assert service.json()["error"]["details"] == {
        "reason": "do_not_contact",
        "next_allowed_at": None,
    }

    suppressions = await center.client.get(
        f"/api/v1/customers/{customer_id}/suppressions", headers=center.admin
    )
    assert suppressions.status_code == 200, suppressions.text
    reasons = [s["reason"] for s in suppressions.json()["items"]]
    assert reasons == ["do_not_contact", "no_marketing_consent"]
    assert await outbound_contacts(voice_app) == 0


async def test_consent_is_checked_again_before_dialling(
    voice_app: FastAPI, center: Center, fake_provider: FakeProvider
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await center.wait_state(contact_id, "offered", "li.na")
    flagged = await center.client.put(
        f"/api/v1/customers/{customer_id}/contact-preferences",
        json={"do_not_contact": True, "source": "agent"},
        headers=center.admin,
    )
    assert flagged.status_code == 200, flagged.text
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200

    await eventually(lambda: _has(voice_app, contact_id, "call.dial_suppressed"))
    await center.wait_state(contact_id, "wrap_up", "li.na")
    call = await get_call(center, call_id)
    assert (call["state"], call["outcome"]) == ("suppressed", "do_not_contact")
    assert fake_provider.requests == []
    async with voice_app.state.db.sessionmaker() as session:
        outcomes = list(await session.scalars(select(TouchLog.outcome).order_by(TouchLog.id)))
    assert outcomes == ["made", "suppressed"]


async def test_invalid_requests_store_nothing(voice_app: FastAPI, center: Center) -> None:
    customer_id = await make_customer(center.client, center.admin)
    no_queue = await ask_call(center, customer_id, queue="nowhere")
    assert (no_queue.status_code, no_queue.json()["error"]["code"]) == (422, "unknown_queue")
    response = await center.client.post(
        "/api/v1/customers", json={"name": "No Phone"}, headers=center.admin
    )
    phoneless = await ask_call(center, response.json()["id"])
    assert (phoneless.status_code, phoneless.json()["error"]["code"]) == (422, "no_phone")
    unknown = await ask_call(center, 10**9)
    assert unknown.status_code == 404
    agent = await center.make_user("ma.li")
    refused = await center.client.post(
        "/api/v1/outbound/calls",
        json={"customer_id": customer_id, "queue": "support", "purpose": "service"},
        headers=agent,
    )
    assert refused.status_code == 403
    async with voice_app.state.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(TouchLog)) == 0
    assert await outbound_contacts(voice_app) == 0


async def test_a_retry_fires_once_over_a_restart(
    clean_db: str,
    fake_provider: FakeProvider,
    voice_app: FastAPI,
    center: Center,
) -> None:
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await dispose(voice_app, contact_id, "no_answer")
    call = await get_call(center, call_id)
    due = datetime.fromisoformat(call["attempts"][1]["due_at"])
    assert call["attempts"][1]["state"] == "scheduled"

    settings = outbound_settings(fake_provider)
    async with running_app(settings, clean_db) as restarted:
        later = due + timedelta(minutes=1)
        fired = await asyncio.gather(*(fire_due(restarted.state.db, now=later) for _ in range(3)))
        assert sorted(len(f) for f in fired) == [0, 0, 1]
    async with running_app(settings, clean_db) as again:
        assert await fire_due(again.state.db, now=due + timedelta(hours=1)) == []
        assert await outbound_contacts(again) == 2
    call = await get_call(center, call_id)
    assert [a["state"] for a in call["attempts"]] == ["done", "started"]


@pytest.mark.parametrize("app_overrides", [{"outbound_voice_provider": "cti"}])
async def test_through_a_pbx_the_accept_sends_a_dial_command(
    voice_app: FastAPI, center: Center, fake_provider: FakeProvider, pbx: CtiSide
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    [command] = await eventually(lambda: requests_to(fake_provider, "/cti/commands"))
    sent = command.json()
    assert sent["type"] == "dial"
    assert (sent["to"], sent["from"], sent["call_id"]) == (
        CUSTOMER_PHONE,
        CALLER_ID,
        f"out-{contact_id}",
    )
    assert sent["agent"] == {"id": center.id("li.na"), "username": "li.na"}
    await eventually(lambda: _has(voice_app, contact_id, "call.dialled"))
    contact = await center.get(contact_id)
    assert (contact["provider"], contact["provider_ref"]) == ("cti", f"out-{contact_id}")

    ended = {
        "id": "evt-out-1",
        "type": "call.ended",
        "call_id": f"out-{contact_id}",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {"reason": "no_answer"},
    }
    for _ in range(2):  # the PBX retrying its event changes nothing more
        answer = await pbx.send(ended)
        assert answer.status_code == 200, answer.text
    contact = await center.wait_state(contact_id, "wrap_up", "li.na")
    assert contact["disposition"] == "no_answer"
    call = await get_call(center, call_id)
    assert [(a["attempt"], a["state"]) for a in call["attempts"]] == [(1, "done"), (2, "scheduled")]


@pytest.mark.parametrize("app_overrides", [{"router_enabled": False, "outbound_retry_minutes": 0}])
async def test_the_leaders_runner_starts_a_due_retry_once_across_restarts(
    clean_db: str,
    fake_provider: FakeProvider,
    voice_app: FastAPI,
    center: Center,
) -> None:
    """The first instance stands by (it routes nothing, so its runner starts nothing); a
    leader starts the retry due at once; a leader started after it starts nothing more."""
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await dispose(voice_app, contact_id, "no_answer")
    assert (await get_call(center, call_id))["attempts"][1]["state"] == "scheduled"

    leader = outbound_settings(fake_provider, outbound_retry_minutes=0)
    async with running_app(leader, clean_db) as first:

        async def started() -> dict[str, Any] | None:
            call = await get_call(center, call_id)
            return call if call["attempts"][1]["state"] == "started" else None

        call = await eventually(started)
        assert first.state.distributor.is_leader
    async with running_app(leader, clean_db) as second:
        later = datetime.now(UTC) + timedelta(hours=1)
        assert await fire_due(second.state.db, now=later) == []
        assert await outbound_contacts(second) == 2
    assert (await get_call(center, call_id))["attempts"] == call["attempts"]


async def test_a_callback_whose_caller_hung_up_is_dialled_when_an_agent_accepts_it(
    voice_app: FastAPI,
    center: Center,
    twilio: TwilioSide,
    fake_provider: FakeProvider,
) -> None:
    inbound = "CA00000000000000000000000000000042"
    answered = await twilio.call(inbound)
    assert answered.status_code == 200, answered.text
    [contact_id] = await eventually(lambda: _contact_ids(voice_app))
    booked = await center.client.post(
        f"/api/v1/contacts/{contact_id}/callback",
        json={"number": "139 0013 9000"},
        headers=center.admin,
    )
    assert booked.status_code == 200, booked.text
    assert (await twilio.status(inbound, "completed")).status_code == 204
    assert (await center.get(contact_id))["state"] == "queued"  # keeps its place

    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    [create] = await eventually(lambda: requests_to(fake_provider, CALLS_PATH))
    form = create.form()
    assert (form["To"], form["From"]) == (CUSTOMER_PHONE, CALLER_ID)
    assert form["StatusCallback"].endswith(f"/webhooks/twilio/outbound/status?contact={contact_id}")
    await eventually(lambda: _has(voice_app, contact_id, "call.dialled"))

    await status(twilio, contact_id, "in-progress", SequenceNumber="1")
    await status(twilio, contact_id, "completed", SequenceNumber="2")
    ended = await center.wait_state(contact_id, "wrap_up", "li.na")
    assert ended["attributes"]["callback"]["call_sid"] == CALL_SID
    assert ended["attributes"]["callback"]["status"] == "completed"
    assert ended["provider_ref"] == inbound  # the caller's own call, still
    assert ended["disposition"] is None  # reached: the agent disposes
    async with voice_app.state.db.sessionmaker() as session:
        origins = list(await session.scalars(select(TouchLog.origin)))
    assert origins == ["callback"]


async def _contact_ids(app: FastAPI) -> list[int] | None:
    async with app.state.db.sessionmaker() as session:
        found = list(await session.scalars(select(Contact.id)))
    return found or None


async def test_a_status_for_a_call_never_placed_is_404_and_stores_nothing(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    params = {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "CallStatus": "busy"}
    for contact in (contact_id, contact_id + 1000):
        path = f"/webhooks/twilio/outbound/status?contact={contact}"
        response = await twilio.post(path, params)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_call")
    contact_row = await center.get(contact_id)
    assert contact_row["provider_ref"] is None
    assert len((await get_call(center, call_id))["attempts"]) == 1


async def test_a_try_that_ended_with_nobody_settling_it_is_settled_once_by_the_runner(
    voice_app: FastAPI, center: Center
) -> None:
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    abandoned = await center.client.post(
        f"/api/v1/contacts/{contact_id}/abandon", headers=center.admin
    )
    assert abandoned.status_code in (200, 202), abandoned.text
    await center.wait_state(contact_id, "abandoned")
    assert await settle_ended(voice_app.state.db) == []  # the disposition may still come
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await settle_ended(voice_app.state.db, now=later) == [contact_id]
    assert await settle_ended(voice_app.state.db, now=later) == []
    call = await get_call(center, call_id)
    assert call["state"] == "active"
    assert [(a["attempt"], a["state"], a["disposition"]) for a in call["attempts"]] == [
        (1, "done", "no_answer"),  # never answered: retried by the policy
        (2, "scheduled", None),
    ]


async def test_the_customers_export_lists_the_calls_to_them_and_their_tries(
    voice_app: FastAPI, center: Center
) -> None:
    customer_id, call_id, contact_id = await busy_call(voice_app, center)
    exported = await center.client.get(
        f"/api/v1/customers/{customer_id}/export",
        params={"reason": "the customer asked for their data"},
        headers=center.admin,
    )
    assert exported.status_code == 200, exported.text
    document = json.loads(exported.content)
    [call] = document["outbound_calls"]
    assert (call["id"], call["customer_id"]) == (call_id, customer_id)
    tries = sorted(document["outbound_attempts"], key=lambda a: a["attempt"])
    assert [(a["call_id"], a["attempt"]) for a in tries] == [(call_id, 1), (call_id, 2)]
    assert tries[0]["contact_id"] == contact_id


async def test_erasing_the_customer_clears_the_script_and_a_due_retry_finds_no_number(
    voice_app: FastAPI, center: Center
) -> None:
    customer_id, call_id, _ = await busy_call(voice_app, center)
    erased = await center.client.post(
        f"/api/v1/customers/{customer_id}/erase",
        json={"reason": "the customer asked to be forgotten"},
        headers=center.admin,
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["outbound_scripts"] == 1
    async with voice_app.state.db.sessionmaker() as session:
        call_row = await session.get(OutboundCall, call_id)
        assert call_row is not None
        assert call_row.script is None

    assert await fire_due(voice_app.state.db, now=datetime.now(UTC) + timedelta(hours=3)) == []
    call = await get_call(center, call_id)
    assert (call["state"], call["outcome"]) == ("done", "no_phone")
    assert call["attempts"][1]["state"] == "suppressed"


async def test_a_retry_whose_queue_stopped_taking_calls_closes_the_call(
    voice_app: FastAPI, center: Center
) -> None:
    customer_id = await make_customer(center.client, center.admin)
    call_id, contact_id = await placed_call(center, customer_id)
    await dispose(voice_app, contact_id, "no_answer")
    queues = await center.client.get("/api/v1/queues", headers=center.admin)
    [support] = [q for q in queues.json()["items"] if q["name"] == "support"]
    changed = await center.client.patch(
        f"/api/v1/queues/{support['id']}", json={"channels": ["chat"]}, headers=center.admin
    )
    assert changed.status_code == 200, changed.text

    assert await fire_due(voice_app.state.db, now=datetime.now(UTC) + timedelta(hours=3)) == []
    call = await get_call(center, call_id)
    assert (call["state"], call["outcome"]) == ("done", "channel_not_served")
    assert call["attempts"][1]["state"] == "cancelled"
    assert await fire_due(voice_app.state.db, now=datetime.now(UTC) + timedelta(hours=4)) == []
