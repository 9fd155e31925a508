"""SLA attainment report per type, queue, agent and grade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cases.conftest import Desk
from tests.helpers import eventually, make_vip


async def test_attainment_per_type_queue_agent_and_grade(
    desk: Desk, supervisor: dict[str, str], agent: dict[str, str]
) -> None:
    await desk.always_open()
    await desk.policies(
        {"name": "tiny", "case_type": "complaint", "first_response_minutes": 0.005},
        {"name": "slow", "first_response_minutes": 600},
    )
    owner = await desk.user_id("a.gent")
    customer, vip = await desk.customer(), await desk.customer("Emma Wilson")
    await make_vip(desk.client, desk.admin, vip)
    await desk.case(customer, queue="support")  # complaint: breached in 0.3 s
    met = await desk.case(vip, type="inquiry", owner_id=owner)
    await desk.client.post(
        f"/api/v1/cases/{met['id']}/notes",
        json={"body": "已回复", "kind": "reply"},
        headers=desk.admin,
    )
    await desk.case(customer, type="inquiry", owner_id=owner)  # still running
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }

    async def report(by: str) -> dict[str, Any]:
        response = await desk.client.get(
            "/api/v1/reports/cases/sla", params={**period, "by": by}, headers=supervisor
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def breached_by_type() -> dict[str, Any] | None:
        body = await report("type")
        return body if body["totals"]["first_response"]["breached"] == 1 else None

    by_type = await eventually(breached_by_type)
    rows = {r["group"]: r for r in by_type["rows"]}
    assert rows["complaint"]["first_response"] == {
        "met": 0,
        "breached": 1,
        "running": 0,
        "attainment_percent": 0.0,
    }
    assert rows["inquiry"]["first_response"] == {
        "met": 1,
        "breached": 0,
        "running": 1,
        "attainment_percent": 100.0,
    }
    assert by_type["totals"]["cases"] == 3
    assert by_type["totals"]["first_response"]["attainment_percent"] == 50.0

    by_queue = {r["group"]: r["cases"] for r in (await report("queue"))["rows"]}
    assert by_queue == {"support": 1, None: 2}
    by_agent = {r["group"]: r["cases"] for r in (await report("agent"))["rows"]}
    assert by_agent == {str(owner): 2, None: 1}
    by_grade = {r["group"]: r["cases"] for r in (await report("grade"))["rows"]}
    assert sum(by_grade.values()) == 3
    assert by_grade.get(None) == 2  # the VIP's case carries the grade it was opened with

    refused = await desk.client.get(
        "/api/v1/reports/cases/sla", params={**period, "by": "type"}, headers=agent
    )
    assert refused.status_code == 403
    bad = await desk.client.get(
        "/api/v1/reports/cases/sla", params={**period, "by": "mood"}, headers=supervisor
    )
    assert bad.status_code == 422
