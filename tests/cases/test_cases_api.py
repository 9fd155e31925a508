"""The cases API end to end: create, list with filters, states, notes, links, timeline,
SLA due times and breaches, policies by grade/VIP, access and audit. Real PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.cases.models import Case, CaseEvent
from tests.cases.conftest import Desk
from tests.helpers import eventually, make_vip

FAST = {"name": "fast", "first_response_minutes": 60, "resolution_minutes": 600}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.unit_of_work() as session:
        found: int = await session.scalar(select(func.count()).select_from(model))
        return found


async def test_a_case_is_created_listed_and_read_with_its_sla(desk: Desk) -> None:
    await desk.always_open()
    customer = await desk.customer()
    contact = await desk.contact(customer)
    case = await desk.case(
        customer, subject="包裹破损", origin="agent", contact_ids=[contact], queue="support"
    )
    assert (case["type"], case["state"], case["origin"]) == ("complaint", "new", "agent")
    assert case["queue"] == "support"
    assert case["contact_ids"] == [contact]
    assert case["policy"] == "complaint"
    first = case["sla"]["first_response"]
    assert first["state"] == "running"
    assert not first["breached"]
    assert _at(first["due_at"]) - _at(case["created_at"]) == timedelta(hours=2)
    assert _at(first["warn_at"]) - _at(case["created_at"]) == timedelta(minutes=96)
    assert case["sla"]["next_response"] is None  # no message after a first response yet
    assert case["breached"] is False

    await desk.case(customer, type="inquiry")
    other = await desk.customer("Emma Wilson")
    await desk.case(other)
    listed = await desk.client.get(
        f"/api/v1/cases?customer_id={customer}&type=complaint&state=new", headers=desk.admin
    )
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()["items"]] == [case["id"]]
    queued = await desk.client.get("/api/v1/cases?queue=support", headers=desk.admin)
    assert [c["id"] for c in queued.json()["items"]] == [case["id"]]
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)

    def due_times(sla: dict[str, Any]) -> dict[str, Any]:
        return {target: clock and clock["due_at"] for target, clock in sla.items()}

    assert due_times(got.json()["sla"]) == due_times(case["sla"])


async def test_bad_input_is_refused_and_nothing_is_stored(desk: Desk, app: Any) -> None:
    customer = await desk.customer()
    cases = [
        ({"customer_id": customer, "type": "praise"}, 422, "unknown_case_type"),
        ({"customer_id": customer + 99, "type": "inquiry"}, 422, "unknown_customer"),
        ({"customer_id": customer, "type": "inquiry", "queue": "nowhere"}, 422, "unknown_queue"),
        ({"customer_id": customer, "type": "inquiry", "owner_id": 999}, 422, "unknown_owner"),
        ({"customer_id": customer, "type": "inquiry", "state": "open"}, 422, "invalid_input"),
    ]
    for body, status, code in cases:
        response = await desk.client.post("/api/v1/cases", json=body, headers=desk.admin)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    assert await _count(app, Case) == 0

    case = await desk.case(customer)
    events = await _count(app, CaseEvent)
    refused = await desk.patch(case["id"], state="closed", priority="urgent")
    assert refused.status_code == 200  # new → closed is allowed
    wrong = await desk.patch(case["id"], state="open", priority="low")
    assert wrong.status_code == 409
    error = wrong.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"state": "closed", "wanted": "open", "allowed": []}
    after = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert after.json()["priority"] == "urgent"  # the refused change stored nothing
    assert await _count(app, CaseEvent) == events + 2  # priority + state of the first patch


async def test_states_follow_the_customer_and_the_reopen_period(desk: Desk) -> None:
    customer = await desk.customer()
    case = await desk.case(customer)
    case_id = case["id"]
    assert (await desk.patch(case_id, state="pending_customer")).json()["state"] == (
        "pending_customer"
    )
    link = await desk.client.post(
        f"/api/v1/cases/{case_id}/contacts",
        json={"contact_id": await desk.contact(customer)},
        headers=desk.admin,
    )
    assert link.json()["state"] == "open"  # the customer wrote back
    assert (await desk.patch(case_id, state="resolved")).json()["state"] == "resolved"
    link = await desk.client.post(
        f"/api/v1/cases/{case_id}/contacts",
        json={"contact_id": await desk.contact(customer)},
        headers=desk.admin,
    )
    reopened = link.json()
    assert reopened["state"] == "reopened"
    assert len(reopened["contact_ids"]) == 2
    assert (await desk.patch(case_id, state="resolved")).status_code == 200
    assert (await desk.patch(case_id, state="closed")).json()["state"] == "closed"
    late = await desk.client.post(
        f"/api/v1/cases/{case_id}/contacts",
        json={"contact_id": await desk.contact(customer)},
        headers=desk.admin,
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "closed")

    stranger = await desk.contact(await desk.customer("李娜"))
    other = await desk.case(customer)
    refused = await desk.client.post(
        f"/api/v1/cases/{other['id']}/contacts", json={"contact_id": stranger}, headers=desk.admin
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "other_customer")


async def test_a_reply_note_is_the_first_response_and_the_timeline_tells_it_all(
    desk: Desk,
) -> None:
    await desk.always_open()
    customer = await desk.customer()
    case = await desk.case(customer)
    internal = await desk.client.post(
        f"/api/v1/cases/{case['id']}/notes", json={"body": "查物流"}, headers=desk.admin
    )
    assert internal.status_code == 201, internal.text
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert got.json()["sla"]["first_response"]["state"] == "running"
    reply = await desk.client.post(
        f"/api/v1/cases/{case['id']}/notes",
        json={"body": "已致电客户，补发新包", "kind": "reply"},
        headers=desk.admin,
    )
    assert reply.status_code == 201
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    first = got.json()["sla"]["first_response"]
    assert first["state"] == "stopped"
    assert not first["breached"]
    await desk.client.post(
        f"/api/v1/cases/{case['id']}/contacts",
        json={"contact_id": await desk.contact(customer)},
        headers=desk.admin,
    )
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert got.json()["sla"]["next_response"]["state"] == "running"

    timeline = await desk.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=desk.admin)
    events = timeline.json()
    assert [e["kind"] for e in events] == ["created", "note_added", "note_added", "contact_linked"]
    assert events[2]["note"]["body"] == "已致电客户，补发新包"
    assert "body" not in events[2]["data"]  # the log holds ids, not the text


async def test_policies_follow_type_grade_and_vip(desk: Desk) -> None:
    customer = await desk.customer()
    assert (await desk.case(customer))["policy"] == "complaint"
    assert (await desk.case(customer, type="inquiry"))["policy"] == "standard"
    await make_vip(desk.client, desk.admin, customer)
    assert (await desk.case(customer))["policy"] == "vip-complaint"
    assert (await desk.case(customer, type="inquiry"))["policy"] == "vip"
    await desk.policies(FAST)
    assert (await desk.case(customer, type="request"))["policy"] == "fast"


async def test_a_missed_target_is_breached_and_filtered(desk: Desk) -> None:
    await desk.always_open()
    await desk.policies(
        {"name": "tiny", "case_type": "complaint", "first_response_minutes": 0.005},  # 0.3 s
        {"name": "calm", "case_type": "inquiry", "first_response_minutes": 60},
    )
    customer = await desk.customer()
    case = await desk.case(customer)
    calm = await desk.case(customer, type="inquiry")
    await desk.client.post(
        f"/api/v1/cases/{calm['id']}/notes",
        json={"body": "ok", "kind": "reply"},
        headers=desk.admin,
    )

    async def breached() -> list[int]:
        listed = await desk.client.get("/api/v1/cases?breached=true", headers=desk.admin)
        return [c["id"] for c in listed.json()["items"]]

    assert await eventually(breached) == [case["id"]]
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert got.json()["breached"]
    assert got.json()["sla"]["first_response"]["breached"]
    listed = await desk.client.get("/api/v1/cases?breached=false", headers=desk.admin)
    assert [c["id"] for c in listed.json()["items"]] == [calm["id"]]


async def test_settings_are_validated_and_managed_by_supervisors(
    desk: Desk, agent: dict[str, str], supervisor: dict[str, str]
) -> None:
    bad = {"policies": [{"name": "x", "case_type": "praise", "first_response_minutes": 5}]}
    for body, who, status in [
        ({"policies": [FAST]}, agent, 403),
        (bad, supervisor, 422),
        ({"policies": [{**FAST, "escalate_on_breach": {"queue": "nowhere"}}]}, supervisor, 422),
        ({"policies": [FAST]}, supervisor, 200),
    ]:
        response = await desk.client.put("/api/v1/cases/sla-policies", json=body, headers=who)
        assert response.status_code == status, response.text
    calendar = {"timezone": "Mars/Olympus", "weekly": {"mon": [["09:00", "18:00"]]}}
    response = await desk.client.put(
        "/api/v1/cases/calendars", json={"calendars": {"default": calendar}}, headers=supervisor
    )
    assert response.status_code == 422
    overlap = {"weekly": {"mon": [["09:00", "12:00"], ["11:00", "18:00"]]}}
    response = await desk.client.put(
        "/api/v1/cases/calendars", json={"calendars": {"default": overlap}}, headers=supervisor
    )
    assert response.status_code == 422
    types = await desk.client.put(
        "/api/v1/cases/types",
        json={"types": [{"name": "complaint"}, {"name": "return"}], "reopen_days": 3},
        headers=supervisor,
    )
    assert types.status_code == 200, types.text
    assert types.json()["reopen_days"] == 3
    returns = {"name": "returns", "case_type": "return", "resolution_minutes": 60}
    await desk.policies(FAST, returns)
    dropped = await desk.client.put(
        "/api/v1/cases/types", json={"types": [{"name": "complaint"}]}, headers=supervisor
    )
    assert (dropped.status_code, dropped.json()["error"]["code"]) == (422, "invalid_settings")
    await desk.policies(FAST)
    settings = await desk.client.get("/api/v1/cases/settings", headers=agent)
    assert settings.json()["policies"] == [
        {
            **FAST,
            "case_type": None,
            "grade": None,
            "vip": None,
            "next_response_minutes": None,
            "warn_percent": 80,
            "escalate_on_breach": None,
        }
    ]


async def test_calendar_changes_move_the_due_times_of_open_cases(desk: Desk) -> None:
    await desk.always_open()
    customer = await desk.customer()
    case = await desk.case(customer)
    before = _at(case["sla"]["first_response"]["due_at"])
    closed_days = [
        (_at(case["created_at"]) + timedelta(days=d)).date().isoformat() for d in range(-1, 3)
    ]
    await desk.client.put(
        "/api/v1/cases/calendars",
        json={"calendars": {"default": {**_always(), "closed_days": closed_days}}},
        headers=desk.admin,
    )
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert _at(got.json()["sla"]["first_response"]["due_at"]) > before + timedelta(days=1)


def _always() -> dict[str, Any]:
    from tests.cases.conftest import ALWAYS

    return dict(ALWAYS)


async def test_agents_see_their_own_and_their_customers_cases_audited(
    desk: Desk, app: Any, agent: dict[str, str]
) -> None:
    agent_id = await desk.user_id("a.gent")
    customer = await desk.customer()
    theirs = await desk.case(customer, owner_id=agent_id)
    stranger = await desk.case(await desk.customer("李娜"))
    own = await desk.client.get(f"/api/v1/cases/{theirs['id']}", headers=agent)
    assert own.status_code == 200
    refused = await desk.client.get(f"/api/v1/cases/{stranger['id']}", headers=agent)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "no_access")
    mine = await desk.client.get("/api/v1/cases", headers=agent)
    assert [c["id"] for c in mine.json()["items"]] == [theirs["id"]]
    others = await desk.client.get(f"/api/v1/cases?owner={agent_id + 1000}", headers=agent)
    assert others.status_code == 403
    patched = await desk.client.patch(
        f"/api/v1/cases/{stranger['id']}", json={"state": "open"}, headers=agent
    )
    assert patched.status_code == 403
    async with app.state.db.unit_of_work() as session:
        rows = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.allowed, AuditEntry.customer_id).where(
                    AuditEntry.actor_id == agent_id
                )
            )
        ).all()
    assert ("case", True, customer) in rows
    assert ("case", False, stranger["customer_id"]) in rows


async def test_unauthenticated_requests_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/cases")
    assert response.status_code == 401


async def test_the_screen_pop_lists_the_customers_open_cases_first_with_their_sla(
    desk: Desk, app: Any
) -> None:
    from app.customers.screen_pop import build_screen_pop

    await desk.always_open()
    customer = await desk.customer()
    done = await desk.case(customer, type="inquiry")
    await desk.patch(done["id"], state="resolved")
    await desk.patch(done["id"], state="closed")
    waiting = await desk.case(customer, type="request")
    await desk.patch(waiting["id"], state="pending_customer")
    urgent = await desk.case(customer, subject="包裹破损")
    contact = await desk.contact(customer)
    async with app.state.db.unit_of_work() as session:
        pop = await build_screen_pop(session, contact)
    assert pop is not None
    assert [(c.id, c.state) for c in pop.cases] == [
        (urgent["id"], "new"),
        (waiting["id"], "pending_customer"),
    ]
    first = pop.cases[0]
    assert (first.breached, first.next_due_target) == (False, "first_response")
    assert first.next_due_at == datetime.fromisoformat(urgent["sla"]["first_response"]["due_at"])
    assert pop.cases[1].next_due_at is None  # paused while the customer is asked
    fields = list(pop.model_dump())
    assert fields.index("cases") < fields.index("history")  # open cases first


async def test_merging_customers_keeps_the_duplicates_cases(desk: Desk) -> None:
    into, duplicate = await desk.customer(), await desk.customer("王小明 (dup)")
    case = await desk.case(duplicate)
    merged = await desk.client.post(
        f"/api/v1/customers/{into}/merge",
        json={"from_customer_id": duplicate},
        headers=desk.admin,
    )
    assert merged.status_code == 200, merged.text
    got = await desk.client.get(f"/api/v1/cases/{case['id']}", headers=desk.admin)
    assert got.json()["customer_id"] == into


async def test_the_case_event_log_is_append_only(desk: Desk, app: Any) -> None:
    import asyncpg
    import pytest

    from app.database import libpq_url

    case = await desk.case(await desk.customer())
    conn = await asyncpg.connect(libpq_url(app.state.database_url))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE case_events SET kind = 'x' WHERE case_id = $1", case["id"])
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("DELETE FROM case_events WHERE case_id = $1", case["id"])
    finally:
        await conn.close()


async def test_a_segment_on_open_cases_follows_the_case_at_once(desk: Desk) -> None:
    rules = (await desk.client.get("/api/v1/customer-value/rules", headers=desk.admin)).json()
    document = rules["document"]
    document["segments"].append({"name": "open-case", "when": {"fact": "open_cases", "gte": 1}})
    published = await desk.client.put(
        "/api/v1/customer-value/rules", json={"document": document}, headers=desk.admin
    )
    assert published.status_code == 200, published.text
    customer = await desk.customer()

    async def members() -> list[int]:
        page = await desk.client.get("/api/v1/customers?segment=open-case", headers=desk.admin)
        assert page.status_code == 200, page.text
        return [c["id"] for c in page.json()["items"]]

    assert await members() == []
    case = await desk.case(customer)
    assert await members() == [customer]
    for state in ("open", "resolved"):
        changed = await desk.client.patch(
            f"/api/v1/cases/{case['id']}", json={"state": state}, headers=desk.admin
        )
        assert changed.status_code == 200, changed.text
    assert await members() == []
