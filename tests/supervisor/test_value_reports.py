"""Supervisor reports by customer grade and value class: the pure split directly, then the
report through HTTP over contacts of graded customers answered and abandoned on a real
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.supervisor.metrics import (
    DAY,
    GRADES,
    Buckets,
    QueueTally,
    replay,
    replay_by_group,
    value_group,
)
from tests.conftest import UserFactory
from tests.routing_service.conftest import Center
from tests.supervisor.test_metrics import TARGETS, events

# ------------------------------------------------------------------ the pure core


def test_the_group_comes_from_the_tags_the_contact_arrived_with() -> None:
    tags = ["grade:P", "status:graded", "vip", "class:key", "segment:win-back"]
    assert value_group(tags, "grade") == "P"
    assert value_group(tags, "value_class") == "key"
    assert value_group(["status:prospect", "class:normal"], "grade") == "none"
    assert value_group(None, "grade") == "none"  # no customer, or never evaluated
    assert value_group(None, "value_class") == "normal"
    assert value_group(["grade:X", "class:huge"], "grade") == "none"


CONTACT_FIGURES = (
    "offered",
    "answered",
    "answered_in_target",
    "abandoned",
    "short_abandoned",
    "handled",
    "answer_wait_seconds",
    "talk_seconds",
)


def _contact_figures(tally: QueueTally) -> tuple[float, ...]:
    return tuple(getattr(tally, name) for name in CONTACT_FIGURES)


@given(st.lists(st.sampled_from(GRADES), min_size=5, max_size=5))
def test_the_groups_add_up_to_the_whole_replay(grades: list[str]) -> None:
    """However the scripted day's five contacts are graded, the per-grade tallies sum to
    the queue's tally of the report over everyone."""
    buckets = Buckets(origin=0.0, width=DAY)
    whole = replay(events(), buckets, TARGETS).queue_tally("sales")
    group_of = dict(enumerate(grades, start=1))
    groups = replay_by_group(events(), group_of, buckets, TARGETS)
    total = QueueTally()
    for grade, agg in groups.items():
        tally = agg.queue_tally("sales")
        assert tally.offered == grades.count(grade)
        total.add(tally)
    assert _contact_figures(total) == _contact_figures(whole)
    assert total.longest_wait_seconds == whole.longest_wait_seconds
    assert total.wrap_up_seconds == 0  # agent events are not split


# ------------------------------------------------------------------ through HTTP


@pytest.fixture
async def center(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    return Center(client, admin, make_user, {})


NOW = datetime.now(UTC)

# Net sales rank 6 customers with a sale: key = rank 1, major = rank 2 (ceil(0.2 · 6)).
#   P: 6 sales of ¥2,000 this month: R5 F5 M5 = 40        key
#   G: 4 sales of ¥1,500 this month: R5 F4 M4 = 33        major
#   S: 2 sales of ¥600:              R5 F2 M3 = 23        normal
#   B1..B3: one sale under ¥300:     R5 F1 M1 = 12        normal
CUSTOMERS = {
    "P": [2000] * 6,
    "G": [1500] * 4,
    "S": [600] * 2,
    "B1": [100],
    "B2": [90],
    "B3": [80],
    "prospect": [],
}
# (customer or None, answered?) in the order they call
CALLS = [
    ("P", True),
    ("P", True),
    ("G", True),
    ("G", False),
    ("S", False),
    ("B1", True),
    ("B2", False),
    ("prospect", True),
    (None, False),
]


async def _graded_customers(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, int]:
    """The customers with their orders (graded at once), then one full evaluation through
    the API (value classes)."""
    ids = {}
    for name, amounts in CUSTOMERS.items():
        created = await client.post(
            "/api/v1/customers", json={"name": f"客户{name}"}, headers=admin
        )
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
        for n, amount in enumerate(amounts):
            placed = await client.post(
                f"/api/v1/customers/{ids[name]}/orders",
                json={
                    "source": "shop",
                    "order_id": f"{name}-{n}",
                    "placed_at": (NOW - timedelta(days=2 + n)).isoformat(),
                    "status": "completed",
                    "items": 1,
                    "amount": f"{amount}.00",
                    "currency": "CNY",
                },
                headers=admin,
            )
            assert placed.status_code == 201, placed.text
    evaluated = await client.post("/api/v1/customer-value/evaluations", headers=admin)
    assert evaluated.status_code == 201, evaluated.text
    return ids


async def _answer(center: Center, contact_id: int) -> None:
    await center.wait_state(contact_id, "offered", "ann")
    assert (await center.act("ann", contact_id, "accept")).status_code == 200
    ended = await center.act("ann", contact_id, "end", {"disposition": "resolved"})
    assert ended.status_code == 200, ended.text
    done = await center.client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers("ann"))
    assert done.status_code == 200, done.text
    await center.wait_state(contact_id, "ended")
    await center.available("ann")


