"""Care rules, touches and days run by hand, through the HTTP API and the routing service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.care import service
from app.care.models import CareTouch
from app.care.scheduler import CareScheduler
from app.consent.models import TouchLog
from app.main import create_app
from app.outbound.attempts import OUTBOUND_KEY, context_from_settings
from tests.care.conftest import (
    Center,
    care_settings,
    customer,
    day7_call,
    days_ago,
    order,
    rule,
    run,
    today,
)
from tests.conftest import make_settings

RULES = "/api/v1/care/rules"


async def _touches(client: httpx.AsyncClient, headers: dict[str, str], **query: Any) -> list[Any]:
    response = await client.get("/api/v1/care/touches", params=query, headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def test_rules_are_listed_off_and_switched_by_admins(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    supervisor: dict[str, str],
    agent: dict[str, str],
) -> None:
    listed = await client.get(RULES, headers=supervisor)
    assert listed.status_code == 200, listed.text
    rules = {r["key"]: r for r in listed.json()}
    assert set(rules) == {
        "birthday",
        "day7",
        "day28",
        "vip_expiry",
        "vip_welcome",
        "win_back",
        "holiday",
    }
    assert not any(r["enabled"] for r in rules.values())
    assert rules["day7"]["channel"] == "call"
    assert rules["day7"]["offset_days"] == 7
    assert set(rules["day7"]["templates"]) == {"zh-CN", "en"}

    no_queue = await client.put(f"{RULES}/day7", json={"enabled": True}, headers=admin)
    assert no_queue.status_code == 422
    assert no_queue.json()["error"]["code"] == "queue_required"
    unknown_queue = await client.put(
        f"{RULES}/day7", json={"enabled": True, "queue": "nowhere"}, headers=admin
    )
    assert unknown_queue.json()["error"]["code"] == "unknown_queue"
    assert (await client.put(f"{RULES}/nope", json={}, headers=admin)).status_code == 404
    assert (await client.put(f"{RULES}/birthday", json={}, headers=supervisor)).status_code == 403
    assert (await client.get(RULES, headers=agent)).status_code == 403

    changed = await rule(client, admin, "birthday", enabled=True, send_time="09:30")
    assert changed["enabled"] is True
    assert changed["send_time"] == "09:30"
    off = await rule(client, admin, "birthday", enabled=False)
    assert off["enabled"] is False
    assert off["send_time"] == "09:30"


async def test_a_template_that_does_not_render_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = {r["key"]: r for r in (await client.get(RULES, headers=admin)).json()}["day28"]
    good = before["templates"]["en"]
    for broken in ("Hi {{ customer.name ", "Hi {{ nobody }}", "{{ 1/0 }}", "{{ 'x' * 9 }}"):
        templates = {"zh-CN": before["templates"]["zh-CN"], "en": {**good, "body": broken}}
        refused = await client.put(f"{RULES}/day28", json={"templates": templates}, headers=admin)
        assert refused.status_code == 422, (broken, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "template_invalid"
        assert error["details"]["language"] == "en"
        assert error["details"]["part"] == "body"
    no_subject = {"zh-CN": before["templates"]["zh-CN"], "en": {"body": "Hi"}}
    refused = await client.put(f"{RULES}/day28", json={"templates": no_subject}, headers=admin)
    assert refused.json()["error"]["code"] == "template_invalid"
    after = {r["key"]: r for r in (await client.get(RULES, headers=admin)).json()}["day28"]
    assert after == before


async def test_a_customer_has_an_optional_birthday(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer_id = await customer(client, admin, birthday="1990-06-15")
    got = await client.get(f"/api/v1/customers/{customer_id}", headers=admin)
    assert got.json()["birthday"] == "1990-06-15"
    patched = await client.patch(
        f"/api/v1/customers/{customer_id}", json={"birthday": "1991-02-28"}, headers=admin
    )
    assert patched.json()["birthday"] == "1991-02-28"
    bad = await client.post(
        "/api/v1/customers", json={"name": "x", "birthday": "1990-13-01"}, headers=admin
    )
    assert bad.status_code == 422


async def test_a_day7_care_call_reaches_an_agent_with_its_script(
    app: FastAPI, center: Center, supervisor: dict[str, str]
) -> None:
    client, admin = center.client, center.admin
    await center.queue("care", [("support", 1)], channels=["voice"])
    await center.agent("li.na", {"support": 3, "mandarin": 5})
    await center.available("li.na")
    customer_id = await customer(client, admin, name="王小明")
    await order(client, admin, customer_id, days_ago(app, 7), "SO-7")
    await order(client, admin, customer_id, days_ago(app, 6), "SO-6")
    await rule(client, admin, "day7", enabled=True, queue="care", priority=3)

    planned = await run(client, admin, today(app), dry_run=True)
    assert (planned["planned"], planned["created"]) == (1, 0)
    assert await _touches(client, admin) == []
    done = await run(client, admin, today(app))
    assert (done["planned"], done["created"], done["outcomes"]) == (1, 1, {"called": 1})

    [touch] = await _touches(client, supervisor, rule="day7", outcome="called")
    assert touch["customer_id"] == customer_id
    assert touch["occurrence"].startswith("order:")
    assert "SO-7" in touch["rendered"]["body"]
    assert touch["rendered"]["language"] == "zh-CN"
    offered = await center.wait_state(touch["contact_id"], "offered", "li.na")
    outbound = offered["attributes"]["outbound"]  # an outbound call, routed like any contact
    assert (outbound["origin"], outbound["script"]) == ("care", touch["rendered"]["body"])
    assert offered["direction"] == "outbound"
    assert offered["priority"] == 3
    call = await client.get(f"/api/v1/outbound/calls/{outbound['call_id']}", headers=supervisor)
    assert call.json()["ref"] == f"care_touch:{touch['id']}"

    mine = await client.get(f"/api/v1/customers/{customer_id}/care-touches", headers=supervisor)
    assert [t["id"] for t in mine.json()["items"]] == [touch["id"]]
    audit = await client.get("/api/v1/audit?action=care_touches", headers=admin)
    assert audit.status_code == 200, audit.text
    assert any(e["customer_id"] == customer_id for e in audit.json()["items"])


async def test_a_day28_email_goes_to_the_outbox_in_the_customers_language(
    app: FastAPI, center: Center
) -> None:
    client, admin = center.client, center.admin
    await center.queue("support", [("support", 1)])
    point = await client.post(
        "/api/v1/entry-points",
        json={"channel": "email", "address": "care@example.com", "queue": "support"},
        headers=admin,
    )
    assert point.status_code == 201, point.text
    customer_id = await customer(
        client, admin, name="Anna Berg", language="en-GB", emails=["anna@example.com"]
    )
    await order(client, admin, customer_id, days_ago(app, 28), "SO-28")
    await rule(client, admin, "day28", enabled=True)

    done = await run(client, admin, today(app))
    assert done["outcomes"] == {"emailed": 1}
    [touch] = await _touches(client, admin, rule="day28")
    mail = await client.get(f"/api/v1/contacts/{touch['contact_id']}/email-messages", headers=admin)
    assert mail.status_code == 200, mail.text
    [message] = mail.json()
    assert message["direction"] == "outbound"
    assert message["delivery"]["status"] in ("pending", "sent", "failed")
    assert "SO-28" in message["body"]
    assert "holding up" in message["body"]


async def test_a_refused_call_is_suppressed_with_its_reason(app: FastAPI, center: Center) -> None:
    client, admin = center.client, center.admin
    customer_id = await day7_call(app, center)
    refused = await client.put(
        f"/api/v1/customers/{customer_id}/consent",
        json={"channel": "voice", "purpose": "service", "status": "refused", "source": "agent"},
        headers=admin,
    )
    assert refused.status_code == 200, refused.text

    done = await run(client, admin, today(app))
    assert done["outcomes"] == {"suppressed": 1}
    [touch] = await _touches(client, admin)
    assert (touch["outcome"], touch["reason"], touch["contact_id"]) == (
        "suppressed",
        "refused",
        None,
    )
    held = await client.get(f"/api/v1/customers/{customer_id}/suppressions", headers=admin)
    [entry] = held.json()["items"]
    assert entry["origin"] == "care"
    assert entry["ref"] == f"care_touch:{touch['id']}"


async def test_quiet_hours_suppress_a_call_due_at_night(app: FastAPI, center: Center) -> None:
    client, admin = center.client, center.admin
    await day7_call(app, center)
    settings = make_settings()  # quiet hours 21:00-09:00
    night = datetime.combine(today(app), time(22, 30), tzinfo=settings.zone).astimezone(UTC)
    async with app.state.db.unit_of_work() as session:
        # a call asks consent in app.outbound, by the service's settings: these ones
        session.info[OUTBOUND_KEY] = context_from_settings(settings)
        report = await service.run_day(session, today(app), settings, night, dry_run=False)
    assert report.outcomes == {"suppressed": 1}
    [touch] = await _touches(client, admin)
    assert touch["reason"] == "quiet_hours"


async def _count(app: FastAPI) -> int:
    async with app.state.db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(CareTouch)) or 0)


async def test_each_touch_is_created_once_run_twice_concurrently_and_after_a_restart(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], clean_db: str
) -> None:
    ids = [await customer(client, admin, name=f"c{i}") for i in range(3)]
    for n, customer_id in enumerate(ids):
        await order(client, admin, customer_id, days_ago(app, 28), f"SO-{n}")
        await order(client, admin, customer_id, days_ago(app, 27), f"SO-next-{n}")
    # no sender address: each touch is created, then fails to mail, once
    await rule(client, admin, "day28", enabled=True)
    day = today(app)

    first = await run(client, admin, day)
    second = await run(client, admin, day)
    assert (first["created"], second["created"]) == (3, 0)
    assert first["outcomes"] == {"failed": 3}
    assert second["outcomes"] == {}
    assert await _count(app) == 3

    async def plan_tomorrow_in_own_session() -> int:
        async with app.state.db.unit_of_work() as session:
            tomorrow = day + timedelta(days=1)
            return (await service.create_day(session, tomorrow, app.state.settings))[1]

    created = await asyncio.gather(*(plan_tomorrow_in_own_session() for _ in range(4)))
    assert sum(created) == 3
    assert await _count(app) == 6

    restarted = create_app(care_settings(), database_url=clean_db)
    async with restarted.router.lifespan_context(restarted):
        scheduler: CareScheduler = restarted.state.care_scheduler
        await scheduler.plan_today(datetime.now(UTC))
        await scheduler.plan_today(datetime.now(UTC))
        assert scheduler.planned is not None
        assert scheduler.planned[0] == day
    assert await _count(app) == 6
    outcomes = {t["outcome"] for t in await _touches(client, admin, date=day.isoformat())}
    assert outcomes == {"failed"}


async def test_the_scheduler_plans_and_acts_only_on_the_leader_and_never_late(
    app: FastAPI, center: Center
) -> None:
    client, admin = center.client, center.admin
    customer_id = await day7_call(app, center)
    await order(client, admin, customer_id, days_ago(app, 8), "SO-8")
    async with app.state.db.unit_of_work() as session:  # yesterday's, never acted on
        await service.create_day(session, today(app) - timedelta(days=1), app.state.settings)
    follower = CareScheduler(app.state.db, app.state.settings, lambda: False)
    await follower.round()
    assert await _count(app) == 1
    zone = app.state.settings.zone
    noon = datetime.combine(today(app), time(12), tzinfo=zone).astimezone(UTC)
    leader = CareScheduler(app.state.db, app.state.settings, lambda: True, clock=lambda: noon)
    await leader.round()
    [touch] = await _touches(client, admin, outcome="called")
    assert touch["day"] == today(app).isoformat()
    [late] = await _touches(client, admin, outcome="skipped")
    assert late["reason"] == "expired"


async def test_a_call_routing_refuses_fails_and_leaves_no_touch_made(
    app: FastAPI, center: Center
) -> None:
    client, admin = center.client, center.admin
    await day7_call(app, center, queue="mail-only", channels=("email",))

    done = await run(client, admin, today(app))
    assert done["outcomes"] == {"failed": 1}
    [touch] = await _touches(client, admin)
    assert (touch["reason"], touch["contact_id"]) == ("channel_not_served", None)
    async with app.state.db.unit_of_work() as session:
        logged = await session.scalar(select(func.count()).select_from(TouchLog))
    assert logged == 0
