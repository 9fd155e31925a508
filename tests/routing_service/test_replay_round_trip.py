"""A period recorded by the running service, replayed by ``contactd simulate --replay``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.routing_service.conftest import Center, eventually

GAP = 0.4  # seconds between what callers and agents do, well above the service's latencies


def _period(start: datetime, end: datetime) -> list[str]:
    return [moment.strftime("%Y-%m-%dT%H:%M:%S.%f") for moment in (start, end)]


def _replay(database_url: str, start: datetime, end: datetime, *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        ["simulate", "--replay", *_period(start, end), "--seeds", "3", "--json", *options],
        env={"CONTACTD_DATABASE_URL": database_url, "CONTACTD_LOG_LEVEL": "WARNING"},
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return report


async def _replay_once_settled(
    center: Center, database_url: str, start: datetime, last: int, *options: str
) -> dict[str, Any]:
    """Replay from ``start`` once the last contact's wrap-up has ended."""

    async def settled() -> bool:
        contact = await center.get(last)
        return contact["wrap_up_ended_at"] is not None

    await eventually(settled)
    end = datetime.now(UTC) + timedelta(seconds=1)
    return await asyncio.to_thread(_replay, database_url, start, end, *options)


async def _handle(center: Center, agent: str, contact_id: int) -> None:
    await center.wait_state(contact_id, "offered", agent)
    accepted = await center.act(agent, contact_id, "accept")
    assert accepted.status_code == 200, accepted.text


async def _finish(center: Center, agent: str, contact_id: int) -> None:
    ended = await center.act(agent, contact_id, "end", {"disposition": "resolved"})
    assert ended.status_code == 200, ended.text
    done = await center.client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers(agent))
    assert done.status_code == 200, done.text


async def test_a_period_run_through_the_service_replays_as_recorded(
    clean_db: str, center: Center
) -> None:
    """Two agents, five callers: one waits for a free agent, one hangs up while both are
    busy; an agent goes to lunch, the other signs out. The replay, reading only what the
    service recorded (contacts, ``agent.state_changed`` events), gives the same figures."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    await center.queue("support", [("support", 1)])
    await center.agent("ann", {"support": 3})
    await center.agent("bob", {"support": 3})
    await center.available("ann")
    await center.available("bob")
    first = await center.contact("support")
    await _handle(center, "ann", first)
    second = await center.contact("support")
    await _handle(center, "bob", second)
    waiting = await center.contact("support")
    gone = await center.contact("support")
    await center.wait_state(gone, "queued")
    await asyncio.sleep(GAP)
    abandoned = await center.client.post(f"/api/v1/contacts/{gone}/abandon", headers=center.admin)
    assert abandoned.status_code == 200, abandoned.text
    await asyncio.sleep(GAP)
    await _finish(center, "ann", first)
    await _handle(center, "ann", waiting)
    await asyncio.sleep(GAP)
    await _finish(center, "bob", second)
    lunch = await center.set_state("bob", "not_ready", "lunch")
    assert lunch.status_code == 200, lunch.text
    await _finish(center, "ann", waiting)
    last = await center.contact("support")
    await _handle(center, "ann", last)
    await _finish(center, "ann", last)
    offline = await center.set_state("ann", "offline")
    assert offline.status_code == 200, offline.text

    report = await _replay_once_settled(center, clean_db, start, last)

    assert report["agents"] == 2
    assert report["contacts"] == 5
    assert report["faithful"] is True, report
    (support,) = report["queues"]
    assert support["recorded"]["offered"] == support["replayed"]["offered"] == 5
    assert support["recorded"]["handled"] == support["replayed"]["handled"] == 4
    assert support["recorded"]["abandoned"] == support["replayed"]["abandoned"] == 1
    # the caller who waited for Ann waited about as long in the replay
    assert abs(support["replayed"]["asa_seconds"] - support["recorded"]["asa_seconds"]) < 0.5
    (voice,) = report["patience"]
    assert (voice["abandoned"], voice["censored"]) == (1, 4)


async def test_a_rejection_and_a_transfer_are_replayed_as_recorded(
    clean_db: str, center: Center
) -> None:
    """Ann rejects the call, Cara takes it and transfers it to billing, where Bob takes it.
    The replay offers it to Ann first (idle longest, as recorded): she rejects it again
    after her recorded think time, Cara answers; the call counts in support with that
    wait, and Bob's billing time is replayed too."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    await center.queue("support", [("support", 1)])
    await center.queue("billing", [("billing", 1)])
    await center.agent("ann", {"support": 3})
    await center.agent("cara", {"support": 3})
    await center.agent("bob", {"billing": 3})
    await center.available("ann")
    await center.available("cara")
    await center.available("bob")
    call = await center.contact("support")
    await center.wait_state(call, "offered", "ann")
    await asyncio.sleep(GAP)
    rejected = await center.act("ann", call, "reject")
    assert rejected.status_code == 200, rejected.text
    await _handle(center, "cara", call)
    await asyncio.sleep(GAP)
    moved = await center.act("cara", call, "transfer", {"to_queue": "billing"})
    assert moved.status_code == 200, moved.text
    await _handle(center, "bob", call)
    await asyncio.sleep(GAP)
    await _finish(center, "bob", call)
    for name in ("ann", "cara", "bob"):
        offline = await center.set_state(name, "offline")
        assert offline.status_code == 200, offline.text

    report = await _replay_once_settled(center, clean_db, start, call)

    assert report["faithful"] is True, report
    (support,) = report["queues"]
    assert support["queue"] == "support"
    assert support["recorded"]["handled"] == support["replayed"]["handled"] == 1
    recorded_wait = support["recorded"]["asa_seconds"]
    assert recorded_wait >= GAP  # Ann's think time is in the recorded wait
    # the recorded wait also holds the service's own latency from the reject to the next
    # offer, which the replay has not: a loaded machine adds tens of milliseconds to it
    assert abs(support["replayed"]["asa_seconds"] - recorded_wait) < GAP / 2


