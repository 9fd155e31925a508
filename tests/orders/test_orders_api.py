"""Orders through HTTP on a real PostgreSQL: idempotent by source and order id, every change
rescoring the customer, conflicts and bad input refused with nothing stored, pages newest
first, reads audited and open to agents only through a contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.contacts.models import Contact
from app.orders.models import Order
from app.users.models import User
from tests.conftest import UserFactory

NOW = datetime.now(UTC)


async def new_customer(client: httpx.AsyncClient, admin: dict[str, str], name: str) -> int:
    response = await client.post("/api/v1/customers", json={"name": name}, headers=admin)
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


def order_body(order_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "tmall",
        "order_id": order_id,
        "placed_at": (NOW - timedelta(days=3)).isoformat(),
        "status": "paid",
        "items": 2,
        "amount": "2580.00",
        "currency": "CNY",
        "shop": "天猫旗舰店",
        "lines": [
            {"sku": "BAG-LUX-06", "name": "限量手袋", "quantity": 1, "unit_price": "2580.00"}
        ],
    }
    return body | changes


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], customer_id: int, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1/customers/{customer_id}/orders", json=body, headers=headers)


async def value_of(client: httpx.AsyncClient, admin: dict[str, str], customer_id: int) -> Any:
    response = await client.get(f"/api/v1/customers/{customer_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["value"]


async def stored_orders(app: FastAPI) -> int:
    async with app.state.db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


async def test_an_order_is_created_repeated_unchanged_and_a_status_change_rescores(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    cid = await new_customer(client, admin, "王小明")
    created = await post(client, admin, cid, order_body("TM-1"))
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["order_id"], order["customer_id"], order["amount"]) == ("TM-1", cid, "2580.00")
    assert order["lines"][0]["sku"] == "BAG-LUX-06"
    assert (await value_of(client, admin, cid))["lifetime_sales"] == 1

    again = await post(client, admin, cid, order_body("TM-1"))
    assert again.status_code == 200, again.text
    assert again.json() == order  # nothing changed, not even updated_at

    refunded = await post(client, admin, cid, order_body("TM-1", status="refunded"))
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    assert refunded.json()["lines"] == order["lines"]  # kept: not given is not a change
    value = await value_of(client, admin, cid)
    assert value["lifetime_sales"] == 0
    assert value["last_order"]["status"] == "refunded"


async def test_foreign_currency_is_converted_at_the_configured_rate(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    cid = await new_customer(client, admin, "Emma Wilson")
    unknown = await post(client, admin, cid, order_body("US-1", currency="usd", amount="10.00"))
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["code"] == "unknown_currency"
    assert await stored_orders(app) == 0

    rules = (await client.get("/api/v1/customer-value/rules", headers=admin)).json()["document"]
    rules["currency_rates"]["USD"] = "7.1234"
    published = await client.put(
        "/api/v1/customer-value/rules", json={"document": rules}, headers=admin
    )
    assert published.status_code == 200, published.text
    known = await post(client, admin, cid, order_body("US-1", currency="usd", amount="10.05"))
    assert known.status_code == 201, known.text
    assert (known.json()["currency"], known.json()["amount_cny"]) == ("USD", "71.59")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "-1.00"}, "invalid_input"),
        ({"amount": "1.005"}, "invalid_input"),
        ({"status": "shipped"}, "invalid_input"),
        ({"items": -1}, "invalid_input"),
        ({"placed_at": "2026-01-01T10:00:00"}, "invalid_input"),  # no offset
        ({"placed_at": (NOW + timedelta(hours=1)).isoformat()}, "placed_in_future"),
        ({"currency": "XXXX"}, "invalid_input"),
        ({"lines": [{"sku": "A", "unit_price": "-2"}]}, "invalid_input"),
        ({"order_id": " "}, "invalid_input"),
    ],
)
async def test_bad_orders_are_422_and_store_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    app: FastAPI,
    change: dict[str, Any],
    code: str,
) -> None:
    cid = await new_customer(client, admin, "李娜")
    refused = await post(client, admin, cid, order_body("BAD-1") | change)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == code
    assert await stored_orders(app) == 0
    assert (await value_of(client, admin, cid))["status"] == "prospect"


async def test_small_clock_skew_is_allowed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    cid = await new_customer(client, admin, "张伟")
    ahead = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    assert (await post(client, admin, cid, order_body("SK-1", placed_at=ahead))).status_code == 201


async def test_conflicts_another_customers_order_and_a_blocked_customer(
    client: httpx.AsyncClient, admin: dict[str, str], app: FastAPI
) -> None:
    first = await new_customer(client, admin, "刘洋")
    second = await new_customer(client, admin, "陈静")
    assert (await post(client, admin, first, order_body("TM-9"))).status_code == 201
    stolen = await post(client, admin, second, order_body("TM-9", status="completed"))
    assert stolen.status_code == 409
    assert stolen.json()["error"]["code"] == "order_of_another_customer"
    other_source = await post(client, admin, second, order_body("TM-9", source="jd"))
    assert other_source.status_code == 201  # unique by source and order id together

    blocked = await client.put(
        f"/api/v1/customers/{first}/block", json={"reason": "恶意退款"}, headers=admin
    )
    assert blocked.status_code == 200, blocked.text
    refused = await post(client, admin, first, order_body("TM-10"))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "customer_blocked"
    change = await post(client, admin, first, order_body("TM-9", status="refunded"))
    assert change.status_code == 200, change.text
    assert change.json()["status"] == "refunded"
    assert await stored_orders(app) == 2
    missing = await post(client, admin, 999_999, order_body("TM-11"))
    assert missing.status_code == 404


async def test_pages_newest_first_and_every_read_is_audited(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    cid = await new_customer(client, admin, "赵敏")
    for n in range(5):
        placed = (NOW - timedelta(days=10 - n)).isoformat()
        response = await post(client, admin, cid, order_body(f"P-{n}", placed_at=placed))
        assert response.status_code == 201, response.text
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get(f"/api/v1/customers/{cid}/orders", params=params, headers=admin)
        assert page.status_code == 200, page.text
        seen += [o["order_id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["P-4", "P-3", "P-2", "P-1", "P-0"]
    audit = await client.get("/api/v1/audit", params={"customer_id": cid}, headers=admin)
    assert [e["action"] for e in audit.json()["items"]] == ["orders"] * 3
    bad = await client.get(
        f"/api/v1/customers/{cid}/orders", params={"cursor": "nonsense"}, headers=admin
    )
    assert bad.status_code == 422


async def test_agents_read_through_a_contact_and_never_write(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory, app: FastAPI
) -> None:
    ann = await make_user("ann", "agent")
    supervisor = await make_user("sam", "supervisor")
    cid = await new_customer(client, admin, "孙丽")
    assert (await post(client, supervisor, cid, order_body("S-1"))).status_code == 201
    assert (await post(client, ann, cid, order_body("S-2"))).status_code == 403
    refused = await client.get(f"/api/v1/customers/{cid}/orders", headers=ann)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_access"
    async with app.state.db.unit_of_work() as session:
        ann_id = await session.scalar(select(User.id).where(User.username == "ann"))
        session.add(Contact(channel="voice", state="ended", customer_id=cid, agent_id=ann_id))
    seen = await client.get(f"/api/v1/customers/{cid}/orders", headers=ann)
    assert seen.status_code == 200, seen.text
    assert [o["order_id"] for o in seen.json()["items"]] == ["S-1"]
    audit = await client.get("/api/v1/audit", params={"customer_id": cid}, headers=admin)
    assert [(e["action"], e["allowed"]) for e in audit.json()["items"]] == [
        ("orders", True),
        ("orders", False),
        ("role", False),  # ann's order: writing orders needs the supervisor role
    ]


async def test_a_merge_moves_the_orders_and_rescores_the_kept_customer(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    kept = await new_customer(client, admin, "周杰")
    duplicate = await new_customer(client, admin, "周杰 (dup)")
    assert (await post(client, admin, duplicate, order_body("M-1"))).status_code == 201
    merged = await client.post(
        f"/api/v1/customers/{kept}/merge", json={"from_customer_id": duplicate}, headers=admin
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["value"]["lifetime_sales"] == 1
    page = await client.get(f"/api/v1/customers/{kept}/orders", headers=admin)
    assert [o["order_id"] for o in page.json()["items"]] == ["M-1"]
