"""The demo loads SLA settings and a few open cases through the cases services."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.demo.cases import DEMO_CASES
from app.demo.loader import load_demo


async def test_the_demo_loads_sla_settings_and_open_cases(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async with app.state.db.unit_of_work() as session:
        await load_demo(session)
    settings = (await client.get("/api/v1/cases/settings", headers=admin)).json()
    assert settings["queue_calendars"] == {"vip": "vip"}
    vip = next(p for p in settings["policies"] if p["name"] == "vip-complaint")
    assert vip["escalate_on_breach"] == {"queue": "vip", "priority": "urgent"}

    listed = (await client.get("/api/v1/cases?limit=50", headers=admin)).json()["items"]
    assert len(listed) == len(DEMO_CASES)
    states = sorted(c["state"] for c in listed)
    assert states == ["new", "new", "open", "pending_customer", "resolved"]
    for case in listed:
        assert len(case["contact_ids"]) == 1
        assert case["owner_id"] is not None
        assert case["policy"] is not None
    timeline: list[dict[str, Any]] = (
        await client.get(f"/api/v1/cases/{listed[-1]['id']}/timeline", headers=admin)
    ).json()
    assert [e["kind"] for e in timeline][:2] == ["created", "contact_linked"]
