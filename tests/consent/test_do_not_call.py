"""'Don't call me' said during a contact: the wrap-up disposition refuses voice consent at
once, and the next pop shows it. Through the agent console websocket, real PostgreSQL."""

from __future__ import annotations

from fastapi import FastAPI

from tests.agent_console.conftest import (  # noqa: F401  (fixtures)
    console_url,
    open_console,
    token_of,
)
from tests.channels.chat.conftest import Desk, desk, live_desk, live_url  # noqa: F401


async def test_do_not_call_wrap_up_refuses_calls_and_the_pop_shows_it(
    live_desk: Desk,  # noqa: F811
    app: FastAPI,
    console_url: str,  # noqa: F811
) -> None:
    created = await live_desk.client.post(
        "/api/v1/customers",
        json={"name": "王小明", "emails": ["wang@example.cn"], "phones": ["138 0013 8000"]},
        headers=live_desk.admin,
    )
    customer_id = created.json()["id"]
    await live_desk.agent("ann", available=False)
    async with open_console(console_url) as console:
        welcome = await console.hello(token_of(live_desk.headers("ann")))
        assert "do_not_call" in welcome["dispositions"]
        await console.ask({"type": "set_state", "state": "available"})

        first = await live_desk.start(name="王小明", email="wang@example.cn")
        offer = await console.next_of("offer")
        assert offer["pop"]["consent_flags"] == {"do_not_contact": False, "refused": []}
        accepted = await console.ask({"type": "accept", "contact_id": first["contact_id"]})
        assert accepted["status"] == "applied", accepted
        done = await console.ask(
            {"type": "wrap_up", "contact_id": first["contact_id"], "disposition": "do_not_call"}
        )
        assert (done["type"], done["status"]) == ("result", "applied"), done

        consent = await live_desk.client.get(
            f"/api/v1/customers/{customer_id}/consent", headers=live_desk.admin
        )
        body = consent.json()
        refused = {
            (s["channel"], s["purpose"]): (s["source"], s["contact_id"])
            for s in body["consents"]
            if s["status"] == "refused"
        }
        assert refused == {
            ("voice", "service"): ("disposition", first["contact_id"]),
            ("voice", "marketing"): ("disposition", first["contact_id"]),
        }

        second = await live_desk.start(name="王小明", email="wang@example.cn")
        again = await console.next_of("offer")
        assert again["contact_id"] == second["contact_id"]
        assert again["pop"]["consent_flags"] == {
            "do_not_contact": False,
            "refused": ["voice/marketing", "voice/service"],
        }


async def test_an_unknown_disposition_changes_no_consent(
    live_desk: Desk,  # noqa: F811
    console_url: str,  # noqa: F811
) -> None:
    created = await live_desk.client.post(
        "/api/v1/customers",
        json={"name": "Emma Wilson", "emails": ["emma@example.com"]},
        headers=live_desk.admin,
    )
    consent_url = f"/api/v1/customers/{created.json()['id']}/consent"
    await live_desk.agent("bob", available=False)
    async with open_console(console_url) as console:
        await console.hello(token_of(live_desk.headers("bob")))
        await console.ask({"type": "set_state", "state": "available"})
        started = await live_desk.start(name="Emma", email="emma@example.com")
        await console.next_of("offer")
        await console.ask({"type": "accept", "contact_id": started["contact_id"]})
        refused = await console.ask(
            {"type": "wrap_up", "contact_id": started["contact_id"], "disposition": "dont_call"}
        )
        assert (refused["type"], refused["code"]) == ("error", "unknown_disposition"), refused
        resolved = await console.ask(
            {"type": "wrap_up", "contact_id": started["contact_id"], "disposition": "resolved"}
        )
        assert resolved["status"] == "applied", resolved
    consent = await live_desk.client.get(consent_url, headers=live_desk.admin)
    assert consent.json()["history"] == []
