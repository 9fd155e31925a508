"""PostgreSQL away for a while: every webhook is answered 503 with ``Retry-After`` and
nothing is stored; once it is back, the same webhooks (as their senders retry them) are
stored, each once."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.channels.email.conftest import SUPPORT as SUPPORT_ADDRESS
from tests.channels.email.conftest import build_raw
from tests.channels.voice.conftest import CtiSide, TwilioSide
from tests.faults.conftest import EMAIL_SECRET, WIDGET
from tests.helpers import TcpRelay, count_rows, eventually, query
from tests.routing_service.conftest import Center

STORED_TABLES = ("contacts", "contact_events", "webhook_receipts", "messages", "routing_inbox")


def _cti_offered(n: int) -> dict[str, object]:
    return {
        "id": f"e-offered-{n}",
        "type": "call.offered",
        "call_id": f"pbx-call-{n}",
        "timestamp": "2025-01-06T09:00:00+00:00",
        "from": "+8613800138000",
        "to": "+864008001234",
    }


def _webhooks(client: httpx.AsyncClient, n: int) -> list[tuple[str, object]]:
    """One of each webhook, as its sender would (re)send it: same ids every time."""
    twilio, pbx = TwilioSide(client), CtiSide(client)
    raw = build_raw(to=SUPPORT_ADDRESS, message_id=f"<outage.{n}@mail.example.cn>")
    return [
        ("twilio", twilio.call(f"CA{n:032d}")),
        ("cti", pbx.send(_cti_offered(n))),
        (
            "email",
            client.post(
                "/webhooks/email/inbound",
                content=raw,
                headers={
                    "Content-Type": "message/rfc822",
                    "Authorization": f"Bearer {EMAIL_SECRET}",
                },
            ),
        ),
        (
            "chat",
            client.post(
                "/api/v1/chat/sessions",
                json={"name": f"Visitor {n}", "widget": WIDGET, "language": "zh-CN"},
            ),
        ),
    ]


async def _send_all(client: httpx.AsyncClient, n: int) -> dict[str, httpx.Response]:
    return {name: await call for name, call in _webhooks(client, n)}  # type: ignore[misc]


async def _stored(database_url: str) -> dict[str, int]:
    return {table: await count_rows(database_url, table) for table in STORED_TABLES}


async def test_webhooks_during_an_outage_get_503_and_are_stored_once_it_is_over(
    app: FastAPI,
    client: httpx.AsyncClient,
    support: Center,
    relay: TcpRelay,
    clean_db: str,
) -> None:
    before = await _stored(clean_db)
    await relay.cut()
    for n in range(3):
        for name, response in (await _send_all(client, n)).items():
            assert response.status_code == 503, (name, response.text)
            assert response.headers["Retry-After"].isdigit(), name
            assert response.json()["error"]["code"] == "database_unavailable", name
    assert await _stored(clean_db) == before  # nothing half-written

    await relay.restore()

    await eventually(lambda: _ready(client))
    for n in range(3):
        for name, response in (await _send_all(client, n)).items():
            assert response.status_code in (200, 201), (name, response.text)
    after = await _stored(clean_db)
    assert after["contacts"] - before["contacts"] == 3 * 4  # one per webhook, none twice


async def test_an_outage_in_the_middle_of_a_burst_answers_only_200_or_503_and_loses_nothing(
    app: FastAPI, client: httpx.AsyncClient, support: Center, relay: TcpRelay, clean_db: str
) -> None:
    twilio, calls = TwilioSide(client), [f"CA{n:032d}" for n in range(40)]
    answered = 0
    some_answered = asyncio.Event()

    async def call(call_sid: str) -> int:
        nonlocal answered
        response = await twilio.call(call_sid)
        assert response.status_code in (200, 503), response.text
        answered += 1
        if answered == 5:
            some_answered.set()
        return response.status_code

    burst = asyncio.gather(*(call(sid) for sid in calls))
    await some_answered.wait()
    await relay.cut()
    statuses = dict(zip(calls, await burst, strict=True))
    assert 503 in statuses.values()

    await relay.restore()
    await eventually(lambda: _ready(client))
    for call_sid, status in statuses.items():
        if status == 503:  # as Twilio's retry (or the caller calling back) would
            assert (await twilio.call(call_sid)).status_code == 200
    assert await _contacts_by_call(clean_db) == dict.fromkeys(calls, 1)
    assert await _contacts_without_events(clean_db) == 0


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def _contacts_by_call(database_url: str) -> dict[str, int]:
    rows = await query(
        database_url,
        "SELECT provider_ref, count(*) FROM contacts WHERE channel = 'voice' GROUP BY provider_ref",
    )
    return {row[0]: row[1] for row in rows}


async def _contacts_without_events(database_url: str) -> int:
    rows = await query(
        database_url,
        "SELECT count(*) FROM contacts c"
        " WHERE NOT EXISTS (SELECT 1 FROM contact_events e WHERE e.contact_id = c.id)",
    )
    found: int = rows[0][0]
    return found