async def test_the_agents_skills_and_capacity_are_replayed_as_they_were(
    clean_db: str, center: Center
) -> None:
    """Ann takes a support call while she has support skills and one voice line; then an
    administrator gives her billing instead, and two lines, and she takes two billing calls
    at once. Replayed with her skills and capacity of today she could answer no support
    call, and with those of the period's start no billing call: the replay follows the
    recorded changes when they happened, and both queues come back as recorded."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    await center.queue("support", [("support", 1)])
    await center.queue("billing", [("billing", 1)])
    ann = await center.agent("ann", {"support": 3}, capacity={"voice": 1})
    await center.available("ann")
    help_call = await center.contact("support")
    await _handle(center, "ann", help_call)
    await asyncio.sleep(GAP)
    await _finish(center, "ann", help_call)
    skills = await center.client.put(
        f"/api/v1/agents/{ann}/skills",
        json=[{"skill": "billing", "level": 3}],
        headers=center.admin,
    )
    assert skills.status_code == 200, skills.text
    lines = await center.client.patch(
        f"/api/v1/users/{ann}", json={"capacity": {"voice": 2}}, headers=center.admin
    )
    assert lines.status_code == 200, lines.text
    await asyncio.sleep(GAP)
    first = await center.contact("billing")
    await _handle(center, "ann", first)
    second = await center.contact("billing")
    await _handle(center, "ann", second)  # her second line, while on the first call
    await asyncio.sleep(GAP)
    for call in (first, second):
        ended = await center.act("ann", call, "end", {"disposition": "resolved"})
        assert ended.status_code == 200, ended.text
    done = await center.client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers("ann"))
    assert done.status_code == 200, done.text
    offline = await center.set_state("ann", "offline")
    assert offline.status_code == 200, offline.text

    report = await _replay_once_settled(center, clean_db, start, second)

    assert report["faithful"] is True, report
    queues = {queue["queue"]: queue for queue in report["queues"]}
    assert queues["support"]["replayed"]["handled"] == 1
    assert queues["billing"]["replayed"]["handled"] == 2
    billing = queues["billing"]
    assert abs(billing["replayed"]["asa_seconds"] - billing["recorded"]["asa_seconds"]) < 0.5


async def test_candidate_value_rules_regrade_the_callers_of_the_period(
    clean_db: str, center: Center, tmp_path: Path
) -> None:
    """Ann is on a call; a caller with no orders queues, then one with a ¥500 sale (Silver,
    not VIP under the seed rule). Recorded, they are answered in turn. Under a candidate VIP
    rule of one sale the buyer is VIP at arrival and jumps the line (the VIP boost of the
    routing document in force): Silver waits less, the untagged caller more, than in the
    faithful replay; the recorded replay stays faithful."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    await center.queue("support", [("support", 1)])
    await center.agent("ann", {"support": 3})
    plain = await _customer(center, "普通客户")
    buyer = await _customer(center, "买家")
    sale = await center.client.post(
        f"/api/v1/customers/{buyer}/orders",
        json={
            "source": "shop", "order_id": "T-1",
            "placed_at": (start - timedelta(days=5)).isoformat(),
            "status": "completed", "items": 1, "amount": "500", "currency": "CNY",
        },
        headers=center.admin,
    )  # fmt: skip
    assert sale.status_code == 201, sale.text
    await center.available("ann")
    first = await center.contact("support", customer_id=plain)
    await _handle(center, "ann", first)
    waiting = await center.contact("support", customer_id=plain)
    await center.wait_state(waiting, "queued")
    silver = await center.contact("support", customer_id=buyer)
    await center.wait_state(silver, "queued")
    assert "grade:S" in (await center.get(silver))["value_tags"]
    await asyncio.sleep(GAP)
    await _finish(center, "ann", first)
    await _handle(center, "ann", waiting)
    await asyncio.sleep(GAP)
    await _finish(center, "ann", waiting)
    await _handle(center, "ann", silver)
    await _finish(center, "ann", silver)
    offline = await center.set_state("ann", "offline")
    assert offline.status_code == 200, offline.text
    rules = tmp_path / "candidate.yaml"
    rules.write_text("vip:\n  min_sales: 1\n  min_items: 1\n  min_amount: 100\n")

    report = await _replay_once_settled(
        center, clean_db, start, silver, "--value-rules", str(rules)
    )

    assert report["faithful"] is True, report
    assert report["candidate"]["value_rules"] == "candidate"
    assert report["candidate"]["regraded"] == 1
    (change,) = report["candidate"]["regrades"]
    assert change["added"] == ["vip"]
    assert change["contacts"] == 1
    (support,) = report["queues"]
    assert support["candidate"]["offered"] == 3
    grades = report["grades"]
    assert grades["grade:S"]["difference"]["asa_seconds"] < 0
    assert grades["untagged"]["difference"]["asa_seconds"] > 0  # the callers with no orders
    text = await asyncio.to_thread(_replay_text, clean_db, start, "--value-rules", str(rules))
    assert "candidate value rules: 1 contacts tagged otherwise at arrival" in text

    # with a routing candidate that gives VIPs no points, the new VIP jumps no line
    no_boost = tmp_path / "routing.yaml"
    no_boost.write_text("value_priority:\n  vip: 0\n")
    both = ["--value-rules", str(rules), "--routing-config", str(no_boost)]
    report = await asyncio.to_thread(_replay, clean_db, start, datetime.now(UTC), *both)
    assert report["candidate"]["regraded"] == 1
    assert report["grades"]["grade:S"]["difference"]["asa_seconds"] == pytest.approx(0, abs=0.01)

    rules.write_text("window_months: 0\n")
    refused = CliRunner().invoke(
        cli,
        ["simulate", "--replay", *_period(start, datetime.now(UTC)), *both],
        env={"CONTACTD_DATABASE_URL": clean_db, "CONTACTD_LOG_LEVEL": "WARNING"},
    )
    assert refused.exit_code == 2
    assert "window_months" in refused.output


async def _customer(center: Center, name: str) -> int:
    response = await center.client.post(
        "/api/v1/customers", json={"name": name}, headers=center.admin
    )
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


def _replay_text(database_url: str, start: datetime, *options: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["simulate", "--replay", *_period(start, datetime.now(UTC)), "--seeds", "2", *options],
        env={"CONTACTD_DATABASE_URL": database_url, "CONTACTD_LOG_LEVEL": "WARNING"},
    )
    assert result.exit_code == 0, result.output
    return result.output
