"""Customer value through HTTP on a real PostgreSQL: orders grade the customer at once, the
profile and filters show it, full evaluations rank value classes, rules are versioned,
admins block, and routing weighs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.customers.value.core.calendar import months_before
from tests.conftest import UserFactory
from tests.routing_service.conftest import Center

NOW = datetime.now(UTC)


async def customer(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, **extra: Any
) -> int:
    response = await client.post("/api/v1/customers", json={"name": name, **extra}, headers=admin)
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


async def order(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    customer_id: int,
    order_id: str,
    placed_at: datetime,
    amount: str,
    items: int = 1,
    status: str = "completed",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/customers/{customer_id}/orders",
        json={
            "source": "shop",
            "order_id": order_id,
            "placed_at": placed_at.isoformat(),
            "status": status,
            "items": items,
            "amount": amount,
            "currency": "CNY",
        },
        headers=admin,
    )


async def value_of(client: httpx.AsyncClient, admin: dict[str, str], customer_id: int) -> Any:
    response = await client.get(f"/api/v1/customers/{customer_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["value"]


async def make_vip(client: httpx.AsyncClient, admin: dict[str, str], customer_id: int) -> None:
    """Three sales, twelve items, ¥12,000 in the last months: VIP by the seed rule."""
    for n in range(3):
        placed = NOW - timedelta(days=10 + 30 * n)
        response = await order(
            client, admin, customer_id, f"VIP-{customer_id}-{n}", placed, "4000", 4
        )
        assert response.status_code in (200, 201), response.text


async def test_orders_grade_the_customer_at_once_the_seed_example(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    cid = await customer(client, admin, "王小明", phones=["+86 138 0013 8000"])
    last = months_before(NOW, 2) - timedelta(hours=1)
    for n in range(5):
        placed = last - timedelta(days=20 * n)
        response = await order(client, admin, cid, f"TB-{n}", placed, "300.00")
        assert response.status_code == 201, response.text
    value = await value_of(client, admin, cid)
    assert value["status"] == "graded"
    assert value["grade"] == "S"
    assert value["rfm"] == {"r": 4, "f": 4, "m": 2, "score": 24}
    assert value["reason"] == "5 orders in 12 months, ¥300 average, last 2 months ago"
    assert value["vip"]["active"] is False
    assert value["last_order"]["order_id"] == "TB-0"
    assert value["lifetime_sales"] == 5

    cancelled = await order(client, admin, cid, "TB-0", last, "300.00", status="refunded")
    assert cancelled.status_code == 200, cancelled.text
    changed = await value_of(client, admin, cid)
    assert changed["rfm"]["f"] == 4  # four sales now: F stays 4, R drops to the next sale
    assert changed["lifetime_sales"] == 4

    changes = await client.get(f"/api/v1/customers/{cid}/value/changes", headers=admin)
    assert changes.status_code == 200, changes.text
    kinds = [(c["kind"], c["old"], c["new"]) for c in changes.json()]
    assert ("status", "prospect", "graded") in kinds


async def test_vip_is_granted_recorded_and_filterable(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    vip = await customer(client, admin, "李娜")
    plain = await customer(client, admin, "Emma Wilson")
    await make_vip(client, admin, vip)
    await order(client, admin, plain, "E-1", NOW - timedelta(days=3), "99.00")
    value = await value_of(client, admin, vip)
    assert value["vip"]["active"] is True
    assert value["grade"] in ("P", "G")
    listed = await client.get("/api/v1/customers", params={"vip": "true"}, headers=admin)
    assert [c["id"] for c in listed.json()["items"]] == [vip]
    not_vip = await client.get("/api/v1/customers", params={"vip": "false"}, headers=admin)
    assert [c["id"] for c in not_vip.json()["items"]] == [plain]
    changes = (await client.get(f"/api/v1/customers/{vip}/value/changes", headers=admin)).json()
    grant = next(c for c in changes if c["kind"] == "vip")
    assert grant["new"] == "granted"
    assert "3 sales, 12 items" in grant["reason"]
    segments = await client.get("/api/v1/segments", headers=admin)
    assert {s["name"]: s["members"] for s in segments.json()}["vip"] == 1
    members = await client.get("/api/v1/customers", params={"segment": "vip"}, headers=admin)
    assert [c["id"] for c in members.json()["items"]] == [vip]


async def test_a_full_evaluation_ranks_value_classes_5_15_80(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = [await customer(client, admin, f"客户{n}") for n in range(21)]
    for n, cid in enumerate(ids[:20]):  # the 21st never buys
        await order(client, admin, cid, f"R-{n}", NOW - timedelta(days=5), f"{100 + n}.00")
    evaluated = await client.post("/api/v1/customer-value/evaluations", headers=admin)
    assert evaluated.status_code == 201, evaluated.text
    assert evaluated.json()["customers"] == 21
    classes = {cid: (await value_of(client, admin, cid))["value_class"] for cid in ids}
    # 20 ranked: key = ceil(1.0) = rank 1, major up to ceil(4.0) = rank 4
    assert [classes[cid] for cid in reversed(ids[:20])][:5] == [
        "key", "major", "major", "major", "normal",
    ]  # fmt: skip
    assert classes[ids[20]] == "normal"
    keys = await client.get("/api/v1/customers", params={"value_class": "key"}, headers=admin)
    assert [c["id"] for c in keys.json()["items"]] == [ids[19]]


async def test_admins_block_and_unblock_with_a_reason(
    client: httpx.AsyncClient, admin: dict[str, str], agent: dict[str, str]
) -> None:
    cid = await customer(client, admin, "张伟")
    await make_vip(client, admin, cid)
    refused = await client.put(
        f"/api/v1/customers/{cid}/block", json={"reason": "chargebacks"}, headers=agent
    )
    assert refused.status_code == 403
    blocked = await client.put(
        f"/api/v1/customers/{cid}/block", json={"reason": "恶意退款 chargebacks"}, headers=admin
    )
    assert blocked.status_code == 200, blocked.text
    assert (blocked.json()["status"], blocked.json()["grade"]) == ("blocked", None)
    assert blocked.json()["vip"]["active"] is False
    assert blocked.json()["blocked_reason"] == "恶意退款 chargebacks"
    empty = await client.put(f"/api/v1/customers/{cid}/block", json={"reason": " "}, headers=admin)
    assert empty.status_code == 422
    unblocked = await client.delete(f"/api/v1/customers/{cid}/block", headers=admin)
    assert (unblocked.json()["status"], unblocked.json()["blocked_reason"]) == ("graded", None)
    missing = await client.put(
        "/api/v1/customers/999999/block", json={"reason": "x"}, headers=admin
    )
    assert missing.status_code == 404


async def test_rules_are_versioned_and_a_bad_document_stores_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], agent: dict[str, str]
) -> None:
    current = await client.get("/api/v1/customer-value/rules", headers=admin)
    assert current.status_code == 200, current.text
    assert current.json()["version"] == 0
    document = current.json()["document"]
    assert document["weights"] == {"r": 1, "f": 3, "m": 4}
    document["vip"]["min_amount"] = "500"
    document["currency_rates"]["USD"] = "7.1"
    published = await client.put(
        "/api/v1/customer-value/rules",
        json={"document": document, "comment": "VIP from ¥500"},
        headers=admin,
    )
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 1
    bad = dict(
        document, grades=[{"grade": "P", "score_at_least": 1}, {"grade": "P", "score_at_least": 0}]
    )
    refused = await client.put(
        "/api/v1/customer-value/rules", json={"document": bad}, headers=admin
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"]
    by_agent = await client.put(
        "/api/v1/customer-value/rules", json={"document": document}, headers=agent
    )
    assert by_agent.status_code == 403
    versions = await client.get("/api/v1/customer-value/rules/versions", headers=admin)
    assert [v["version"] for v in versions.json()] == [1]

    cid = await customer(client, admin, "Carlos Mendes")
    for n in range(3):
        await order(client, admin, cid, f"C-{n}", NOW - timedelta(days=n + 1), "200.00", 4)
    assert (await value_of(client, admin, cid))["vip"]["active"] is True  # ¥600 ≥ ¥500


@pytest.fixture
async def center(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    found = Center(client, admin, make_user, {})
    for skill in ("support", "vip_care"):
        await found.skill(skill)
    return found


async def test_routing_weighs_value_and_the_trace_names_the_points(center: Center) -> None:
    client, admin = center.client, center.admin
    await center.queue("support", [("support", 2)])
    published = await center.publish(
        {
            "value_priority": {"vip": 10, "grades": {"P": 6, "G": 3}},
            "queues": {
                "support": {
                    "skills": [{"skill": "support", "level": 2}],
                    "value_skills": [
                        {"when_any": ["vip"], "skills": [{"skill": "vip_care", "level": 3}]}
                    ],
                }
            },
        }
    )
    assert published.status_code == 201, published.text
    vip = await customer(client, admin, "贵宾")
    await make_vip(client, admin, vip)
    plain = await customer(client, admin, "普通客户")

    await center.agent("junior", {"support": 3})
    await center.agent("senior", {"support": 3, "vip_care": 4})
    await center.available("junior")
    first = await center.contact("support", customer_id=plain)
    await center.wait_state(first, "offered", "junior")
    vip_contact = await center.contact("support", customer_id=vip)
    await center.available("senior")
    await center.wait_state(vip_contact, "offered", "senior")

    history = await client.get(f"/api/v1/contacts/{vip_contact}/routing", headers=admin)
    offered = next(e for e in history.json() if e["kind"] == "contact.offered")
    trace = offered["payload"]["trace"]
    boosts = {b["tag"]: b["points"] for b in trace["priority_boosts"]}
    assert boosts["vip"] == 10
    assert {"skill": "vip_care", "level": 3} in trace["requirements"]
    contact = await center.get(vip_contact)
    assert "vip" in contact["value_tags"]
