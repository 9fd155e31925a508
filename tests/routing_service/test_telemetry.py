"""/metrics carries the service's own latencies: routing batches, requests, webhooks."""

from __future__ import annotations

import httpx

from tests.routing_service.conftest import Center


async def test_metrics_show_routing_and_webhook_latencies(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
    refused = await center.client.post("/webhooks/twilio/status", data={"CallSid": "CA1"})
    assert refused.status_code == 403

    body = (await center.client.get("/metrics")).text
    assert "contactd_routing_batch_seconds_count" in body
    assert _value(body, "contactd_routing_request_latency_seconds_count") >= 2
    webhook = 'contactd_webhook_seconds_count{route="/webhooks/twilio/status",status="403"}'
    assert f"{webhook} 1.0" in body


def _value(body: str, name: str) -> float:
    line = next(line for line in body.splitlines() if line.startswith(name + " "))
    return float(line.split()[-1])


async def test_metrics_are_plain_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
