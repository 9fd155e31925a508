"""The agent console end to end: a real server, real websockets, real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from app.contacts.models import Contact
from tests.agent_console.conftest import Console, open_console, token_of
from tests.channels.chat.conftest import Desk
from tests.helpers import make_vip


async def _customer_with_a_complaint(desk: Desk, app: FastAPI) -> int:
    created = await desk.client.post(
        "/api/v1/customers",
        json={"name": "王小明", "emails": ["wang@example.cn"]},
        headers=desk.admin,
    )
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    await make_vip(desk.client, desk.admin, customer_id)
    async with app.state.db.unit_of_work() as session:
        for days, disposition in ((30, "resolved"), (10, "complaint"), (2, "resolved")):
            session.add(
                Contact(
                    channel="voice",
                    state="ended",
                    customer_id=customer_id,
                    disposition=disposition,
                    created_at=datetime.now(UTC) - timedelta(days=days),
                )
            )
    return customer_id


async def _login(console: Console, desk: Desk, name: str) -> dict[str, object]:
    welcome = await console.hello(token_of(desk.headers(name)))
    assert welcome["resumed"] is False
    snapshot = await console.next_of("snapshot")
    assert snapshot["contacts"] == []
    return welcome


async def test_full_cycle_from_offer_to_history(
    live_desk: Desk, app: FastAPI, console_url: str
) -> None:
    customer_id = await _customer_with_a_complaint(live_desk, app)
    agent_id = await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console, live_desk.visitor() as visitor:
        welcome = await _login(console, live_desk, "ann")
        assert welcome["agent_id"] == agent_id
        assert "complaint" in welcome["dispositions"]
        assert (await console.ask({"type": "set_state", "state": "available"}))["type"] == "result"

        started = await live_desk.start(name="王小明", email="WANG@example.cn")
        contact_id = started["contact_id"]
        offer = await console.next_of("offer")
        assert offer["contact_id"] == contact_id
        pop = offer["pop"]
        assert pop["customer"]["id"] == customer_id
        value = pop["customer"]["value"]
        assert value["vip"]["active"] is True
        assert (value["status"], value["lifetime_sales"]) == ("graded", 3)
        assert value["reason"].startswith("3 orders in 12 months, ¥4,000 average")
        assert pop["customer_match"] == "email"
        dispositions = [item["disposition"] for item in pop["history"]]
        assert dispositions == ["complaint", "resolved", "resolved"]  # open complaint first

        accepted = await console.ask({"type": "accept", "contact_id": contact_id})
        assert (accepted["type"], accepted["status"]) == ("result", "applied"), accepted

        await visitor.hello(started)
        await visitor.send({"type": "message", "client_id": "v1", "text": "订单没到"})
        heard = await console.next_of("chat_message")
        assert (heard["contact_id"], heard["text"]) == (contact_id, "订单没到")
        said = await console.ask({"type": "send_chat", "contact_id": contact_id, "text": "马上查"})
        assert said["type"] == "result", said
        echo = await visitor.recv()
        while echo.get("author") != "agent":
            echo = await visitor.recv()
        assert echo["text"] == "马上查"

        done = await console.ask(
            {
                "type": "wrap_up",
                "contact_id": contact_id,
                "disposition": "complaint",
                "note": "包裹丢失，已补发",
            }
        )
        assert (done["type"], done["status"]) == ("result", "applied"), done

    contact = await live_desk.wait_state(contact_id, "ended")
    assert contact["disposition"] == "complaint"
    history = await live_desk.client.get(
        f"/api/v1/customers/{customer_id}/history", headers=live_desk.headers("ann")
    )
    assert history.status_code == 200, history.text
    first = history.json()["items"][0]
    assert first["contact_id"] == contact_id
    assert [n["body"] for n in first["notes"]] == ["包裹丢失，已补发"]
    assert "马上查" in [line["text"] for line in first["excerpt"]]
