"""Supervisors see the customers of contacts handled by agents of their team (in the access
window); admins see every customer. Refusals are 403s, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from app.contacts.models import Contact
from tests.agent_console.admin_helpers import audit, set_team, user_id
from tests.channels.chat.conftest import Desk


async def _customer(desk: Desk, name: str) -> int:
    created = await desk.client.post("/api/v1/customers", json={"name": name}, headers=desk.admin)
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    return customer_id


async def _handled(app: FastAPI, agent_id: int, customer_id: int, days_ago: float = 1) -> int:
    async with app.state.db.unit_of_work() as session:
        contact = Contact(
            channel="voice",
            state="ended",
            agent_id=agent_id,
            customer_id=customer_id,
            created_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
        session.add(contact)
    return contact.id


async def _history(desk: Desk, customer_id: int, headers: dict[str, str]) -> Any:
    return await desk.client.get(f"/api/v1/customers/{customer_id}/history", headers=headers)


async def _two_teams(desk: Desk) -> tuple[int, int, int, dict[str, str]]:
    """ann (north) and bob (south), agents; sue, supervisor of north."""
    ann = await desk.agent("ann", available=False)
    bob = await desk.agent("bob", available=False)
    sue_headers = await desk.make_user("sue", "supervisor")
    sue = await user_id(desk, "sue")
    await set_team(desk, ann, "north")
    await set_team(desk, bob, "south")
    await set_team(desk, sue, "north")
    return ann, bob, sue, sue_headers


async def test_a_supervisor_sees_a_customer_through_their_teams_contact(
    desk: Desk, app: FastAPI
) -> None:
    ann, _, sue, sue_headers = await _two_teams(desk)
    customer_id = await _customer(desk, "李雷")
    contact_id = await _handled(app, ann, customer_id)

    seen = await _history(desk, customer_id, sue_headers)

    assert seen.status_code == 200, seen.text
    assert [i["contact_id"] for i in seen.json()["items"]] == [contact_id]
    entries = await audit(desk, actor_id=sue)
    assert [
        (e["action"], e["customer_id"], e["contact_id"], e["via"], e["allowed"]) for e in entries
    ] == [("history", customer_id, contact_id, "team", True)]


async def test_another_teams_customer_is_refused_and_audited(desk: Desk, app: FastAPI) -> None:
    ann, bob, sue, sue_headers = await _two_teams(desk)
    theirs = await _customer(desk, "韩梅梅")
    await _handled(app, bob, theirs)
    # Handled by the team, but longer ago than the access window.
    old = await _customer(desk, "王五")
    await _handled(app, ann, old, days_ago=45)

    for customer_id in (theirs, old):
        refused = await _history(desk, customer_id, sue_headers)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["code"] == "no_access"

    entries = await audit(desk, actor_id=sue)
    assert sorted((e["customer_id"], e["action"], e["via"], e["allowed"]) for e in entries) == [
        (theirs, "history", "none", False),
        (old, "history", "none", False),
    ]


async def test_a_supervisor_without_a_team_sees_only_their_own_contacts(
    desk: Desk, app: FastAPI
) -> None:
    ann = await desk.agent("ann", available=False)
    lone_headers = await desk.make_user("lone", "supervisor")
    lone = await user_id(desk, "lone")
    await set_team(desk, ann, "north")
    anns = await _customer(desk, "李雷")
    await _handled(app, ann, anns)
    own = await _customer(desk, "韩梅梅")
    await _handled(app, lone, own)

    assert (await _history(desk, anns, lone_headers)).status_code == 403
    assert (await _history(desk, own, lone_headers)).status_code == 200


async def test_an_admin_sees_every_customer(desk: Desk, app: FastAPI) -> None:
    ann, bob, _, _ = await _two_teams(desk)
    admin = await user_id(desk, "root.admin")
    customers = [await _customer(desk, name) for name in ("李雷", "韩梅梅", "王五")]
    await _handled(app, ann, customers[0])
    await _handled(app, bob, customers[1], days_ago=90)
    # customers[2] has no contact at all.

    for customer_id in customers:
        seen = await _history(desk, customer_id, desk.admin)
        assert seen.status_code == 200, seen.text

    entries = await audit(desk, actor_id=admin)
    assert sorted((e["customer_id"], e["via"], e["allowed"]) for e in entries) == sorted(
        (customer_id, "admin", True) for customer_id in customers
    )
