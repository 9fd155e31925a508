"""SLA timers: each warning and breach fires exactly once, also over a restart of the
service and with two instances racing; none is lost while the service is down; alarms
reach supervisors (/ws/supervisor) and the owner's console (/ws/agent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.cases import timers
from app.cases.models import CaseEvent, CaseSlaTimer
from app.main import create_app
from tests.agent_console.conftest import open_console, token_of
from tests.cases.conftest import Desk
from tests.conftest import make_settings
from tests.helpers import eventually, live_server
from tests.supervisor.test_consult import supervisor_socket

HOUR_POLICY = {
    "name": "hour",
    "first_response_minutes": 60,
    "resolution_minutes": 600,
    "escalate_on_breach": {"priority": "urgent"},
}


async def _sla_events(app: FastAPI, case_id: int | None = None) -> list[tuple[int, str, Any]]:
    async with app.state.db.unit_of_work() as session:
        query = select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.payload).where(
            CaseEvent.kind.in_(["sla_warning", "sla_breach"])
        )
        if case_id is not None:
            query = query.where(CaseEvent.case_id == case_id)
        rows = await session.execute(query.order_by(CaseEvent.id))
        return [(r[0], r[1], r[2]["target"]) for r in rows]


@pytest.fixture
async def second_app(clean_db: str) -> AsyncIterator[FastAPI]:
    """Another instance on the same database (its own runner, bus and pool)."""
    other = create_app(make_settings(), database_url=clean_db)
    async with other.router.lifespan_context(other):
        yield other


def _created(case: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(case["created_at"])


async def test_warning_and_breach_fire_once_and_not_again_after_a_restart(
    desk: Desk, app: FastAPI, clean_db: str
) -> None:
    await desk.always_open()
    await desk.policies(HOUR_POLICY)
    case = await desk.case(await desk.customer())
    start = _created(case)
    instance = app.state.instance

    warned = await timers.fire_due(
        app.state.db, app.state.bus, instance, start + timedelta(minutes=50)
    )
    assert [(a["level"], a["target"]) for a in warned] == [("warning", "first_response")]
    again = await timers.fire_due(
        app.state.db, app.state.bus, instance, start + timedelta(minutes=55)
    )
    assert again == []

    restarted = create_app(make_settings(), database_url=clean_db)  # the service restarted
    async with restarted.router.lifespan_context(restarted):
        db, bus = restarted.state.db, restarted.state.bus
        later = start + timedelta(minutes=61)
        breached = await timers.fire_due(db, bus, restarted.state.instance, later)
        assert [(a["level"], a["target"]) for a in breached] == [("breach", "first_response")]
        assert breached[0]["escalated"] == {"queue": None, "priority": "urgent"}
        assert await timers.fire_due(db, bus, restarted.state.instance, later) == []
    assert await _sla_events(app) == [
        (case["id"], "sla_warning", "first_response"),
        (case["id"], "sla_breach", "first_response"),
    ]
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert got.json()["priority"] == "urgent"
    timeline = await desk.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=desk.admin)
    assert [e["kind"] for e in timeline.json()][-3:] == ["sla_warning", "sla_breach", "escalated"]


async def test_two_instances_racing_fire_each_timer_once(
    desk: Desk, app: FastAPI, second_app: FastAPI
) -> None:
    await desk.always_open()
    await desk.policies(HOUR_POLICY)
    customer = await desk.customer()
    cases = [await desk.case(customer) for _ in range(12)]
    later = max(_created(c) for c in cases) + timedelta(hours=11)  # every timer is due

    async def round_of(instance: FastAPI) -> list[dict[str, Any]]:
        fired: list[dict[str, Any]] = []
        while batch := await timers.fire_due(
            instance.state.db, instance.state.bus, instance.state.instance, later
        ):
            fired += batch
        return fired

    first, second = await asyncio.gather(round_of(app), round_of(second_app))
    keys = [(a["case_id"], a["target"], a["level"]) for a in first + second]
    assert len(keys) == len(set(keys)) == 12 * 4  # two targets × warning and breach
    assert len(await _sla_events(app)) == 12 * 4


async def test_a_timer_due_while_the_service_is_down_fires_after_the_restart(
    desk: Desk, app: FastAPI, clean_db: str
) -> None:
    await desk.always_open()
    await desk.policies({"name": "quick", "first_response_minutes": 0.02})  # 1.2 s
    case = await desk.case(await desk.customer())
    await app.state.case_timers.stop()  # the service is down; the breach comes due meanwhile

    async def due() -> bool:
        async with app.state.db.unit_of_work() as session:
            found = await session.scalar(
                select(func.count()).where(
                    CaseSlaTimer.due_at <= func.now(), CaseSlaTimer.fired_at.is_(None)
                )
            )
        return found == 2

    await eventually(due)
    restarted = create_app(make_settings(), database_url=clean_db)
    async with restarted.router.lifespan_context(restarted):

        async def fired() -> list[tuple[int, str, Any]] | None:
            events = await _sla_events(app, case["id"])
            return events if len(events) == 2 else None

        events = await eventually(fired)
    assert events == [
        (case["id"], "sla_warning", "first_response"),
        (case["id"], "sla_breach", "first_response"),
    ]
    async with app.state.db.unit_of_work() as session:
        rows = (await session.execute(select(CaseSlaTimer.fired_at, CaseSlaTimer.event_id))).all()
    assert all(fired_at is not None for fired_at, _ in rows)
    assert len({event_id for _, event_id in rows}) == 2


async def test_alarms_reach_supervisors_and_the_owners_console(desk: Desk, app: FastAPI) -> None:
    await desk.always_open()
    await desk.policies({"name": "quick", "first_response_minutes": 0.03})  # 1.8 s
    agent_headers = await desk.make_user("li.na")
    owner = await desk.user_id("li.na")
    supervisor = await desk.make_user("zhou.min", "supervisor")
    async with live_server(app) as url:
        ws_url = url.replace("http://", "ws://")
        async with (
            supervisor_socket(ws_url, supervisor) as boss,
            open_console(f"{ws_url}/ws/agent") as console,
        ):
            await console.hello(token_of(agent_headers))
            await console.next_of("snapshot")
            case = await desk.case(await desk.customer(), owner_id=owner)
            warning = await boss.next_of("case_sla")
            breach = await boss.next_of("case_sla")
            assert [(f["level"], f["case_id"], f["target"]) for f in (warning, breach)] == [
                ("warning", case["id"], "first_response"),
                ("breach", case["id"], "first_response"),
            ]
            mine = [await console.next_of("case_sla"), await console.next_of("case_sla")]
            assert [f["level"] for f in mine] == ["warning", "breach"]
            assert {f["event_id"] for f in mine} == {warning["event_id"], breach["event_id"]}

    async def notified() -> bool:
        async with app.state.db.unit_of_work() as session:
            rows = (await session.execute(select(CaseSlaTimer.notified_at))).all()
        return bool(rows) and all(r[0] is not None for r in rows)

    await eventually(notified)


async def test_a_resolved_case_is_closed_once_it_can_no_longer_be_reopened(
    desk: Desk, app: FastAPI
) -> None:
    case = await desk.case(await desk.customer())
    resolved = (await desk.patch(case["id"], state="resolved")).json()
    at = datetime.fromisoformat(resolved["resolved_at"])
    assert await timers.close_resolved(app.state.db, at + timedelta(days=6)) == 0
    assert await timers.close_resolved(app.state.db, at + timedelta(days=7, minutes=1)) == 1
    got = (await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)).json()
    assert got["state"] == "closed"
    timeline = await desk.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=desk.admin)
    assert timeline.json()[-1]["data"] == {
        "from": "resolved",
        "to": "closed",
        "reason": "reopen_period_over",
    }
    assert await timers.close_resolved(app.state.db, at + timedelta(days=30)) == 0
