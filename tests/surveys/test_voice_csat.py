"""CSAT by phone: when the agent hangs up, the caller hears the survey and presses 1-5."""

from __future__ import annotations

from xml.etree.ElementTree import Element, fromstring

import httpx
from fastapi import FastAPI

from app.channels.voice import twiml
from tests.channels.voice.conftest import (  # noqa: F401  (fixtures)
    ACCOUNT_SID,
    PUBLIC,
    FakeProvider,
    TwilioSide,
    center,
    fake_provider,
    twilio,
    voice_app,
    voice_client,
)
from tests.routing_service.conftest import Center, eventually

CALL = "CA00000000000000000000000000000077"


def _xml(response: httpx.Response) -> Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return fromstring(response.text)  # noqa: S314 (our own output)


async def _talked(desk: Center, side: TwilioSide, provider: FakeProvider) -> int:
    """A call li.na accepted and was bridged to; its contact id."""
    await desk.agent("li.na", {"support": 3})
    await desk.available("li.na")
    answered = _xml(await side.call(CALL))
    redirect = answered.find("Redirect")
    assert redirect is not None
    assert redirect.text is not None
    contact_id = int(redirect.text.rsplit("contact=", 1)[1])
    await desk.wait_state(contact_id, "offered", "li.na")
    assert (await desk.act("li.na", contact_id, "accept")).status_code == 200

    async def bridged() -> bool:
        return bool(provider.requests)

    await eventually(bridged)
    return contact_id


def _dial_ended(contact_id: int, status: str) -> tuple[str, dict[str, str]]:
    params = {"CallSid": CALL, "AccountSid": ACCOUNT_SID, "DialCallStatus": status}
    return f"/webhooks/twilio/survey?contact={contact_id}", params


def _key(contact_id: int, digits: str) -> tuple[str, dict[str, str]]:
    params = {"CallSid": CALL, "AccountSid": ACCOUNT_SID, "Digits": digits}
    return f"/webhooks/twilio/survey/answer?contact={contact_id}", params


async def test_the_caller_rates_the_call_once_whatever_twilio_retries(
    voice_app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    twilio: TwilioSide,  # noqa: F811
    fake_provider: FakeProvider,  # noqa: F811
) -> None:
    contact_id = await _talked(center, twilio, fake_provider)

    survey = _xml(await twilio.post(*_dial_ended(contact_id, "completed")))
    gather = survey.find("Gather")
    assert gather is not None
    assert gather.get("action") == f"{PUBLIC}/webhooks/twilio/survey/answer?contact={contact_id}"
    assert gather.get("numDigits") == "1"
    prompt = gather.find("Say")
    assert prompt is not None
    assert (prompt.get("language"), prompt.text) == ("zh-CN", twiml.CHINESE.survey)
    await center.wait_state(contact_id, "wrap_up", "li.na")  # the agent is free at once
    again = _xml(await twilio.post(*_dial_ended(contact_id, "completed")))
    assert again.find("Gather") is not None  # a retried action: the same survey

    wrong = _xml(await twilio.post(*_key(contact_id, "9")))
    assert wrong.find("Gather") is not None  # asked again, nothing stored
    thanks = await twilio.post(*_key(contact_id, "2"))
    said = _xml(thanks).find("Say")
    assert said is not None
    assert said.text == twiml.CHINESE.survey_thanks
    retried = await twilio.post(*_key(contact_id, "5"))
    assert retried.text == thanks.text

    found = await center.client.get(f"/api/v1/contacts/{contact_id}/csat", headers=center.admin)
    assert found.status_code == 200, found.text
    rating = found.json()
    assert (rating["channel"], rating["score"], rating["comment"]) == ("voice", 2, None)
    assert rating["case_id"] is not None  # a low score: a complaint case for the caller
    after = _xml(await twilio.post(*_dial_ended(contact_id, "completed")))
    assert after.find("Gather") is None  # rated: no second survey
    assert after.find("Hangup") is not None


async def test_a_dial_the_agent_never_answered_hangs_up_without_survey(
    voice_app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    twilio: TwilioSide,  # noqa: F811
    fake_provider: FakeProvider,  # noqa: F811
) -> None:
    contact_id = await _talked(center, twilio, fake_provider)
    document = _xml(await twilio.post(*_dial_ended(contact_id, "no-answer")))
    assert document.find("Gather") is None
    assert document.find("Hangup") is not None
    refused = await center.client.get(
        f"/api/v1/contacts/{contact_id}/csat", headers=center.admin
    )
    assert refused.status_code == 404
