"""Consent over HTTP and the touch gate, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.consent.core import Touch
from app.consent.service import (
    TouchRef,
    admit_touch,
    check_touch,
    import_profile_flags,
    recording_allowed,
)
from app.contacts.models import Contact
from app.customers.models import Customer
from app.users.models import User
from tests.conftest import UserFactory

NOON_SHANGHAI = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def _customer(client: httpx.AsyncClient, admin: dict[str, str], **extra: Any) -> int:
    created = await client.post(
        "/api/v1/customers",
        json={"name": "王小明", "phones": ["138 0013 8000"], **extra},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    return customer_id


def _state(body: dict[str, Any], channel: str, purpose: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        s for s in body["consents"] if (s["channel"], s["purpose"]) == (channel, purpose)
    )
    return found


async def test_put_then_get_keeps_history_and_a_repeat_adds_no_row(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer_id = await _customer(client, admin)
    url = f"/api/v1/customers/{customer_id}/consent"
    first = await client.get(url, headers=admin)
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["consents"]) == 7  # voice ×3, sms ×2, email ×2
    assert {s["status"] for s in body["consents"]} == {"unknown"}
    assert body["do_not_contact"] is False
    assert body["quiet_hours"] == {
        "start": "21:00:00",
        "end": "09:00:00",
        "time_zone": "Asia/Shanghai",  # from the +86 phone
        "channels": ["sms", "voice"],
    }
    change = {
        "channel": "email",
        "purpose": "marketing",
        "status": "refused",
        "source": "agent",
        "note": "客户说不要再发促销邮件",
    }
    for _ in range(2):
        put = await client.put(url, json=change, headers=admin)
        assert put.status_code == 200, put.text
    body = put.json()
    assert _state(body, "email", "marketing")["status"] == "refused"
    assert _state(body, "email", "marketing")["source"] == "agent"
    assert [(h["channel"], h["status"], h["note"]) for h in body["history"]] == [
        ("email", "refused", "客户说不要再发促销邮件")
    ]
    granted = await client.put(url, json={**change, "status": "granted"}, headers=admin)
    assert [h["status"] for h in granted.json()["history"]] == ["granted", "refused"]
    profile = await client.get(f"/api/v1/customers/{customer_id}", headers=admin)
    assert profile.json()["consent"]["marketing_email"] is True  # the profile's flag follows


async def test_bad_input_is_422_in_the_error_shape_and_stores_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer_id = await _customer(client, admin)
    url = f"/api/v1/customers/{customer_id}/consent"
    good = {"channel": "sms", "purpose": "service", "status": "granted", "source": "form"}
    for bad in (
        {**good, "channel": "fax"},
        {**good, "purpose": "spam"},
        {**good, "status": "maybe"},
        {**good, "purpose": "call_recording"},  # only voice has it
        {**good, "source": ""},
        {k: v for k, v in good.items() if k != "source"},
    ):
        response = await client.put(url, json=bad, headers=admin)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
    bad_zone = await client.put(
        f"/api/v1/customers/{customer_id}/contact-preferences",
        json={"time_zone": "Mars/Olympus", "source": "agent"},
        headers=admin,
    )
    assert bad_zone.status_code == 422
    body = (await client.get(url, headers=admin)).json()
    assert body["history"] == []
    assert body["time_zone"] is None
    missing = await client.put("/api/v1/customers/999999/consent", json=good, headers=admin)
    assert missing.status_code == 404


async def test_profile_flags_are_consent_of_source_profile(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer_id = await _customer(
        client, admin, consent={"call_recording": False, "marketing_sms": True}
    )
    body = (await client.get(f"/api/v1/customers/{customer_id}/consent", headers=admin)).json()
    assert _state(body, "voice", "call_recording")["status"] == "refused"
    assert _state(body, "sms", "marketing")["source"] == "profile"
    async with app.state.db.unit_of_work() as session:
        assert await recording_allowed(session, customer_id) is False
        assert await recording_allowed(session, None) is True


async def test_agents_need_a_contact_with_the_customer_and_every_look_is_audited(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    customer_id = await _customer(client, admin)
    agent = await make_user("li.na", "agent")
    url = f"/api/v1/customers/{customer_id}/consent"
    refused = await client.get(url, headers=agent)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_access"
    async with app.state.db.unit_of_work() as session:
        agent_id = await session.scalar(select(User.id).where(User.username == "li.na"))
        session.add(
            Contact(channel="voice", state="assigned", customer_id=customer_id, agent_id=agent_id)
        )
    change = {"channel": "voice", "purpose": "marketing", "status": "refused", "source": "agent"}
    assert (await client.put(url, json=change, headers=agent)).status_code == 200
    assert (await client.get(url, headers=agent)).status_code == 200
    audit = await client.get(f"/api/v1/audit?customer_id={customer_id}", headers=admin)
    seen = [(e["action"], e["allowed"]) for e in audit.json()["items"]]
    assert seen == [("consent", True), ("consent_change", True), ("consent", False)]
    assert audit.json()["items"][1]["detail"]["status"] == "refused"


async def test_the_gate_suppresses_records_and_reports(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], supervisor: dict[str, str]
) -> None:
    customer_id = await _customer(client, admin)
    consent_url = f"/api/v1/customers/{customer_id}/consent"
    grant = {"channel": "email", "purpose": "marketing", "status": "granted", "source": "form"}
    assert (await client.put(consent_url, json=grant, headers=admin)).status_code == 200
    ad = Touch("email", "marketing")
    care = TouchRef("care", "care_touch:1")
    async with app.state.db.unit_of_work() as session:
        first = await admit_touch(session, customer_id, ad, NOON_SHANGHAI, care)
        second = await admit_touch(session, customer_id, ad, NOON_SHANGHAI, care)
        night_call = await check_touch(
            session, customer_id, "voice", "service", NOON_SHANGHAI.replace(hour=23)
        )
    assert first.allowed
    assert (second.allowed, second.reason) == (False, "frequency_cap")
    assert second.next_allowed_at == NOON_SHANGHAI.replace(day=9)
    assert (night_call.allowed, night_call.reason) == (False, "quiet_hours")

    dnc = await client.put(
        f"/api/v1/customers/{customer_id}/contact-preferences",
        json={"do_not_contact": True, "source": "agent", "contact_id": 42},
        headers=admin,
    )
    assert dnc.status_code == 200, dnc.text
    assert dnc.json()["do_not_contact"] is True
    assert dnc.json()["history"][0]["kind"] == "do_not_contact"
    async with app.state.db.unit_of_work() as session:
        blocked = await admit_touch(
            session, customer_id, Touch("email", "service"), NOON_SHANGHAI, TouchRef("callback")
        )
    assert blocked.reason == "do_not_contact"

    listed = await client.get(f"/api/v1/customers/{customer_id}/suppressions", headers=admin)
    assert [(s["reason"], s["origin"]) for s in listed.json()["items"]] == [
        ("do_not_contact", "callback"),
        ("frequency_cap", "care"),
    ]
    since = datetime(2026, 3, 1, tzinfo=UTC).isoformat()
    report = await client.get(
        "/api/v1/reports/suppressions",
        params={"since": since, "until": datetime(2026, 3, 3, tzinfo=UTC).isoformat()},
        headers=supervisor,
    )
    assert report.status_code == 200, report.text
    assert report.json()["total"] == 2
    assert {r["reason"] for r in report.json()["rows"]} == {"do_not_contact", "frequency_cap"}
    empty = await client.get(
        "/api/v1/reports/suppressions", params={"since": since, "until": since}, headers=supervisor
    )
    assert empty.status_code == 422


async def test_bulk_loaded_profile_flags_become_consent_once(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async with app.state.db.unit_of_work() as session:
        customer = Customer(name="李娜", consent={"call_recording": False, "marketing_email": True})
        session.add(customer)
        await session.flush()
        customer_id = customer.id
        await import_profile_flags(session)
        await import_profile_flags(session)  # a customer with history is left alone
    body = (await client.get(f"/api/v1/customers/{customer_id}/consent", headers=admin)).json()
    assert sorted((h["channel"], h["purpose"], h["status"]) for h in body["history"]) == [
        ("email", "marketing", "granted"),
        ("voice", "call_recording", "refused"),
    ]
    assert _state(body, "voice", "call_recording")["source"] == "profile"


async def test_a_merge_keeps_the_duplicates_refusals_and_history(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    into, duplicate = await _customer(client, admin), await _customer(client, admin)
    email_ads = {"channel": "email", "purpose": "marketing", "source": "form"}
    await client.put(
        f"/api/v1/customers/{into}/consent", json={**email_ads, "status": "granted"}, headers=admin
    )
    await client.put(
        f"/api/v1/customers/{duplicate}/consent",
        json={**email_ads, "status": "refused"},
        headers=admin,
    )
    await client.put(
        f"/api/v1/customers/{duplicate}/contact-preferences",
        json={"do_not_contact": True, "source": "agent"},
        headers=admin,
    )
    merged = await client.post(
        f"/api/v1/customers/{into}/merge", json={"from_customer_id": duplicate}, headers=admin
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["consent"]["marketing_email"] is False
    body = (await client.get(f"/api/v1/customers/{into}/consent", headers=admin)).json()
    assert _state(body, "email", "marketing")["status"] == "refused"
    assert body["do_not_contact"] is True
    assert len(body["history"]) == 3
