"""CSAT in the chat: the agent ends, the visitor rates on the same socket, once."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.channels.chat.conftest import Desk
from tests.supervisor.test_consult import supervisor_socket
from tests.surveys.flows import assigned_chat, end_by_agent


async def test_the_visitor_rates_the_chat_once(live_desk: Desk, supervisor: dict[str, str]) -> None:
    agent_id = await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        contact_id = await assigned_chat(live_desk, visitor, "li.na")
        request = await end_by_agent(live_desk, visitor, "li.na", contact_id)
        assert (request["min_score"], request["max_score"]) == (1, 5)
        assert datetime.fromisoformat(request["expires_at"]) > datetime.now().astimezone()

        await visitor.send({"type": "csat", "score": 5, "comment": "  很满意，谢谢  "})
        assert await visitor.next_of("csat_recorded") == {"type": "csat_recorded", "score": 5}
        await visitor.send({"type": "csat", "score": 1})
        second = await visitor.next_of("error")
        assert second["code"] == "already_rated"

    response = await live_desk.client.get(
        f"/api/v1/contacts/{contact_id}/csat", headers=live_desk.headers("li.na")
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert found | {"offered_at": None, "answered_at": None, "expires_at": None} == {
        "contact_id": contact_id,
        "channel": "chat",
        "agent_id": agent_id,
        "queue": "support",
        "grade": None,
        "score": 5,
        "comment": "很满意，谢谢",
        "offered_at": None,
        "answered_at": None,
        "expires_at": None,
        "case_id": None,
    }
    by_supervisor = await live_desk.client.get(
        f"/api/v1/contacts/{contact_id}/csat", headers=supervisor
    )
    assert by_supervisor.json()["score"] == 5


async def test_another_agent_cannot_read_the_rating(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    await live_desk.agent("tom", available=False)
    async with live_desk.visitor() as visitor:
        contact_id = await assigned_chat(live_desk, visitor, "li.na")
        await end_by_agent(live_desk, visitor, "li.na", contact_id)
        await visitor.send({"type": "csat", "score": 4})
        await visitor.next_of("csat_recorded")
    path = f"/api/v1/contacts/{contact_id}/csat"
    refused = await live_desk.client.get(path, headers=live_desk.headers("tom"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert (await live_desk.client.get(path)).status_code == 401


async def test_a_rating_before_the_end_is_refused_and_not_stored(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        contact_id = await assigned_chat(live_desk, visitor, "li.na")
        await visitor.send({"type": "csat", "score": 5})
        assert (await visitor.next_of("error"))["code"] == "no_survey"
        for bad in ({"type": "csat", "score": 6}, {"type": "csat", "score": "5"}):
            await visitor.send(bad)
            assert (await visitor.next_of("error"))["code"] == "invalid_message"
    response = await live_desk.client.get(
        f"/api/v1/contacts/{contact_id}/csat", headers=live_desk.admin
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_survey"


async def test_a_visitor_who_reconnects_still_gets_the_survey(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await live_desk.accept("li.na", started["contact_id"])
        await visitor.next_of("agent_joined", skip=("position", "message"))
        await end_by_agent(live_desk, visitor, "li.na", started["contact_id"])
    async with live_desk.visitor() as again:
        await again.hello(started)
        await again.next_of("ended", skip=("message",))
        await again.next_of("csat_request")
        await again.send({"type": "csat", "score": 3})
        assert (await again.next_of("csat_recorded"))["score"] == 3
        await again.send({"type": "end"})
        assert await again.closed_with() == 1000


@pytest.mark.parametrize("score", [1, 2])
async def test_a_low_rating_opens_a_complaint_and_alerts_supervisors(
    live_desk: Desk, supervisor: dict[str, str], live_url: str, score: int
) -> None:
    agent_id = await live_desk.agent("li.na")
    base = live_url.replace("http://", "ws://")
    async with supervisor_socket(base, supervisor) as wallboard, live_desk.visitor() as visitor:
        contact_id = await assigned_chat(
            live_desk, visitor, "li.na", name="王小明", email="wang.xm@example.cn"
        )
        await end_by_agent(live_desk, visitor, "li.na", contact_id)
        await visitor.send({"type": "csat", "score": score, "comment": "等了太久"})
        await visitor.next_of("csat_recorded")
        alert = await wallboard.next_of("csat_low")

    survey = (
        await live_desk.client.get(f"/api/v1/contacts/{contact_id}/csat", headers=supervisor)
    ).json()
    case_id = survey["case_id"]
    assert alert == {
        "type": "csat_low",
        "contact_id": contact_id,
        "score": score,
        "channel": "chat",
        "agent_id": agent_id,
        "queue": "support",
        "customer_id": alert["customer_id"],
        "case_id": case_id,
        "answered_at": alert["answered_at"],
    }
    assert alert["customer_id"] is not None
    case = await live_desk.client.get(f"/api/v1/cases/{case_id}", headers=live_desk.admin)
    assert case.status_code == 200, case.text
    body = case.json()
    assert (body["type"], body["origin"], body["state"]) == ("complaint", "csat", "new")
    assert body["customer_id"] == alert["customer_id"]
    assert contact_id in body["contact_ids"]


async def test_a_low_rating_reopens_the_customers_recently_resolved_complaint(
    live_desk: Desk, supervisor: dict[str, str]
) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        contact_id = await assigned_chat(
            live_desk, visitor, "li.na", name="王小明", email="wang.xm@example.cn"
        )
        customer_id = (await live_desk.contact(contact_id))["customer_id"]
        opened = await live_desk.client.post(
            "/api/v1/cases",
            json={"customer_id": customer_id, "type": "complaint", "subject": "包裹破损"},
            headers=supervisor,
        )
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["id"]
        resolved = await live_desk.client.patch(
            f"/api/v1/cases/{case_id}", json={"state": "resolved"}, headers=supervisor
        )
        assert resolved.status_code == 200, resolved.text
        await end_by_agent(live_desk, visitor, "li.na", contact_id)
        await visitor.send({"type": "csat", "score": 1})
        await visitor.next_of("csat_recorded")

    survey = await live_desk.client.get(f"/api/v1/contacts/{contact_id}/csat", headers=supervisor)
    assert survey.json()["case_id"] == case_id
    case = (await live_desk.client.get(f"/api/v1/cases/{case_id}", headers=supervisor)).json()
    assert case["state"] == "reopened"
    assert case["contact_ids"] == [contact_id]
    listed = await live_desk.client.get(
        "/api/v1/cases", params={"customer_id": customer_id}, headers=supervisor
    )
    assert [c["id"] for c in listed.json()["items"]] == [case_id]  # no second case
