"""The live view over a real server, supervisor actions, reports, staffing and /metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from app.database import libpq_url
from app.supervisor.live import Hub
from app.supervisor.metrics import Event
from tests.conftest import UserFactory
from tests.helpers import live_server
from tests.routing_service.conftest import Center, eventually


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url.removeprefix("http://")


@pytest.fixture
async def center(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    found = Center(client, admin, make_user, {})
    for name in ("support", "billing"):
        await found.skill(name)
    return found


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


class Wallboard:
    """A supervisor's socket and the view it has built from snapshot and deltas."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.queues: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.alarms: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message["type"] == "snapshot":
                self.queues, self.agents = message["queues"], message["agents"]
            self.queues.update(message.get("queues", {}))
            self.agents.update(message.get("agents", {}))
            self.alarms = message.get("alarms", self.alarms)

    async def until(self, check: Any) -> Any:
        async def probe() -> Any:
            return check(self)

        return await eventually(probe)


async def test_supervisor_follows_a_contact_then_reports_agree(
    app: FastAPI,
    live_url: str,
    center: Center,
    client: httpx.AsyncClient,
    supervisor: dict[str, str],
) -> None:
    await center.queue("support", [("support", 1)])
    await center.queue("billing", [("billing", 1)])
    ann = await center.agent("ann", {"support": 3})
    bob = await center.agent("bob", {"support": 2})
    async with connect(f"ws://{live_url}/ws/supervisor") as socket:
        await socket.send(json.dumps({"type": "auth", "token": token(supervisor)}))
        board = Wallboard(socket)
        await board.until(lambda b: "support" in b.queues)
        await center.available("ann")
        contact_id = await center.contact("support")
        await center.wait_state(contact_id, "offered", "ann")
        assert (await center.act("ann", contact_id, "accept")).status_code == 200
        await board.until(lambda b: b.agents.get(str(ann), {}).get("state") == "on_contact")
        ended = await center.act("ann", contact_id, "end", {"disposition": "resolved"})
        assert ended.status_code == 200, ended.text
        await board.until(lambda b: b.queues["support"]["handled"] == 1)
        assert board.queues["support"]["answered"] == 1
        assert board.queues["support"]["offered"] == 1
        await board.until(
            lambda b: any(
                a["kind"] == "queue_unstaffed" and a["queue"] == "billing" for a in b.alarms
            )
        )

        # A billing contact nobody can take; the supervisor gives it to bob.
        await center.available("bob")
        waiting = await center.contact("billing")
        await board.until(lambda b: b.queues.get("billing", {}).get("waiting") == 1)
        response = await client.post(
            f"/api/v1/contacts/{waiting}/assign", json={"agent_id": bob}, headers=supervisor
        )
        assert response.status_code == 200, response.text
        await center.wait_state(waiting, "offered", "bob")
        await board.until(lambda b: b.queues["billing"]["waiting"] == 1)
        board.task.cancel()

    events = await client.get(f"/api/v1/contacts/{waiting}/routing", headers=supervisor)
    kinds = [e["kind"] for e in events.json()]
    assert "contact.offered" in kinds
    hub = app.state.supervisor_hub
    assert await _assign_event(app, waiting) == ("contact.assign_requested", bob)

    # The report over the live view's day equals the live figures.
    start = datetime.fromtimestamp(hub.bucket * 86400, UTC)
    end = datetime.now(UTC)
    report = await client.get(
        "/api/v1/reports/intervals",
        params={"from": start.isoformat(), "to": end.isoformat(), "interval": "60m"},
        headers=supervisor,
    )
    assert report.status_code == 200, report.text
    totals = {t["queue"]: t for t in report.json()["totals"]}
    for queue in ("support", "billing"):
        live = hub.agg.queue_tally(queue, [hub.bucket]).figures()
        assert totals[queue] == {"queue": queue} | live
    csv = await client.get(
        "/api/v1/reports/intervals",
        params={"from": start.isoformat(), "to": end.isoformat(), "queue": "support"},
        headers=supervisor | {"Accept": "text/csv"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("interval_start,interval_end,queue,offered")
    agents = await client.get(
        "/api/v1/reports/agents",
        params={"from": start.isoformat(), "to": end.isoformat(), "format": "csv"},
        headers=supervisor,
    )
    assert "state_seconds.on_contact" in agents.text.splitlines()[0]

    metrics = await client.get("/metrics")
    assert 'contactd_queue_waiting{queue="billing"} 1.0' in metrics.text
    assert 'contactd_routing_decisions_total{kind="contact.assigned"}' in metrics.text


async def _assign_event(app: FastAPI, contact_id: int) -> tuple[str, int] | None:
    from sqlalchemy import select

    from app.contacts.models import ContactEvent

    async with app.state.db.unit_of_work() as session:
        row = (
            await session.execute(
                select(ContactEvent.kind, ContactEvent.actor_id).where(
                    ContactEvent.contact_id == contact_id,
                    ContactEvent.kind == "contact.assign_requested",
                )
            )
        ).first()
        if row is None:
            return None
        agent = await session.scalar(
            select(ContactEvent.agent_id).where(
                ContactEvent.contact_id == contact_id,
                ContactEvent.kind == "contact.assign_requested",
            )
        )
        assert row[1] is not None  # the supervisor is the actor
        return row[0], int(agent or 0)


async def test_an_agent_or_a_bad_token_is_refused(live_url: str, agent: dict[str, str]) -> None:
    for secret in (token(agent), "not-a-jwt"):
        async with connect(f"ws://{live_url}/ws/supervisor") as socket:
            await socket.send(json.dumps({"type": "auth", "token": secret}))
            assert json.loads(await socket.recv())["code"] == "unauthorized"


async def test_erlang_c_reproduces_a_published_example(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
    (callcentrehelper.com): 100 calls per 30 minutes, AHT 180 s, 80 % in 20 s, 30 %
    shrinkage -> 10 Erlangs, 14 agents (service level 88.8 %, occupancy 71.4 %), 20 with
    shrinkage."""
    response = await client.get(
        "/api/v1/staffing/erlang-c",
        params={
            "arrivals_per_hour": 200,
            "aht_seconds": 180,
            "target_service_level": 80,
            "target_seconds": 20,
            "shrinkage": 30,
        },
        headers=supervisor,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["traffic_erlangs"] == pytest.approx(10.0)
    assert (body["agents_needed"], body["agents_with_shrinkage"]) == (14, 20)
    assert round(body["service_level"], 1) == 88.8
    assert round(body["occupancy"], 1) == 71.4
    table = await client.get("/api/v1/staffing/table", headers=supervisor)
    assert table.status_code == 200, table.text


class _RecordingHub(Hub):
    """A hub that notes the ids each poll hands it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: list[int] = []

    def absorb(self, events: list[Event]) -> None:
        self.read.extend(e.id for e in events)
        super().absorb(events)


async def test_an_event_committed_after_a_later_one_still_reaches_the_hub(
    app: FastAPI, center: Center
) -> None:
    """Ids are drawn at insert, not at commit: the tail must go back for an id it passed."""
    await center.queue("support", [("support", 1)])
    contact_id = await center.contact("support")
    url = libpq_url(app.state.database_url)
    hub = _RecordingHub(url, app.state.bus, lambda: None, poll_seconds=0.05)
    await hub.start()
    slow, fast = await asyncpg.connect(url), await asyncpg.connect(url)
    insert = (
        "INSERT INTO contact_events (contact_id, kind, occurred_at, payload)"
        " VALUES ($1, $2, now(), '{}') RETURNING id"
    )
    try:
        late_commit = slow.transaction()
        await late_commit.start()
        late = await slow.fetchval(insert, contact_id, "test.late")
        early = await fast.fetchval(insert, contact_id, "test.early")
        assert late < early

        async def passed_it() -> bool:
            return hub.last_id >= early and late in hub.gaps

        await eventually(passed_it)
        assert late not in hub.read
        await late_commit.commit()

        async def read_it() -> bool:
            return late in hub.read

        await eventually(read_it)
        assert late not in hub.gaps
        assert hub.read.count(late) == 1
        assert hub.read.count(early) == 1
    finally:
        await slow.close()
        await fast.close()
        await hub.stop()
