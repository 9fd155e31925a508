"""The demo's care: its rules on, and a day-7 call in each language reaching an agent."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.demo.care import CARE_ORDER_PREFIX
from app.demo.loader import AGENT_PASSWORD, load_demo
from tests.care.conftest import run, today
from tests.helpers import eventually


async def test_the_demo_puts_a_day7_care_call_in_front_of_an_agent(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async with app.state.db.unit_of_work() as session:
        await load_demo(session)
    rules = (await client.get("/api/v1/care/rules", headers=admin)).json()
    assert all(r["enabled"] for r in rules)
    token = await client.post(
        "/api/v1/auth/token", data={"username": "li.na", "password": AGENT_PASSWORD}
    )
    li_na = {"Authorization": f"Bearer {token.json()['access_token']}"}
    state = await client.put("/api/v1/agents/me/state", json={"state": "available"}, headers=li_na)
    assert state.status_code == 200, state.text

    done = await run(client, admin, today(app))
    assert done["outcomes"].get("called", 0) >= 2
    touches = (await client.get("/api/v1/care/touches?rule=day7&limit=200", headers=admin)).json()[
        "items"
    ]
    ours = [t for t in touches if t["rendered"] and CARE_ORDER_PREFIX in t["rendered"]["body"]]
    assert sorted(t["rendered"]["language"] for t in ours) == ["en", "zh-CN"]
    assert {t["outcome"] for t in ours} == {"called"}

    async def offered_to_li_na() -> dict[str, Any] | None:
        for touch in touches:
            if touch["contact_id"] is None:
                continue
            contact = (
                await client.get(f"/api/v1/contacts/{touch['contact_id']}", headers=admin)
            ).json()
            outbound = contact["attributes"].get("outbound", {})
            if contact["state"] == "offered" and outbound.get("origin") == "care":
                return contact
        return None

    offer = await eventually(offered_to_li_na)
    assert offer["agent_id"] is not None
    assert offer["direction"] == "outbound"
    assert offer["attributes"]["outbound"]["script"]
