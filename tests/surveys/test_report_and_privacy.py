"""The CSAT report's figures, and CSAT answers in the privacy export and erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.channels.chat.conftest import Desk
from tests.surveys.flows import assigned_chat, end_by_agent

REASON = "Art. 15 request of the customer"


async def _rated_chat(desk: Desk, agent: str, score: int | None, **body: Any) -> int:
    """A chat the agent ends; the visitor rates it (``score``) or leaves without rating."""
    async with desk.visitor() as visitor:
        contact_id = await assigned_chat(desk, visitor, agent, **body)
        await end_by_agent(desk, visitor, agent, contact_id)
        if score is None:
            await visitor.send({"type": "end"})
            assert await visitor.closed_with() == 1000
        else:
            await visitor.send({"type": "csat", "score": score, "comment": "客服很耐心"})
            await visitor.next_of("csat_recorded")
    return contact_id


async def _free(desk: Desk, agent: str, **state: str) -> None:
    """The agent finishes wrap-up, then takes ``state`` (default: available)."""
    done = await desk.client.post("/api/v1/agents/me/wrap-up/end", headers=desk.headers(agent))
    assert done.status_code == 200, done.text
    changed = await desk.client.put(
        "/api/v1/agents/me/state",
        json=state or {"state": "available"},
        headers=desk.headers(agent),
    )
    assert changed.status_code == 200, changed.text


async def test_the_report_gives_average_satisfied_share_and_response_rate(
    live_desk: Desk, supervisor: dict[str, str]
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    li_na = await live_desk.agent("li.na")
    tom = await live_desk.agent("tom", available=False)
    await _rated_chat(live_desk, "li.na", 5)
    await _free(live_desk, "li.na")
    await _rated_chat(live_desk, "li.na", None)
    await _free(live_desk, "li.na", state="not_ready", reason="break")
    changed = await live_desk.client.put(
        "/api/v1/agents/me/state", json={"state": "available"}, headers=live_desk.headers("tom")
    )
    assert changed.status_code == 200, changed.text
    await _rated_chat(live_desk, "tom", 2)

    report = await live_desk.client.get(
        "/api/v1/reports/csat", params={"group_by": "agent"}, headers=supervisor
    )
    assert report.status_code == 200, report.text
    rows = {row["group"]: row for row in report.json()["rows"]}
    assert rows == {
        str(li_na): {
            "group": str(li_na),
            "offered": 2,
            "responses": 1,
            "average": 5.0,
            "satisfied_pct": 100.0,
            "response_rate_pct": 50.0,
        },
        str(tom): {
            "group": str(tom),
            "offered": 1,
            "responses": 1,
            "average": 2.0,
            "satisfied_pct": 0.0,
            "response_rate_pct": 100.0,
        },
    }
    until = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    window = {"from": since.isoformat(), "to": until}
    for group_by, key in (("channel", "chat"), ("queue", "support"), ("grade", "none")):
        found = await live_desk.client.get(
            "/api/v1/reports/csat", params={"group_by": group_by, **window}, headers=supervisor
        )
        [row] = found.json()["rows"]
        assert (row["group"], row["offered"], row["responses"]) == (key, 3, 2)
        assert (row["average"], row["satisfied_pct"], row["response_rate_pct"]) == (
            3.5,
            50.0,
            66.7,
        )
    before = await live_desk.client.get(
        "/api/v1/reports/csat", params={"to": since.isoformat()}, headers=supervisor
    )
    assert before.json()["rows"] == []
    backwards = await live_desk.client.get(
        "/api/v1/reports/csat", params={"from": until, "to": since.isoformat()}, headers=supervisor
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["code"] == "invalid_period"
    unknown = await live_desk.client.get(
        "/api/v1/reports/csat", params={"group_by": "weather"}, headers=supervisor
    )
    assert unknown.status_code == 422
    refused = await live_desk.client.get(
        "/api/v1/reports/csat", headers=live_desk.headers("li.na")
    )
    assert refused.status_code == 403


async def test_the_answer_is_exported_and_its_comment_erased(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    contact_id = await _rated_chat(
        live_desk, "li.na", 4, name="王小明", email="wang.xm@example.cn"
    )
    contact = await live_desk.contact(contact_id)
    customer_id = contact["customer_id"]
    export = f"/api/v1/customers/{customer_id}/export"

    exported = await live_desk.client.get(
        export, params={"reason": REASON}, headers=live_desk.admin
    )
    assert exported.status_code == 200, exported.text
    [survey] = json.loads(exported.content)["csat"]
    assert (survey["contact_id"], survey["channel"]) == (contact_id, "chat")
    assert (survey["score"], survey["comment"]) == (4, "客服很耐心")

    erased = await live_desk.client.post(
        f"/api/v1/customers/{customer_id}/erase", json={"reason": REASON}, headers=live_desk.admin
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["csat_comments"] == 1
    kept = await live_desk.client.get(
        f"/api/v1/contacts/{contact_id}/csat", headers=live_desk.admin
    )
    assert (kept.json()["score"], kept.json()["comment"]) == (4, None)  # reports keep it
    again = await live_desk.client.get(export, params={"reason": REASON}, headers=live_desk.admin)
    assert "客服很耐心" not in again.text
    [survey] = json.loads(again.content)["csat"]
    assert survey["comment_erased_at"] is not None
