"""An agent looks up the customer of the contact they hold by one exact key (phone, email,
order number, whole name), sees only what the console's suggestions show, may link the
contact to whom they found, and every lookup is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from tests.agent_console.admin_helpers import audit
from tests.agent_console.test_customer_links import _contact, _customer, _link
from tests.channels.chat.conftest import Desk

CALLER = "+8618600186000"  # a number the customer never gave


async def _lookup(desk: Desk, headers: dict[str, str], **params: Any) -> Any:
    return await desk.client.get("/api/v1/customers/lookup", params=params, headers=headers)


async def _order(desk: Desk, customer_id: int, order_id: str) -> None:
    placed = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    body = {"source": "tmall", "order_id": order_id, "placed_at": placed, "status": "paid",
            "items": 1, "amount": "1280.00"}  # fmt: skip
    created = await desk.client.post(
        f"/api/v1/customers/{customer_id}/orders", json=body, headers=desk.admin
    )
    assert created.status_code in (200, 201), created.text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("phone", "138 0013 8000"),  # national format, matched in E.164
        ("email", "Wang.Fang@Example.CN"),
        ("order_id", "TM20261201-0042"),
        ("name", "  王芳 "),
    ],
)
async def test_an_agent_finds_the_caller_by_one_exact_key_and_links_the_contact(
    desk: Desk, app: FastAPI, key: str, value: str
) -> None:
    ann = await desk.agent("ann", available=False)
    wang = await _customer(desk, "王芳", phones=["+8613800138000"], emails=["wang.fang@example.cn"])
    await _customer(desk, "王芳芳", phones=["+8613800138001"])  # a near miss: never found
    await _order(desk, wang, "TM20261201-0042")
    contact_id = await _contact(app, agent_id=ann, from_address=CALLER)

    found = await _lookup(desk, desk.headers("ann"), contact_id=contact_id, **{key: value})

    assert found.status_code == 200, found.text
    [result] = found.json()
    assert result == {
        "customer_id": wang,
        "name": "王芳",
        "why": key,
        "phone_hint": "…8000",
        "email_hint": "w***@example.cn",
        "grade": result["grade"],
        "vip": False,
        "value_class": result["value_class"],
    }
    [entry] = await audit(desk, actor_id=ann)
    assert (entry["action"], entry["contact_id"], entry["via"], entry["allowed"]) == (
        "lookup",
        contact_id,
        "search",
        True,
    )
    assert entry["detail"] == {"key": key, "results": [wang]}  # the key, never its value

    linked = await _link(desk, contact_id, wang, desk.headers("ann"))
    assert linked.status_code == 200, linked.text
    events = (await desk.contact(contact_id))["events"]
    [event] = [e for e in events if e["kind"] == "contact.customer_linked"]
    assert event["payload"]["grounds"] == "looked_up"
    pop = await desk.client.get(
        f"/api/v1/customers/{wang}/history",
        params={"via_contact": contact_id},
        headers=desk.headers("ann"),
    )
    assert pop.status_code == 200, pop.text


async def test_no_partial_matches_and_no_browsing(desk: Desk, app: FastAPI) -> None:
    ann = await desk.agent("ann", available=False)
    await _customer(desk, "王芳", phones=["+8613800138000"])
    contact_id = await _contact(app, agent_id=ann, from_address=CALLER)
    headers = desk.headers("ann")

    for params in ({"name": "王"}, {"phone": "+8613800138009"}, {"order_id": "TM"}):
        found = await _lookup(desk, headers, contact_id=contact_id, **params)
        assert (found.status_code, found.json()) == (200, []), params

    for params, code in (
        ({"contact_id": contact_id}, "one_key_needed"),
        ({"contact_id": contact_id, "name": "王芳", "phone": "13800138000"}, "one_key_needed"),
        ({"name": "王芳"}, "contact_needed"),
        ({"contact_id": contact_id, "phone": "not a number"}, "invalid_phone"),
    ):
        refused = await _lookup(desk, headers, **params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["error"]["code"] == code


async def test_a_lookup_for_a_contact_that_is_not_yours_is_refused_and_audited(
    desk: Desk, app: FastAPI
) -> None:
    ann = await desk.agent("ann", available=False)
    bob = await desk.agent("bob", available=False)
    await _customer(desk, "王芳", phones=["+8613800138000"])
    bobs = await _contact(app, agent_id=bob, from_address=CALLER)
    anns_ended = await _contact(app, agent_id=ann, state="ended", from_address=CALLER)

    for contact_id in (bobs, anns_ended):
        refused = await _lookup(desk, desk.headers("ann"), contact_id=contact_id, name="王芳")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "forbidden"
    entries = await audit(desk, actor_id=ann)
    assert sorted((e["action"], e["contact_id"], e["allowed"]) for e in entries) == sorted(
        [("lookup", bobs, False), ("lookup", anns_ended, False)]
    )


async def test_a_customer_found_for_one_contact_gives_no_grounds_for_another(
    desk: Desk, app: FastAPI
) -> None:
    ann = await desk.agent("ann", available=False)
    wang = await _customer(desk, "王芳", phones=["+8613800138000"])
    looked_for = await _contact(app, agent_id=ann, from_address=CALLER)
    other = await _contact(app, agent_id=ann, from_address="+8618600186111")
    found = await _lookup(desk, desk.headers("ann"), contact_id=looked_for, name="王芳")
    assert [r["customer_id"] for r in found.json()] == [wang]

    refused = await _link(desk, other, wang, desk.headers("ann"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "no_access"
