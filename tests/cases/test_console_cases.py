"""Cases from the agent console: open a case from a held contact, link a contact, change
state, add notes; refusals are error frames. Real server, websockets, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from tests.agent_console.conftest import Console, open_console, token_of
from tests.helpers import live_server
from tests.routing_service.conftest import Center


@pytest.fixture
async def console(app: FastAPI, center: Center) -> AsyncIterator[Console]:
    await center.agent("li.na", {"support": 3})
    async with live_server(app) as url:
        ws_url = url.replace("http://", "ws://") + "/ws/agent"
        async with open_console(ws_url) as found:
            await found.hello(token_of(center.headers("li.na")))
            await found.next_of("snapshot")
            await found.ask({"type": "set_state", "state": "available"})
            yield found


async def _customer(center: Center) -> int:
    response = await center.client.post(
        "/api/v1/customers", json={"name": "王小明"}, headers=center.admin
    )
    customer_id: int = response.json()["id"]
    return customer_id


async def test_an_agent_opens_and_works_a_case_from_the_console(
    center: Center, console: Console
) -> None:
    customer = await _customer(center)
    contact = await center.contact("support", customer_id=customer)
    offer = await console.next_of("offer")
    assert offer["contact_id"] == contact
    opened = await console.ask(
        {"type": "open_case", "contact_id": contact, "case_type": "complaint", "subject": "破损"}
    )  # from the offer, before accepting it
    assert opened["type"] == "result", opened
    case_id = opened["data"]["case_id"]
    assert opened["data"]["contact_ids"] == [contact]
    assert opened["data"]["policy"] == "complaint"
    assert opened["data"]["sla"]["first_response"]["state"] == "running"

    note = await console.ask(
        {"type": "add_case_note", "case_id": case_id, "text": "已致电", "kind": "reply"}
    )
    assert note["type"] == "result"
    assert note["data"]["note_id"] > 0
    waiting = await console.ask(
        {"type": "set_case_state", "case_id": case_id, "state": "pending_customer"}
    )
    assert waiting["data"]["state"] == "pending_customer"
    wrong = await console.ask({"type": "set_case_state", "case_id": case_id, "state": "closed"})
    assert (wrong["type"], wrong["code"]) == ("error", "invalid_transition")
    assert wrong["details"]["allowed"] == ["open", "resolved"]

    second = await center.contact("support", channel="email", customer_id=customer)
    linked = await console.ask({"type": "link_case", "case_id": case_id, "contact_id": second})
    assert linked["data"]["state"] == "open"  # the customer wrote again
    assert linked["data"]["contact_ids"] == [contact, second]

    case = await center.client.get(f"/api/v1/cases/{case_id}", headers=center.admin)
    body = case.json()
    assert (body["owner_id"], body["queue"], body["origin"]) == (
        center.id("li.na"),
        "support",
        "voice",
    )


async def test_console_refusals_are_error_frames(center: Center, console: Console) -> None:
    stranger = await center.contact("support")  # no customer
    await console.next_of("offer")
    no_customer = await console.ask(
        {"type": "open_case", "contact_id": stranger, "case_type": "complaint"}
    )
    assert (no_customer["type"], no_customer["code"]) == ("error", "no_customer")
    bad_type = await console.ask(
        {"type": "open_case", "contact_id": stranger, "case_type": "Praise!"}
    )
    assert (bad_type["type"], bad_type["code"]) == ("error", "invalid_message")

    other = await center.client.post(
        "/api/v1/cases",
        json={"customer_id": await _customer(center), "type": "inquiry"},
        headers=center.admin,
    )
    refused = await console.ask(
        {"type": "set_case_state", "case_id": other.json()["id"], "state": "open"}
    )
    assert (refused["type"], refused["code"]) == ("error", "no_access")
