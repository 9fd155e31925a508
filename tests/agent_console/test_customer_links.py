"""Linking a contact to an existing customer: only to a customer suggested for the contact
or one the agent may already see; supervisors for their team, admins for anything. Every
refusal is a 403 with the standard body, changes nothing and is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from app.contacts.models import Contact
from tests.agent_console.admin_helpers import audit, set_team, user_id
from tests.agent_console.conftest import open_console, token_of
from tests.channels.chat.conftest import Desk

PHONE = "+8613800138000"


async def _customer(desk: Desk, name: str, **points: list[str]) -> int:
    created = await desk.client.post(
        "/api/v1/customers", json={"name": name, **points}, headers=desk.admin
    )
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    return customer_id


async def _contact(app: FastAPI, **fields: Any) -> int:
    values: dict[str, Any] = {"channel": "voice", "state": "assigned"} | fields
    async with app.state.db.unit_of_work() as session:
        contact = Contact(**values)
        session.add(contact)
    return contact.id


async def _link(desk: Desk, contact_id: int, customer_id: int, headers: dict[str, str]) -> Any:
    return await desk.client.post(
        f"/api/v1/customers/links/{contact_id}", json={"customer_id": customer_id}, headers=headers
    )


async def _assert_unchanged(desk: Desk, contact_id: int, customer_id: int | None) -> None:
    contact = await desk.contact(contact_id)
    assert contact["customer_id"] == customer_id
    assert contact["customer_match"] != "linked"
    assert [e for e in contact["events"] if e["kind"] == "contact.customer_linked"] == []


def _assert_error_body(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("address", "points", "why"),
    [
        (PHONE, {"phones": [PHONE]}, "same phone"),
        (PHONE, {"phones": ["+8613800138077"]}, "similar phone"),
        ("Li.Lei@Example.cn", {"emails": ["li.lei@example.cn"]}, "same email"),
    ],
)
async def test_an_agent_links_their_contact_to_a_suggested_customer(
    desk: Desk, app: FastAPI, address: str, points: dict[str, list[str]], why: str
) -> None:
    ann = await desk.agent("ann", available=False)
    customer_id = await _customer(desk, "李雷", **points)
    contact_id = await _contact(app, agent_id=ann, from_address=address)

    linked = await _link(desk, contact_id, customer_id, desk.headers("ann"))

    assert linked.status_code == 200, (why, linked.text)
    assert (linked.json()["customer_id"], linked.json()["customer_match"]) == (
        customer_id,
        "linked",
    )
    events = (await desk.contact(contact_id))["events"]
    [event] = [e for e in events if e["kind"] == "contact.customer_linked"]
    assert event["actor_id"] == ann
    assert event["payload"] == {
        "customer_id": customer_id,
        "previous": None,
        "grounds": "suggested",
    }


async def test_an_agent_links_to_a_customer_they_already_see(desk: Desk, app: FastAPI) -> None:
    """Not suggested (another number), but the agent handled this customer last week."""
    ann = await desk.agent("ann", available=False)
    customer_id = await _customer(desk, "韩梅梅", phones=["+8613900139000"])
    await _contact(
        app,
        state="ended",
        agent_id=ann,
        customer_id=customer_id,
        created_at=datetime.now(UTC) - timedelta(days=7),
    )
    contact_id = await _contact(app, agent_id=ann, state="wrap_up", from_address=PHONE)

    linked = await _link(desk, contact_id, customer_id, desk.headers("ann"))

    assert linked.status_code == 200, linked.text
    assert linked.json()["customer_id"] == customer_id


async def test_linking_to_an_unrelated_customer_is_refused_and_audited(
    desk: Desk, app: FastAPI
) -> None:
    ann = await desk.agent("ann", available=False)
    matched = await _customer(desk, "李雷", phones=[PHONE])
    stranger = await _customer(desk, "陌生人", phones=["+8613700137000"])
    # Someone else handled the stranger: that gives ann nothing.
    bob = await desk.agent("bob", available=False)
    await _contact(app, state="ended", agent_id=bob, customer_id=stranger)
    contact_id = await _contact(
        app, agent_id=ann, state="offered", from_address=PHONE, customer_id=matched
    )

    refused = await _link(desk, contact_id, stranger, desk.headers("ann"))

    assert refused.status_code == 403, refused.text
    _assert_error_body(refused.json(), "no_access")
    assert refused.json()["error"]["details"] == {
        "contact_id": contact_id,
        "customer_id": stranger,
    }
    await _assert_unchanged(desk, contact_id, matched)
    entries = await audit(desk, actor_id=ann)
    assert [
        (e["action"], e["customer_id"], e["contact_id"], e["via"], e["allowed"]) for e in entries
    ] == [("link", stranger, contact_id, "none", False)]
    assert entries[0]["detail"]["reason"] == "not_suggested"


async def test_an_agent_cannot_link_a_contact_that_is_not_theirs_now(
    desk: Desk, app: FastAPI
) -> None:
    ann = await desk.agent("ann", available=False)
    bob = await desk.agent("bob", available=False)
    customer_id = await _customer(desk, "李雷", phones=[PHONE])
    bobs = await _contact(app, agent_id=bob, from_address=PHONE)
    anns_ended = await _contact(app, agent_id=ann, state="ended", from_address=PHONE)

    for contact_id in (bobs, anns_ended):
        refused = await _link(desk, contact_id, customer_id, desk.headers("ann"))
        assert refused.status_code == 403, refused.text
        _assert_error_body(refused.json(), "forbidden")
        await _assert_unchanged(desk, contact_id, None)

    entries = await audit(desk, actor_id=ann, allowed=False)
    assert sorted((e["action"], e["contact_id"], e["customer_id"]) for e in entries) == sorted(
        [("link", bobs, customer_id), ("link", anns_ended, customer_id)]
    )


async def test_supervisors_link_their_teams_contacts_to_any_customer(
    desk: Desk, app: FastAPI
) -> None:
    ann = await desk.agent("ann", available=False)
    bob = await desk.agent("bob", available=False)
    sue_headers = await desk.make_user("sue", "supervisor")
    sue = await user_id(desk, "sue")
    await set_team(desk, ann, "north")
    await set_team(desk, sue, "north")
    await set_team(desk, bob, "south")
    anyone = await _customer(desk, "张三", phones=["+8613700137000"])
    team_contact = await _contact(app, agent_id=ann, state="ended", from_address=PHONE)
    other_team_contact = await _contact(app, agent_id=bob, from_address=PHONE)

    linked = await _link(desk, team_contact, anyone, sue_headers)
    assert linked.status_code == 200, linked.text
    assert linked.json()["customer_id"] == anyone

    refused = await _link(desk, other_team_contact, anyone, sue_headers)
    assert refused.status_code == 403, refused.text
    _assert_error_body(refused.json(), "forbidden")
    await _assert_unchanged(desk, other_team_contact, None)
    [entry] = await audit(desk, actor_id=sue, allowed=False)
    assert (entry["action"], entry["contact_id"]) == ("link", other_team_contact)


async def test_admins_link_any_contact_to_any_customer(desk: Desk, app: FastAPI) -> None:
    bob = await desk.agent("bob", available=False)
    anyone = await _customer(desk, "张三", phones=["+8613700137000"])
    contact_id = await _contact(app, agent_id=bob, state="ended", from_address=PHONE)

    linked = await _link(desk, contact_id, anyone, desk.admin)

    assert linked.status_code == 200, linked.text
    assert linked.json()["customer_id"] == anyone


async def test_linking_to_a_missing_customer_is_not_found(desk: Desk, app: FastAPI) -> None:
    ann = await desk.agent("ann", available=False)
    contact_id = await _contact(app, agent_id=ann, from_address=PHONE)

    missing = await _link(desk, contact_id, 999_999, desk.headers("ann"))

    assert missing.status_code == 404, missing.text
    _assert_error_body(missing.json(), "not_found")
    await _assert_unchanged(desk, contact_id, None)


async def test_what_the_pop_suggests_can_be_linked_and_nothing_else(
    live_desk: Desk, app: FastAPI, console_url: str
) -> None:
    desk = live_desk
    ann = await desk.agent("ann", available=False)
    caller = "+8613800138050"
    same = await _customer(desk, "甲", phones=["+8613800138010", caller])
    similar = await _customer(desk, "乙", phones=["+8613800138077"])
    other = await _customer(desk, "丙", phones=["+8613800139050"], emails=["bing@example.cn"])
    contact_id = await _contact(app, agent_id=ann, state="offered", from_address=caller)

    async with open_console(console_url) as console:
        await console.hello(token_of(desk.headers("ann")))
        offer = await console.next_of("offer")
    pop = offer["pop"]
    assert (offer["contact_id"], pop["customer"]) == (contact_id, None)
    assert [(s["customer_id"], s["why"]) for s in pop["suggestions"]] == [
        (same, "same_phone"),
        (similar, "similar_phone"),
    ]

    refused = await _link(desk, contact_id, other, desk.headers("ann"))
    assert refused.status_code == 403, refused.text
    linked = await _link(desk, contact_id, similar, desk.headers("ann"))
    assert linked.status_code == 200, linked.text
