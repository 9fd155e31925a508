"""Routing through the running service: offers, answers, wrap-up, traces, configuration."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from tests.routing_service.conftest import Center, eventually

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def test_full_cycle_offer_accept_end_wrap_up(center: Center) -> None:
    await center.queue("support", [("support", 2)])
    await center.agent("li.na", {"support": 4, "mandarin": 5})
    await center.available("li.na")

    contact_id = await center.contact("support")
    offered = await center.wait_state(contact_id, "offered", "li.na")
    assert offered["offer_deadline"] > offered["offered_at"]

    accepted = await center.act("li.na", contact_id, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "applied"
    assert (await center.state_of(contact_id)) == ("assigned", center.id("li.na"))

    unknown = await center.act("li.na", contact_id, "end", {"disposition": "follow_up"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_disposition"
    assert (await center.state_of(contact_id)) == ("assigned", center.id("li.na"))

    ended = await center.act("li.na", contact_id, "end", {"disposition": "resolved"})
    assert ended.status_code == 200, ended.text
    contact = await center.get(contact_id)
    assert contact["state"] == "wrap_up"
    assert contact["disposition"] == "resolved"

    done = await center.client.post(
        "/api/v1/agents/me/wrap-up/end", headers=center.headers("li.na")
    )
    assert done.status_code == 200, done.text
    contact = await center.get(contact_id)
    assert contact["state"] == "ended"
    assert contact["wrap_up_ended_at"] is not None
    kinds = [e["kind"] for e in contact["events"]]
    assert kinds == [
        "contact.created",
        "contact.queued",
        "contact.offered",
        "contact.assigned",
        "contact.ended",
    ]


async def test_decision_trace_explains_the_choice(center: Center) -> None:
    await center.queue("support", [("support", 3)], strategy="most_skilled")
    await center.agent("li.na", {"support": 5})
    await center.agent("tom.becker", {"support": 3})
    await center.agent("novice", {"support": 1})
    for name in ("li.na", "tom.becker", "novice"):
        await center.available(name)

    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
    trace = await center.client.get(f"/api/v1/contacts/{contact_id}/routing", headers=center.admin)
    assert trace.status_code == 200
    offered = next(e for e in trace.json() if e["kind"] == "contact.offered")
    assert offered["agent_id"] == center.id("li.na")
    why = offered["payload"]["trace"]
    assert why["queue"] == "support"
    assert why["strategy"] == "most_skilled"
    assert why["requirements"] == [{"skill": "support", "level": 3}]
    candidates = {c["agent_id"]: c for c in why["candidates"]}
    assert candidates[str(center.id("li.na"))]["skipped_because"] is None
    assert str(center.id("tom.becker")) in candidates  # considered, scored lower
    assert candidates.get(str(center.id("novice")), {}).get("skipped_because", "skill") is not None


async def test_reject_returns_contact_and_next_agent_gets_it(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = await center.contact("support", "chat")
    await center.wait_state(contact_id, "offered", "li.na")

    await center.agent("tom.becker", {"support": 3})
    await center.available("tom.becker")
    rejected = await center.act("li.na", contact_id, "reject")
    assert rejected.status_code == 200, rejected.text
    await center.wait_state(contact_id, "offered", "tom.becker")


async def test_accepting_someone_elses_offer_is_refused(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.agent("tom.becker", {"billing": 3})
    await center.available("li.na")
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
    response = await center.act("tom.becker", contact_id, "accept")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_such_offer"
    assert (await center.state_of(contact_id)) == ("offered", center.id("li.na"))


async def test_not_ready_needs_a_reason_and_gets_no_offers(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    missing = await center.set_state("li.na", "not_ready")
    assert missing.status_code == 422
    assert (await center.set_state("li.na", "not_ready", "lunch")).status_code == 200
    contact_id = await center.contact("support")
    await asyncio.sleep(0.2)
    assert (await center.state_of(contact_id)) == ("queued", None)
    await center.available("li.na")
    await center.wait_state(contact_id, "offered", "li.na")


async def test_abandon_while_offered_withdraws_the_offer(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
    response = await center.client.post(
        f"/api/v1/contacts/{contact_id}/abandon", headers=center.admin
    )
    assert response.status_code == 200, response.text
    contact = await center.get(contact_id)
    assert contact["state"] == "abandoned"
    abandoned = next(e for e in contact["events"] if e["kind"] == "contact.abandoned")
    assert abandoned["payload"]["short_abandon"] is True
    kinds = [e["kind"] for e in contact["events"]]
    assert "contact.offer_withdrawn" in kinds


async def test_priority_and_skills_route_to_the_right_agent(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3, "mandarin": 5})
    await center.agent("tom.becker", {"support": 3, "english": 5})
    chinese = await center.contact("support", skills=[{"skill": "mandarin", "level": 4}])
    english = await center.contact("support", skills=[{"skill": "english", "level": 4}])
    await center.available("tom.becker")
    await center.available("li.na")
    await center.wait_state(chinese, "offered", "li.na")
    await center.wait_state(english, "offered", "tom.becker")


async def test_transfer_to_queue_keeps_arrival_time(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.queue("billing", [("billing", 1)])
    await center.agent("li.na", {"support": 3})
    await center.agent("chen.jie", {"billing": 3})
    await center.available("li.na")
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    before = (await center.get(contact_id))["created_at"]
    moved = await center.act("li.na", contact_id, "transfer", {"to_queue": "billing"})
    assert moved.status_code == 200, moved.text
    await center.available("chen.jie")
    contact = await center.wait_state(contact_id, "offered", "chen.jie")
    assert contact["created_at"] == before
    assert "contact.requeued" in [e["kind"] for e in contact["events"]]


async def test_config_with_dangling_reference_is_refused(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    response = await center.publish(
        {
            "queues": {
                "support": {
                    "steps": [{"after_seconds": 30, "overflow_queues": ["nowhere"]}],
                    "skills": [{"skill": "klingon", "level": 1}],
                }
            }
        }
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details == {"unknown_queues": ["nowhere"], "unknown_skills": ["klingon"]}
    assert "nowhere" in response.json()["error"]["message"]
    versions = await center.client.get("/api/v1/routing/config/versions", headers=center.admin)
    assert [v["version"] for v in versions.json()] == [1]


async def test_config_change_applies_to_waiting_contacts_and_rolls_back(center: Center) -> None:
    await center.queue("support", [("support", 4)])
    await center.agent("novice", {"support": 2})
    await center.available("novice")
    contact_id = await center.contact("support")
    await asyncio.sleep(0.2)
    assert (await center.state_of(contact_id)) == ("queued", None)

    relaxed = await center.publish(
        {"queues": {"support": {"skills": [{"skill": "support", "level": 2}]}}}
    )
    assert relaxed.status_code == 201, relaxed.text
    assert relaxed.json()["version"] == 2
    await center.wait_state(contact_id, "offered", "novice")
    queue = (await center.client.get("/api/v1/queues", headers=center.admin)).json()["items"][0]
    assert queue["required_skills"] == [{"skill": "support", "level": 2}]

    rolled = await center.client.post(
        "/api/v1/routing/config/versions/1/rollback", headers=center.admin
    )
    assert rolled.status_code == 201, rolled.text
    assert rolled.json()["version"] == 3
    assert rolled.json()["rolled_back_from"] == 1
    current = (await center.client.get("/api/v1/routing/config", headers=center.admin)).json()
    assert current["document"]["queues"]["support"]["skills"] == [{"skill": "support", "level": 4}]


async def test_escalation_step_lowers_the_bar_after_waiting(center: Center) -> None:
    await center.queue("support", [("support", 4)])
    published = await center.publish(
        {
            "queues": {
                "support": {
                    "skills": [{"skill": "support", "level": 4}],
                    "steps": [{"after_seconds": 0.3, "lower_min_level_by": 2}],
                }
            }
        }
    )
    assert published.status_code == 201, published.text
    await center.agent("novice", {"support": 2})
    await center.available("novice")
    contact_id = await center.contact("support")
    contact = await center.wait_state(contact_id, "offered", "novice")
    escalated = next(e for e in contact["events"] if e["kind"] == "contact.escalated")
    assert escalated["payload"]["step"] == 1
    assert escalated["payload"]["requirements"] == [{"skill": "support", "level": 2}]


async def test_missed_offers_set_agent_not_ready(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    published = await center.publish(
        {
            "offer_timeout_seconds": {"voice": 0.2},
            "max_missed_offers": 1,
            "queues": {"support": {"skills": [{"skill": "support", "level": 1}]}},
        }
    )
    assert published.status_code == 201
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = await center.contact("support")
    await center.wait_state(contact_id, "offered", "li.na")
    await center.wait_state(contact_id, "queued")

    async def not_ready() -> dict[str, object] | None:
        presence = await center.client.get(
            "/api/v1/agents/me/presence", headers=center.headers("li.na")
        )
        body: dict[str, object] = presence.json()
        return body if body["state"] == "not_ready" else None

    presence = await eventually(not_ready)
    assert presence["reason"] == "missed"


async def test_router_restart_keeps_the_line(app: FastAPI, center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3}, capacity={"voice": 1, "chat": 2, "email": 1})
    await center.available("li.na")
    first = await center.contact("support")
    await center.wait_state(first, "offered", "li.na")
    assert (await center.act("li.na", first, "accept")).status_code == 200
    waiting = await center.contact("support")
    await asyncio.sleep(0.1)
    assert (await center.state_of(waiting)) == ("queued", None)

    distributor = app.state.distributor
    await distributor.stop()
    from app.routing.distributor import Distributor

    replacement = Distributor(
        app.state.db, app.state.bus, app.state.database_url, instance="replacement"
    )
    await replacement.start()
    app.state.distributor = replacement
    await eventually(lambda: _leader(replacement))
    view = replacement.engine.agent_view(str(center.id("li.na")))
    assert [int(c) for ids in view.assigned.values() for c in ids] == [first]
    assert (await center.state_of(waiting)) == ("queued", None)  # voice capacity is still full
    assert (await center.act("li.na", first, "end")).status_code == 200
    assert (
        await center.client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers("li.na"))
    ).status_code == 200
    await center.wait_state(waiting, "offered", "li.na")


async def _leader(distributor: object) -> bool:
    return getattr(distributor, "engine", None) is not None


def closed_in_practice(queue: str, timezone: str) -> dict[str, Any]:
    """A routing document that keeps ``queue`` (skill of the same name) open one second a
    day, so it is closed whenever a test runs; callers are offered voicemail."""
    everyday = [["00:00", "00:00:01"]]
    hours = {
        "timezone": timezone,
        "weekly": dict.fromkeys(WEEK, everyday),
        "closed_action": "voicemail",
    }
    policy = {"skills": [{"skill": queue, "level": 1}], "hours": hours}
    return {"queues": {queue: policy}}


async def test_closed_queue_records_the_closed_action(center: Center) -> None:
    await center.queue("billing", [("billing", 1)])
    published = await center.publish(closed_in_practice("billing", "Asia/Shanghai"))
    assert published.status_code == 201, published.text
    contact_id = await center.contact("billing")
    contact = await center.get(contact_id)
    assert contact["state"] == "ended"
    closed = next(e for e in contact["events"] if e["kind"] == "contact.queue_closed")
    assert closed["payload"]["action"] == "voicemail"


async def test_position_and_expected_wait(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    first = await center.contact("support")
    second = await center.contact("support", priority=5)
    third = await center.contact("support")

    async def positions() -> list[int] | None:
        found = []
        for contact_id in (first, second, third):
            response = await center.client.get(
                f"/api/v1/contacts/{contact_id}/position", headers=center.admin
            )
            if response.status_code != 200:
                return None
            found.append(response.json()["position"])
        return found

    assert await eventually(positions) == [2, 1, 3]
    waiting = await center.client.get(
        "/api/v1/routing/queues/support/waiting", headers=center.admin
    )
    assert [w["contact_id"] for w in waiting.json()] == [second, first, third]
    assert [w["expected_wait_seconds"] for w in waiting.json()] == [None] * 3  # nobody on shift

    assert (await center.set_state("li.na", "not_ready", "lunch")).status_code == 200

    async def estimates() -> list[float] | None:
        response = await center.client.get(
            "/api/v1/routing/queues/support/waiting", headers=center.admin
        )
        found = [w["expected_wait_seconds"] for w in response.json()]
        return None if None in found else found

    estimated = await eventually(estimates)
    assert estimated == sorted(estimated)
    assert estimated[0] > 0


async def test_callback_keeps_place_when_caller_hangs_up(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    contact_id = await center.contact("support")
    later = await center.contact("support")
    response = await center.client.post(
        f"/api/v1/contacts/{contact_id}/callback",
        json={"number": "138 0013 8000"},
        headers=center.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["attributes"]["callback"] == {"number": "+8613800138000"}
    hung_up = await center.client.post(
        f"/api/v1/contacts/{contact_id}/abandon", headers=center.admin
    )
    assert hung_up.status_code == 200
    await center.available("li.na")
    await center.wait_state(contact_id, "offered", "li.na")  # still first in line
    assert (await center.state_of(later)) == ("queued", None)


async def test_customers_last_agent_is_preferred(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    published = await center.publish(
        {
            "queues": {
                "support": {
                    "skills": [{"skill": "support", "level": 1}],
                    "preferred_agent_seconds": 30,
                }
            }
        }
    )
    assert published.status_code == 201
    customer = await center.client.post(
        "/api/v1/customers", json={"name": "王小明"}, headers=center.admin
    )
    customer_id = customer.json()["id"]
    await center.agent("li.na", {"support": 3})
    await center.agent("tom.becker", {"support": 3})
    await center.available("li.na")
    first = await center.contact("support", customer_id=customer_id)
    await center.wait_state(first, "offered", "li.na")
    assert (await center.act("li.na", first, "accept")).status_code == 200
    assert (await center.act("li.na", first, "end")).status_code == 200

    await center.available("tom.becker")  # free and idle longest, but not her agent
    second = await center.contact("support", customer_id=customer_id)
    await asyncio.sleep(0.2)
    assert (await center.state_of(second)) == ("queued", None)
    assert (
        await center.client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers("li.na"))
    ).status_code == 200
    await center.wait_state(second, "offered", "li.na")


async def test_transfer_to_a_named_agent(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.agent("chen.jie", {"billing": 5})
    await center.available("li.na")
    contact_id = await center.contact("support", "chat")
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    await center.available("chen.jie")
    moved = await center.act(
        "li.na", contact_id, "transfer", {"to_agent_id": center.id("chen.jie")}
    )
    assert moved.status_code == 200, moved.text
    await center.wait_state(contact_id, "offered", "chen.jie")
    both = await center.act(
        "li.na", contact_id, "transfer", {"to_queue": "support", "to_agent_id": 1}
    )
    assert both.status_code in (409, 422)


async def test_not_ready_reasons_are_the_configured_ones(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    unknown = await center.set_state("li.na", "not_ready", "nap")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_reason"
    assert "lunch" in unknown.json()["error"]["details"]["allowed"]
    assert (await center.set_state("li.na", "not_ready", "training")).status_code == 200


async def test_a_queue_not_yet_in_the_routing_document_routes_by_its_row(
    app: FastAPI, center: Center
) -> None:
    from sqlalchemy import select

    from app.queues.models import Queue, QueueSkill
    from app.skills.models import Skill

    async with app.state.db.unit_of_work() as session:  # as an import script would write it
        queue = Queue(name="imported", display_name="Imported", channels=["voice"])
        session.add(queue)
        await session.flush()
        billing = await session.scalar(select(Skill.id).where(Skill.name == "billing"))
        session.add(QueueSkill(queue_id=queue.id, skill_id=billing, min_level=3))
    await center.queue("support", [("support", 1)])  # publishes a version without "imported"
    await center.agent("novice", {"billing": 2})
    await center.agent("expert", {"billing": 4})
    await center.available("novice")
    await center.available("expert")
    contact_id = await center.contact("imported")
    await center.wait_state(contact_id, "offered", "expert")


async def test_enqueue_follows_queue_changes_made_a_moment_ago(center: Center) -> None:
    """Enqueueing keeps what it learned of a queue between contacts; a change to the queue
    (channels, priority, hours) must still apply to the very next contact."""
    await center.queue("support", [("support", 1)], channels=["voice", "email"])
    queue_id = next(
        q["id"]
        for q in (await center.client.get("/api/v1/queues", headers=center.admin)).json()["items"]
        if q["name"] == "support"
    )
    first = await center.get(await center.contact("support", "email"))
    assert first["priority"] == 0

    narrowed = await center.client.patch(
        f"/api/v1/queues/{queue_id}",
        json={"channels": ["voice"], "default_priority": 7},
        headers=center.admin,
    )
    assert narrowed.status_code == 200, narrowed.text
    refused = await center.client.post(
        "/api/v1/contacts", json={"channel": "email", "queue": "support"}, headers=center.admin
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "channel_not_served"
    assert (await center.get(await center.contact("support", "voice")))["priority"] == 7

    closed = await center.publish(closed_in_practice("support", "UTC"))
    assert closed.status_code == 201, closed.text
    after = await center.get(await center.contact("support", "voice"))
    assert after["state"] == "ended"
    assert [e["kind"] for e in after["events"]][-1] == "contact.queue_closed"