async def _abandon(center: Center, contact_id: int) -> None:
    response = await center.client.post(
        f"/api/v1/contacts/{contact_id}/abandon", headers=center.admin
    )
    assert response.status_code == 200, response.text
    await center.wait_state(contact_id, "abandoned")


async def _report(
    client: httpx.AsyncClient, headers: dict[str, str], start: datetime, **params: str
) -> httpx.Response:
    end = datetime.now(UTC) + timedelta(minutes=1)
    return await client.get(
        "/api/v1/reports/value",
        params={"from": start.isoformat(), "to": end.isoformat()} | params,
        headers=headers,
    )


def _volumes(totals: list[dict[str, Any]], by: str) -> dict[str, tuple[int, int, int, int]]:
    return {t[by]: (t["offered"], t["answered"], t["handled"], t["abandoned"]) for t in totals}


async def test_reports_by_grade_and_value_class(center: Center, supervisor: dict[str, str]) -> None:
    client, admin = center.client, center.admin
    start = datetime.now(UTC) - timedelta(minutes=1)
    ids = await _graded_customers(client, admin)
    await center.skill("support")
    await center.queue("support", [("support", 1)])
    await center.agent("ann", {"support": 3})
    await center.available("ann")
    tags = {}
    for name, answered in CALLS:
        extra = {} if name is None else {"customer_id": ids[name]}
        contact_id = await center.contact("support", **extra)
        tags[name] = (await center.get(contact_id))["value_tags"]
        await (_answer if answered else _abandon)(center, contact_id)
    assert "grade:P" in tags["P"]
    assert "class:key" in tags["P"]
    assert "class:major" in tags["G"]
    assert tags[None] is None

    by_grade = await _report(client, supervisor, start, by="grade")
    assert by_grade.status_code == 200, by_grade.text
    totals = by_grade.json()["totals"]
    assert [t["grade"] for t in totals] == ["P", "G", "S", "B", "none"]
    assert _volumes(totals, "grade") == {
        "P": (2, 2, 2, 0),
        "G": (2, 1, 1, 1),
        "S": (1, 0, 0, 1),
        "B": (2, 1, 1, 1),
        "none": (2, 1, 1, 1),  # a prospect answered, a caller without a customer abandoned
    }
    grade = {t["grade"]: t for t in totals}
    assert grade["P"]["asa_seconds"] is not None
    assert grade["P"]["abandon_rate"] == 0
    assert grade["G"]["abandon_rate"] == 50
    assert grade["S"]["asa_seconds"] is None  # nobody answered
    rows = by_grade.json()["rows"]
    assert [(r["queue"], r["grade"]) for r in rows] == [("support", g) for g in GRADES]

    by_class = await _report(client, supervisor, start, by="value_class", queue="support")
    assert by_class.status_code == 200, by_class.text
    assert _volumes(by_class.json()["totals"], "value_class") == {
        "key": (2, 2, 2, 0),
        "major": (2, 1, 1, 1),
        "normal": (5, 2, 2, 3),
    }

    # The groups add up to the interval report over the same period.
    end = datetime.now(UTC) + timedelta(minutes=1)
    intervals = await client.get(
        "/api/v1/reports/intervals",
        params={"from": start.isoformat(), "to": end.isoformat(), "interval": "60m"},
        headers=supervisor,
    )
    (queue_total,) = intervals.json()["totals"]
    for figure in ("offered", "answered", "answered_in_target", "handled", "abandoned"):
        assert sum(t[figure] for t in totals) == queue_total[figure]

    csv = await _report(client, supervisor, start, by="value_class", format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("queue,value_class,offered,answered")
    assert lines[1].startswith("support,key,2,2")


async def test_a_bad_breakdown_or_period_is_refused(
    client: httpx.AsyncClient, supervisor: dict[str, str], agent: dict[str, str]
) -> None:
    start = datetime.now(UTC)
    refused = await _report(client, supervisor, start, by="tier")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "bad_breakdown"
    backwards = await client.get(
        "/api/v1/reports/value",
        params={"from": start.isoformat(), "to": (start - timedelta(hours=1)).isoformat()},
        headers=supervisor,
    )
    assert backwards.json()["error"]["code"] == "bad_period"
    too_long = await client.get(
        "/api/v1/reports/value",
        params={"from": start.isoformat(), "to": (start + timedelta(days=200)).isoformat()},
        headers=supervisor,
    )
    assert too_long.json()["error"]["code"] == "period_too_long"
    assert (await _report(client, agent, start)).status_code == 403
