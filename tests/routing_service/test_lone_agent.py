"""One agent on shift: a contact they reject comes back to them after the queue's cool-down,
and meanwhile nobody is told a wait figure that cannot be true."""

from __future__ import annotations

from tests.routing_service.conftest import Center


async def test_a_contact_rejected_by_the_only_agent_is_offered_to_them_again(
    center: Center,
) -> None:
    await center.queue("support", [("support", 1)])
    published = await center.publish(
        {
            "queues": {
                "support": {
                    "skills": [{"skill": "support", "level": 1}],
                    "reject_cooldown_seconds": 1.0,
                }
            }
        }
    )
    assert published.status_code == 201, published.text
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = await center.contact("support", "chat")
    await center.wait_state(contact_id, "offered", "li.na")

    rejected = await center.act("li.na", contact_id, "reject")
    assert rejected.status_code == 200, rejected.text
    await center.wait_state(contact_id, "queued")
    position = await center.client.get(
        f"/api/v1/contacts/{contact_id}/position", headers=center.admin
    )
    assert position.status_code == 200, position.text
    if position.json()["status"] == "waiting":  # else the cool-down is already over
        assert position.json()["position"] == 1
        assert position.json()["expected_wait_seconds"] is None

    await center.wait_state(contact_id, "offered", "li.na")
    events = await center.client.get(f"/api/v1/contacts/{contact_id}/routing", headers=center.admin)
    offered_to = [e["agent_id"] for e in events.json() if e["kind"] == "contact.offered"]
    assert offered_to == [center.id("li.na"), center.id("li.na")]
