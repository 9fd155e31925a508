"""Call controls through the running app: an agent's hold and resume, a supervisor's
listening, whispering and barging, for Twilio and CTI calls, with the providers faked."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.channels.voice import twiml
from app.channels.voice.controls import LiveCall, check_control
from app.errors import Conflict
from tests.channels.voice.conftest import (
    ACCOUNT_SID,
    CALLER,
    NUMBER,
    CtiSide,
    FakeProvider,
    Recorded,
    TwilioSide,
    contact_row,
    event_kinds,
)
from tests.routing_service.conftest import Center, eventually

CALL = "CA00000000000000000000000000000077"
CTI_CALL = "pbx-call-77"
OFFERED = {
    "id": "e-offered",
    "type": "call.offered",
    "call_id": CTI_CALL,
    "timestamp": "2025-01-06T09:00:00+00:00",
    "from": CALLER,
    "to": NUMBER,
}


async def _requests(fake: FakeProvider, count: int) -> list[Recorded] | None:
    return fake.requests if len(fake.requests) >= count else None


async def _connected_twilio_call(center: Center, twilio: TwilioSide, fake: FakeProvider) -> int:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    answer = await twilio.call(CALL)
    assert answer.status_code == 200, answer.text
    contact_id = int(answer.text.split("contact=")[1].split("<")[0].split("&")[0])
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    await eventually(lambda: _requests(fake, 1))  # the bridge
    return contact_id


async def _connected_cti_call(center: Center, pbx: CtiSide, fake: FakeProvider) -> int:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    answer = await pbx.send(OFFERED)
    assert answer.status_code == 200, answer.text
    contact_id: int = answer.json()["contact_id"]
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    await eventually(lambda: _requests(fake, 1))  # the bridge command
    return contact_id


async def _agent_holds(center: Center, contact_id: int) -> httpx.Response:
    """The contact's agent puts the caller on hold; the provider took it."""
    held = await _control(center.client, center.agents["li.na"][1], contact_id, "hold")
    assert held.status_code == 200, held.text
    return held


async def _control(
    client: httpx.AsyncClient, headers: dict[str, str], contact_id: int, control: str
) -> httpx.Response:
    return await client.post(f"/api/v1/contacts/{contact_id}/call/{control}", headers=headers)


async def test_a_twilio_caller_is_put_on_hold_and_taken_back(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, fake_provider: FakeProvider
) -> None:
    contact_id = await _connected_twilio_call(center, twilio, fake_provider)
    agent = center.agents["li.na"][1]
    held = await _agent_holds(center, contact_id)
    assert held.json() == {
        "contact_id": contact_id,
        "control": "hold",
        "provider": "twilio",
        "attempts": 1,
    }
    hold = fake_provider.requests[1]
    assert hold.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL}.json"
    assert twiml.CHINESE.on_hold in hold.form()["Twiml"]
    assert '<Play loop="0">' in hold.form()["Twiml"]
    assert (await contact_row(voice_app, contact_id)).attributes["call"]["on_hold"] is True

    again = await _control(center.client, agent, contact_id, "hold")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_on_hold"
    assert len(fake_provider.requests) == 2  # nothing sent for a refusal

    resumed = await _control(center.client, agent, contact_id, "resume")
    assert resumed.status_code == 200, resumed.text
    assert "<Client>agent-li.na</Client>" in fake_provider.requests[2].form()["Twiml"]
    call = (await contact_row(voice_app, contact_id)).attributes["call"]
    assert call["on_hold"] is False
    assert call["hold_seconds"] >= 0
    kinds = await event_kinds(voice_app, contact_id)
    assert [k for k in kinds if k in ("call.held", "call.resumed")] == [
        "call.held",
        "call.resumed",
    ]
    assert kinds.count("call.control_sent") == 2


async def test_a_twilio_call_cannot_be_monitored_and_another_agent_is_refused(
    voice_app: FastAPI, center: Center, twilio: TwilioSide, fake_provider: FakeProvider
) -> None:
    contact_id = await _connected_twilio_call(center, twilio, fake_provider)
    supervisor = await center.make_user("sup.wang", "supervisor")
    barge = await _control(center.client, supervisor, contact_id, "barge")
    assert barge.status_code == 409
    assert barge.json()["error"]["code"] == "not_supported_by_provider"

    await center.agent("zhao.lei", {"support": 3})
    other = await _control(center.client, center.agents["zhao.lei"][1], contact_id, "hold")
    assert other.status_code == 403
    agent_barge = await _control(center.client, center.agents["li.na"][1], contact_id, "barge")
    assert agent_barge.status_code == 403  # monitoring is a supervisor's
    assert len(fake_provider.requests) == 1  # the bridge only


