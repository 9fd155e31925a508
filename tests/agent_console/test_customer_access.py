"""Customer data only through a contact (or a role that allows it), and every look audited."""

from __future__ import annotations

from fastapi import FastAPI

from app.contacts.models import Contact
from tests.channels.chat.conftest import Desk


async def _customer(desk: Desk, name: str = "李雷") -> int:
    created = await desk.client.post("/api/v1/customers", json={"name": name}, headers=desk.admin)
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    return customer_id


async def _audit(desk: Desk, **params: object) -> list[dict[str, object]]:
    found = await desk.client.get("/api/v1/audit", params=params, headers=desk.admin)
    assert found.status_code == 200, found.text
    items: list[dict[str, object]] = found.json()["items"]
    return items


async def test_no_contact_no_history_and_the_attempt_is_audited(desk: Desk) -> None:
    agent_id = await desk.agent("ann", available=False)
    customer_id = await _customer(desk)
    refused = await desk.client.get(
        f"/api/v1/customers/{customer_id}/history", headers=desk.headers("ann")
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_access"
    entries = await _audit(desk, customer_id=customer_id)
    assert [(e["actor_id"], e["action"], e["allowed"]) for e in entries] == [
        (agent_id, "history", False)
    ]


async def test_a_handled_contact_opens_the_history_and_the_view_is_audited(
    desk: Desk, app: FastAPI
) -> None:
    agent_id = await desk.agent("ann", available=False)
    customer_id = await _customer(desk)
    async with app.state.db.unit_of_work() as session:
        contact = Contact(
            channel="voice", state="ended", customer_id=customer_id, agent_id=agent_id
        )
        session.add(contact)
    seen = await desk.client.get(
        f"/api/v1/customers/{customer_id}/history", headers=desk.headers("ann")
    )
    assert seen.status_code == 200, seen.text
    assert [i["contact_id"] for i in seen.json()["items"]] == [contact.id]
    entries = await _audit(desk, actor_id=agent_id)
    assert [(e["via"], e["contact_id"], e["allowed"]) for e in entries] == [
        ("contact", contact.id, True)
    ]


async def test_the_audit_log_is_for_admins_only(desk: Desk) -> None:
    await desk.agent("ann", available=False)
    refused = await desk.client.get("/api/v1/audit", headers=desk.headers("ann"))
    assert refused.status_code == 403


async def test_history_pages_follow_each_other(desk: Desk, app: FastAPI) -> None:
    customer_id = await _customer(desk)
    async with app.state.db.unit_of_work() as session:
        session.add_all(
            Contact(channel="email", state="ended", customer_id=customer_id) for _ in range(5)
        )
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await desk.client.get(
            f"/api/v1/customers/{customer_id}/history", params=params, headers=desk.admin
        )
        assert page.status_code == 200, page.text
        seen += [i["contact_id"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)


async def test_merging_moves_the_history(desk: Desk, app: FastAPI) -> None:
    keep, duplicate = await _customer(desk, "甲"), await _customer(desk, "乙")
    async with app.state.db.unit_of_work() as session:
        session.add(Contact(channel="voice", state="ended", customer_id=duplicate))
    merged = await desk.client.post(
        f"/api/v1/customers/{keep}/merge",
        json={"from_customer_id": duplicate},
        headers=desk.admin,
    )
    assert merged.status_code == 200, merged.text
    history = await desk.client.get(f"/api/v1/customers/{keep}/history", headers=desk.admin)
    assert len(history.json()["items"]) == 1
    gone = await desk.client.get(f"/api/v1/customers/{duplicate}", headers=desk.admin)
    assert gone.status_code == 404
