"""Data-subject rights through HTTP on PostgreSQL: the export holds every kind of data the
public API stored about a customer; erasure removes it everywhere, keeps the counts, and a
new contact from the erased phone makes a new customer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from app.customers.history import add_note
from app.privacy import export
from tests.channels.email.conftest import Part, build_raw, post_email, text_part
from tests.channels.voice.conftest import CALLER, NUMBER, CtiSide
from tests.helpers import make_vip
from tests.routing_service.conftest import Center

NAME = "王小明"
EMAIL = "wang.xm@example.cn"
TAG = "婚礼-2026-06"
BIRTHDAY = "1990-05-01"
CONSENT_NOTE = "客户来电说不要营销邮件"
SUBJECT = "包裹破损了"
BODY = "我的地址是北京市朝阳区建国路88号"
ATTACHMENT = "破损照片.jpg"
DIGITS = "58213#"
RECORDING = "https://pbx.test/rec/wang-xm.wav"
NOTE = "客户很着急，答应明天回电"
CASE_SUBJECT = "快递破损投诉"
CASE_NOTE = "已联系快递公司赔付"
PERSONAL = (NAME, CALLER, EMAIL, TAG, BIRTHDAY, CONSENT_NOTE, SUBJECT, BODY, ATTACHMENT,
            DIGITS, RECORDING, NOTE, CASE_SUBJECT, CASE_NOTE)  # fmt: skip
REASON = "data-subject request 4711"
T0 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


@dataclass
class Seeded:
    customer_id: int
    call_id: int
    email_id: int
    case_id: int


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _get(center: Center, path: str, **params: Any) -> Any:
    return await _ok(await center.client.get(path, params=params, headers=center.admin))


async def _post(center: Center, path: str, body: Any, status: int = 200) -> Any:
    return await _ok(await center.client.post(path, json=body, headers=center.admin), status)


async def _erase(center: Center, customer_id: int) -> httpx.Response:
    path = f"/api/v1/customers/{customer_id}/erase"
    return await center.client.post(path, json={"reason": REASON}, headers=center.admin)


def _cti(event_id: str, kind: str, call: str, seconds: int, **extra: Any) -> dict[str, Any]:
    at = (T0 + timedelta(seconds=seconds)).isoformat()
    return {"id": event_id, "type": kind, "call_id": call, "timestamp": at, **extra}


async def _call(center: Center, pbx: CtiSide, call: str) -> int:
    offered = _cti(f"{call}-offered", "call.offered", call, 0, **{"from": CALLER, "to": NUMBER})
    contact_id: int = (await _ok(await pbx.send(offered)))["contact_id"]
    return contact_id


async def _seed(app: FastAPI, center: Center, pbx: CtiSide, supervisor: dict[str, str]) -> Seeded:
    client, admin = center.client, center.admin
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    body = {"name": NAME, "phones": [CALLER], "emails": [EMAIL], "tags": [TAG],
            "attributes": {"birthday": BIRTHDAY}}  # fmt: skip
    customer_id = (await _post(center, "/api/v1/customers", body, 201))["id"]
    consent = {"channel": "email", "purpose": "marketing", "status": "refused",
               "source": "agent", "note": CONSENT_NOTE}  # fmt: skip
    path = f"/api/v1/customers/{customer_id}/consent"
    await _ok(await client.put(path, json=consent, headers=admin))
    await make_vip(client, admin, customer_id)  # orders, a value and its changes

    call_id = await _call(center, pbx, "call-1")
    await center.wait_state(call_id, "offered", "li.na")
    await _ok(await center.act("li.na", call_id, "accept"))
    await _ok(await pbx.send(_cti("c1-dtmf", "dtmf", "call-1", 5, data={"digits": DIGITS})))
    ready = _cti("c1-rec", "recording.ready", "call-1", 9, data={"url": RECORDING})
    await _ok(await pbx.send(ready))
    await _ok(await center.act("li.na", call_id, "end", json={"disposition": "complaint"}))
    async with app.state.db.unit_of_work() as session:  # notes are written from the console
        await add_note(session, call_id, center.id("li.na"), NOTE)

    disposition = f"attachment; filename*=UTF-8''{quote(ATTACHMENT)}"
    photo = Part("image/jpeg", b"\xff\xd8\xff-photo", {"Content-Disposition": disposition})
    raw = build_raw(sender=f"<{EMAIL}>", subject=SUBJECT, body=text_part(BODY), parts=[photo])
    email_id = (await _ok(await post_email(client, raw)))["contact_id"]

    case = {"customer_id": customer_id, "type": "complaint", "subject": CASE_SUBJECT,
            "contact_ids": [email_id]}  # fmt: skip
    case_id = (await _ok(await client.post("/api/v1/cases", json=case, headers=admin), 201))["id"]
    note = {"body": CASE_NOTE}
    await _ok(await client.post(f"/api/v1/cases/{case_id}/notes", json=note, headers=admin), 201)
    await _ok(await client.get(f"/api/v1/customers/{customer_id}", headers=supervisor))
    return Seeded(customer_id, call_id, email_id, case_id)


async def _export(client: httpx.AsyncClient, customer_id: int, admin: dict[str, str]) -> str:
    response = await client.get(
        f"/api/v1/customers/{customer_id}/export", params={"reason": REASON}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.text


def _contact(document: dict[str, Any], contact_id: int) -> dict[str, Any]:
    [found] = [c for c in document["contacts"] if c["id"] == contact_id]
    contact: dict[str, Any] = found
    return contact


async def test_a_history_longer_than_a_page_is_exported_whole_in_order(
    center: Center, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 2)  # pages of two rows: five contacts take three
    customer_id = (await _post(center, "/api/v1/customers", {"name": NAME}, 201))["id"]
    contacts = [
        (await _post(center, "/api/v1/contacts", {"channel": "chat", "queue": "support",
                                                  "customer_id": customer_id}, 201))["id"]
        for _ in range(5)
    ]  # fmt: skip
    await make_vip(center.client, center.admin, customer_id)
    document = json.loads(await _export(center.client, customer_id, center.admin))
    assert [c["id"] for c in document["contacts"]] == contacts
    assert len(document["orders"]) == 3


async def test_the_export_holds_every_kind_of_data(
    app: FastAPI, center: Center, pbx: CtiSide, supervisor: dict[str, str]
) -> None:
    seeded = await _seed(app, center, pbx, supervisor)
    document = json.loads(await _export(center.client, seeded.customer_id, center.admin))

    assert (document["format"], document["reason"]) == ("contactd.customer-export/1", REASON)
    profile = document["customer"]
    assert (profile["name"], profile["tags"], profile["attributes"]) == (
        NAME, [TAG], {"birthday": BIRTHDAY})  # fmt: skip
    assert [p["e164"] for p in profile["phones"]] == [CALLER]
    assert [e["email"] for e in profile["emails"]] == [EMAIL]
    assert [(c["channel"], c["purpose"], c["status"]) for c in document["consent"]] == [
        ("email", "marketing", "refused")
    ]
    assert [h["note"] for h in document["consent_history"]] == [CONSENT_NOTE]
    assert len(document["orders"]) == 3
    assert document["value"]["grade"] is not None
    assert document["value_changes"]

    call = _contact(document, seeded.call_id)
    assert (call["channel"], call["from_address"], call["disposition"]) == (
        "voice", CALLER, "complaint")  # fmt: skip
    assert call["recording_url"] == RECORDING
    assert [n["body"] for n in call["notes"]] == [NOTE]
    [dtmf] = [e for e in call["events"] if e["kind"] == "call.dtmf"]
    assert (dtmf["payload"]["count"], dtmf["text"]) == (len(DIGITS), DIGITS)

    email = _contact(document, seeded.email_id)
    assert email["subject"] == SUBJECT
    [message] = email["messages"]
    assert message["body"] == BODY
    [attachment] = message["attachments"]
    assert attachment["filename"] == ATTACHMENT
    assert attachment["href"] == f"/api/v1/attachments/{attachment['id']}"
    assert "content" not in attachment

    [case] = document["cases"]
    assert (case["subject"], case["contact_ids"]) == (CASE_SUBJECT, [seeded.email_id])
    assert [n["body"] for n in case["notes"]] == [CASE_NOTE]
    assert [e["kind"] for e in case["timeline"]][:2] == ["created", "contact_linked"]

    views = {(a["action"], a["via"]) for a in document["audit"]}
    assert {("profile", "search"), ("export", "admin")} <= views


async def test_only_admins_export_and_erase_and_a_reason_is_required(
    center: Center, supervisor: dict[str, str]
) -> None:
    client, admin = center.client, center.admin
    body = {"name": NAME}
    customer_id = (await _post(center, "/api/v1/customers", body, 201))["id"]
    export = f"/api/v1/customers/{customer_id}/export"
    erase = f"/api/v1/customers/{customer_id}/erase"

    refused = await client.get(export, params={"reason": REASON}, headers=supervisor)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    refused = await client.post(erase, json={"reason": REASON}, headers=supervisor)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    for response in (
        await client.get(export, headers=admin),
        await client.get(export, params={"reason": " "}, headers=admin),
        await client.post(erase, json={}, headers=admin),
        await client.post(erase, json={"reason": ""}, headers=admin),
    ):
        assert response.status_code == 422, response.text
        assert set(response.json()["error"]) == {"code", "message", "details"}
    missing = await client.get(
        "/api/v1/customers/999999/export", params={"reason": REASON}, headers=admin
    )
    assert missing.status_code == 404
    profile = await _ok(await client.get(f"/api/v1/customers/{customer_id}", headers=admin))
    assert (profile["name"], profile["erased_at"]) == (NAME, None)  # nothing was erased


async def _counts(center: Center, customer_id: int, since: datetime) -> Any:
    """What reports and lists count: the interval report's totals, the customer's contacts,
    cases and orders."""
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    window = {"from": since.isoformat(), "to": until, "interval": "60m"}
    intervals = await _get(center, "/api/v1/reports/intervals", **window)
    contacts = await _get(center, "/api/v1/contacts", customer_id=customer_id)
    cases = await _get(center, "/api/v1/cases", customer_id=customer_id)
    orders = await _get(center, f"/api/v1/customers/{customer_id}/orders")
    return (
        intervals["totals"],
        sorted(c["id"] for c in contacts["items"]),
        sorted(c["id"] for c in cases["items"]),
        len(orders["items"]),
    )


async def test_erasure_removes_the_personal_data_and_keeps_the_counts(
    app: FastAPI, center: Center, pbx: CtiSide, supervisor: dict[str, str]
) -> None:
    since = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    seeded = await _seed(app, center, pbx, supervisor)
    client, admin, cid = center.client, center.admin, seeded.customer_id
    before = await _counts(center, cid, since)

    answer = await _ok(await _erase(center, cid))
    erased = answer["erased"]
    assert answer["customer_id"] == cid
    assert (erased["customer"], erased["phones"], erased["emails"]) == (1, 1, 1)
    assert erased["contacts"] == 2
    assert (erased["messages"], erased["attachments"], erased["recording_links"]) == (1, 1, 1)
    assert (erased["contact_notes"], erased["cases"], erased["case_notes"]) == (1, 1, 1)
    assert (erased["event_texts"], erased["consent_notes"], erased["order_lines"]) == (1, 1, 3)
    assert answer["retained_events"] == {}  # no event payload holds personal text

    profile = await _ok(await client.get(f"/api/v1/customers/{cid}", headers=admin))
    assert (profile["name"], profile["phones"], profile["emails"]) == ("", [], [])
    assert (profile["tags"], profile["attributes"]) == ([], {})
    assert profile["erased_at"] == answer["erased_at"]
    messages = await _get(center, f"/api/v1/contacts/{seeded.email_id}/email-messages")
    assert [(m["body"], m["attachments"]) for m in messages] == [("", [])]
    call = await _ok(await client.get(f"/api/v1/contacts/{seeded.call_id}", headers=admin))
    assert (call["recording_url"], call["provider_ref"], call["attributes"]) == (None, None, {})
    assert call["disposition"] == "complaint"  # codes stay: reports read them

    exported = await _export(client, cid, admin)
    assert [value for value in PERSONAL if value in exported] == []
    assert await _counts(center, cid, since) == before

    again = await _erase(center, cid)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_erased")
    audit = await _ok(await client.get("/api/v1/audit", params={"customer_id": cid}, headers=admin))
    actions = [(e["action"], e["allowed"], e["detail"].get("reason")) for e in audit["items"]]
    assert ("erase", True, REASON) in actions
    assert ("export", True, REASON) in actions


async def test_a_new_contact_from_an_erased_phone_makes_a_new_customer(
    app: FastAPI, center: Center, pbx: CtiSide
) -> None:
    body = {"name": NAME, "phones": [CALLER], "emails": [EMAIL]}
    erased_id = (await _post(center, "/api/v1/customers", body, 201))["id"]
    first = await center.get(await _call(center, pbx, "call-a"))
    assert (first["customer_id"], first["customer_match"]) == (erased_id, "exact_phone")
    await _ok(await _erase(center, erased_id))

    second = await center.get(await _call(center, pbx, "call-b"))
    assert second["customer_match"] == "created"
    assert second["customer_id"] not in (None, erased_id)
    raw = build_raw(sender=f"<{EMAIL}>", message_id="<again.2@mail.example.cn>")
    by_email = await center.get((await _ok(await post_email(center.client, raw)))["contact_id"])
    assert by_email["customer_id"] not in (None, erased_id)
    found = await _get(center, "/api/v1/customers", phone=CALLER)
    assert erased_id not in [c["id"] for c in found["items"]]