async def test_a_cti_call_is_held_through_the_pbx_and_a_supervisor_whispers_then_barges(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    contact_id = await _connected_cti_call(center, pbx, fake_provider)
    await _agent_holds(center, contact_id)
    command = fake_provider.requests[1].json()
    assert (command["type"], command["call_id"], command["contact_id"]) == (
        "hold",
        CTI_CALL,
        contact_id,
    )
    assert command["agent"] == {"id": center.id("li.na"), "username": "li.na"}

    supervisor = await center.make_user("sup.wang", "supervisor")
    for mode in ("whisper", "barge"):
        answer = await _control(center.client, supervisor, contact_id, mode)
        assert answer.status_code == 200, answer.text
    sent = [r.json() for r in fake_provider.requests[2:]]
    assert [(c["type"], c["mode"], c["supervisor"]["username"]) for c in sent] == [
        ("monitor", "whisper", "sup.wang"),
        ("monitor", "barge", "sup.wang"),
    ]
    monitoring = (await contact_row(voice_app, contact_id)).attributes["call"]["monitoring"]
    assert monitoring["mode"] == "barge"
    stopped = await _control(center.client, supervisor, contact_id, "stop_monitoring")
    assert stopped.status_code == 200, stopped.text
    assert fake_provider.requests[-1].json()["type"] == "stop_monitoring"
    assert (await contact_row(voice_app, contact_id)).attributes["call"]["monitoring"] is None
    not_monitored = await _control(center.client, supervisor, contact_id, "stop_monitoring")
    assert not_monitored.json()["error"]["code"] == "not_monitored"


async def test_a_command_the_pbx_refuses_is_a_502_recorded_on_the_contact(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    contact_id = await _connected_cti_call(center, pbx, fake_provider)
    fake_provider.statuses = [503, 503, 503]
    answer = await _control(center.client, center.agents["li.na"][1], contact_id, "hold")
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "provider_unavailable"
    assert "call.control_failed" in await event_kinds(voice_app, contact_id)
    assert (await contact_row(voice_app, contact_id)).attributes["call"].get("on_hold") is None


async def test_only_a_connected_live_call_has_controls(
    voice_app: FastAPI, center: Center, pbx: CtiSide, fake_provider: FakeProvider
) -> None:
    await center.agent("li.na", {"support": 3})
    contact_id = (await pbx.send(OFFERED)).json()["contact_id"]
    supervisor = await center.make_user("sup.wang", "supervisor")
    waiting = await _control(center.client, supervisor, contact_id, "listen")
    assert waiting.status_code == 409
    assert waiting.json()["error"]["code"] == "call_not_connected"
    missing = await _control(center.client, supervisor, 987654, "hold")
    assert missing.status_code == 404
    assert fake_provider.requests == []


def _call(**changes: Any) -> LiveCall:
    values: dict[str, Any] = {
        "contact_id": 1,
        "provider": "cti",
        "call_ref": "c",
        "account_sid": None,
        "agent_id": 2,
        "agent_username": "li.na",
        "language": "zh-CN",
        "on_hold": False,
        "monitoring": None,
        "record": False,
    }
    return LiveCall(**(values | changes))


@pytest.mark.parametrize(
    ("control", "changes", "code"),
    [
        ("hold", {"on_hold": True}, "already_on_hold"),
        ("resume", {}, "not_on_hold"),
        ("stop_monitoring", {}, "not_monitored"),
        ("listen", {"provider": "twilio"}, "not_supported_by_provider"),
        (
            "stop_monitoring",
            {"provider": "twilio", "monitoring": "barge"},
            "not_supported_by_provider",
        ),
    ],
)
def test_a_control_the_call_is_not_in_a_state_for_is_refused(
    control: Any, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(Conflict) as refused:
        check_control(control, _call(**changes))
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("control", "changes"),
    [
        ("hold", {}),
        ("resume", {"on_hold": True}),
        ("listen", {}),
        ("barge", {"monitoring": "whisper"}),
        ("stop_monitoring", {"monitoring": "listen"}),
    ],
)
def test_a_control_the_call_is_in_a_state_for_passes(control: Any, changes: dict[str, Any]) -> None:
    check_control(control, _call(**changes))
