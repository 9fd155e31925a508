"""Managing flows: validation that names what is missing, versions, publish and rollback."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.channels.voice.cti_signature import signature_header
from app.contacts.models import Contact
from app.queues.models import Queue
from tests.channels.voice.conftest import CTI_SECRET, NUMBER, TwilioSide
from tests.routing_service.conftest import Center


def straight_to(queue: str) -> dict[str, Any]:
    return {
        "start": "hello",
        "prompts": {"hi": {"text": {"zh-CN": "您好", "en-US": "Hello"}}},
        "nodes": {
            "hello": {"type": "say", "prompt": "hi", "next": "line"},
            "line": {"type": "enqueue", "queue": queue},
        },
    }


async def queue_of(app: FastAPI, call_sid: str) -> str:
    async with app.state.db.sessionmaker() as session:
        contact = await session.scalar(select(Contact).where(Contact.provider_ref == call_sid))
        assert contact is not None
        queue = await session.get(Queue, contact.queue_id)
        assert queue is not None
        return queue.name


async def test_a_dangling_reference_is_refused_by_name(center: Center) -> None:
    http, admin = center.client, center.admin
    document = straight_to("support")
    document["nodes"]["hello"]["next"] = "nowhere"
    refused = await http.post(
        "/api/v1/ivr/flows", json={"name": "bad", "document": document}, headers=admin
    )
    assert refused.status_code == 422
    assert "node 'nowhere' (in hello)" in refused.json()["error"]["message"]

    for kind, document in (("queue 'ghosts'", straight_to("ghosts")),):
        refused = await http.post(
            "/api/v1/ivr/flows/validate", json={"document": document}, headers=admin
        )
        assert refused.status_code == 422
        assert kind in refused.json()["error"]["message"]
    no_prompt = straight_to("support")
    no_prompt["nodes"]["hello"]["prompt"] = "missing"
    refused = await http.post(
        "/api/v1/ivr/flows/validate", json={"document": no_prompt}, headers=admin
    )
    assert "prompt 'missing'" in refused.json()["error"]["message"]
    listed = await http.get("/api/v1/ivr/flows", headers=admin)
    assert listed.json() == []


async def test_rollback_restores_the_previous_version_for_new_calls(
    voice_app: FastAPI, center: Center, twilio: TwilioSide
) -> None:
    http, admin = center.client, center.admin
    await center.skill("sales")
    await center.queue("sales", [("sales", 1)], channels=["voice"])
    created = await http.post(
        "/api/v1/ivr/flows",
        json={"name": "main", "document": straight_to("support"), "publish": True},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    flow_id = created.json()["id"]
    mapped = await http.put(
        f"/api/v1/ivr/numbers/{NUMBER}", json={"flow_id": flow_id}, headers=admin
    )
    assert mapped.status_code == 200, mapped.text
    second = await http.post(
        f"/api/v1/ivr/flows/{flow_id}/versions",
        json={"document": straight_to("sales"), "comment": "to sales", "publish": True},
        headers=admin,
    )
    assert second.status_code == 201, second.text
    await twilio.call("CAv2")
    assert await queue_of(voice_app, "CAv2") == "sales"

    rolled = await http.post(f"/api/v1/ivr/flows/{flow_id}/rollback", json={}, headers=admin)
    assert rolled.status_code == 200
    assert rolled.json()["published_version"] == 1
    await twilio.call("CAv1")
    assert await queue_of(voice_app, "CAv1") == "support"

    versions = await http.get(f"/api/v1/ivr/flows/{flow_id}/versions", headers=admin)
    rows = versions.json()
    assert [(v["version"], v["published"]) for v in rows] == [(1, True), (2, False)]
    assert all(v["created_by"] is not None and v["created_at"] for v in rows)
    agent = await center.make_user("ann")
    assert (await http.get("/api/v1/ivr/flows", headers=agent)).status_code == 403


async def test_dry_run_shows_the_steps_and_the_end(center: Center) -> None:
    http, admin = center.client, center.admin
    created = await http.post(
        "/api/v1/ivr/flows", json={"name": "dry", "document": straight_to("support")}, headers=admin
    )
    flow_id = created.json()["id"]
    ran = await http.post(
        f"/api/v1/ivr/flows/{flow_id}/dry-run", json={"digits": []}, headers=admin
    )
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert body["outcome"] == "queued"
    assert body["queue"] == "support"
    assert body["steps"][0]["entered"] == ["hello", "line"]


async def test_the_cti_path_gets_json_instructions(
    voice_app: FastAPI, center: Center, voice_client: httpx.AsyncClient
) -> None:
    document = straight_to("support")
    document["nodes"]["hello"] = {
        "type": "menu",
        "prompt": "hi",
        "choices": {"1": {"next": "line"}},
    }
    created = await center.client.post(
        "/api/v1/ivr/flows",
        json={"name": "pbx", "document": document, "publish": True},
        headers=center.admin,
    )
    await center.client.put(
        f"/api/v1/ivr/numbers/{NUMBER}",
        json={"flow_id": created.json()["id"]},
        headers=center.admin,
    )

    async def send(payload: dict[str, Any]) -> httpx.Response:
        body = json.dumps(payload).encode()
        signed = signature_header(CTI_SECRET, int(time.time()), body)
        return await voice_client.post(
            "/webhooks/cti/ivr",
            content=body,
            headers={"Content-Type": "application/json", "X-CTI-Signature": signed},
        )

    first = await send({"call_id": "pbx-1", "from": "+8613800138000", "to": NUMBER})
    assert first.status_code == 200, first.text
    gather = first.json()["instructions"][0]
    assert gather["type"] == "gather"
    assert gather["prompts"][0]["text"] == "您好"
    then = await send(
        {
            "call_id": "pbx-1",
            "run": first.json()["run"],
            "turn": first.json()["turn"],
            "input": {"kind": "digits", "value": "1"},
        }
    )
    assert then.json()["done"] is True
    assert then.json()["contact_id"] is not None
    assert await queue_of(voice_app, "pbx-1") == "support"


async def test_the_demo_order_status_is_fixed(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/ivr/demo/order-status/123457")
    assert first.json() == (await client.get("/api/v1/ivr/demo/order-status/123457")).json()
    assert first.json()["status"] == "shipped"
    assert (await client.get("/api/v1/ivr/demo/order-status/123450")).status_code == 404


def by_value(check: dict[str, Any]) -> dict[str, Any]:
    """Callers meeting ``check`` to billing, everyone else to support."""
    document = straight_to("support")
    document["nodes"]["hello"]["next"] = "who"
    document["nodes"]["who"] = {
        "type": "condition",
        "branches": [{"when": {"type": "value", **check}, "next": "valued"}],
        "otherwise": "line",
    }
    document["nodes"]["valued"] = {"type": "enqueue", "queue": "billing"}
    return document


async def test_value_conditions_route_by_grade_vip_and_segment(center: Center) -> None:
    http, admin = center.client, center.admin
    await center.queue("billing", [("support", 1)])
    document = by_value({"grades": ["P", "G"], "segments": ["win-back"]})
    created = await http.post(
        "/api/v1/ivr/flows", json={"name": "value", "document": document}, headers=admin
    )
    assert created.status_code == 201, created.text
    flow_id = created.json()["id"]

    async def ends_in(value: dict[str, Any] | None) -> str:
        body: dict[str, Any] = {"digits": []} | ({"value": value} if value else {})
        ran = await http.post(f"/api/v1/ivr/flows/{flow_id}/dry-run", json=body, headers=admin)
        assert ran.status_code == 200, ran.text
        queue: str = ran.json()["queue"]
        return queue

    assert await ends_in({"grade": "G", "segments": ["win-back"]}) == "billing"
    assert await ends_in({"grade": "G"}) == "support"  # every part must hold
    assert await ends_in({"grade": "S", "segments": ["win-back"]}) == "support"
    assert await ends_in(None) == "support"  # an unknown caller is a prospect

    for nothing_to_check in ({}, {"grades": []}, {"tiers": ["vip"]}):
        refused = await http.post(
            "/api/v1/ivr/flows/validate",
            json={"document": by_value(nothing_to_check)},
            headers=admin,
        )
        assert refused.status_code == 422, nothing_to_check
