"""The migration chain upgrades and downgrades on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

from app.database import libpq_url
from app.ivr.store import parse_flow
from app.migrations import downgrade, head_revision, upgrade
from app.routing.config_schemas import RoutingDocument
from tests.helpers import fresh_database


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await conn.close()


async def test_upgrade_head_then_downgrade_base(database_url: str) -> None:
    url = await fresh_database(database_url, "migrations")

    await asyncio.to_thread(upgrade, url)
    assert {"contacts", "contact_events", "customers", "queues", "users"} <= await _tables(url)
    conn = await asyncpg.connect(libpq_url(url))
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head_revision()
    finally:
        await conn.close()

    await asyncio.to_thread(downgrade, url, "base")
    assert await _tables(url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, url)  # and back up again: downgrade left nothing behind
    assert "contact_events" in await _tables(url)


FLOW_WITH_TIER = {
    "start": "who",
    "prompts": {"hi": {"text": {"zh-CN": "您好", "en-US": "Hello"}}},
    "nodes": {
        "who": {
            "type": "condition",
            "branches": [{"when": {"type": "tier", "tiers": ["vip"]}, "next": "vip_line"}],
            "otherwise": "hello",
        },
        "hello": {"type": "say", "prompt": "hi", "next": "line"},
        "line": {"type": "enqueue", "queue": "support"},
        "vip_line": {"type": "enqueue", "queue": "vip"},
    },
}


async def _seed_tiers(url: str) -> dict[str, int]:
    """Customers of each tier, a routing document and an IVR flow of revision 0007."""
    conn = await asyncpg.connect(libpq_url(url))
    try:
        ids = {
            tier: await conn.fetchval(
                "INSERT INTO customers (name, tier) VALUES ($1, $2) RETURNING id", name, tier
            )
            for tier, name in (("standard", "张三"), ("gold", "李四"), ("vip", "王五"))
        }
        routing = {"max_missed_offers": 3, "tier_priority": {"vip": 10, "gold": 3}}
        await conn.execute(
            "INSERT INTO routing_config_versions (version, document) VALUES (1, $1::jsonb)",
            json.dumps(routing),
        )
        flow_id = await conn.fetchval(
            "INSERT INTO ivr_flows (name, published_version) VALUES ('main', 1) RETURNING id"
        )
        await conn.execute(
            "INSERT INTO ivr_flow_versions (flow_id, version, document) VALUES ($1, 1, $2::jsonb)",
            flow_id,
            json.dumps(FLOW_WITH_TIER, ensure_ascii=False),
        )
        return ids
    finally:
        await conn.close()


async def _documents(conn: asyncpg.Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    routing = await conn.fetchval("SELECT document FROM routing_config_versions WHERE version = 1")
    flow = await conn.fetchval("SELECT document FROM ivr_flow_versions WHERE version = 1")
    return json.loads(routing), json.loads(flow)


async def test_tiers_become_values_and_come_back(database_url: str) -> None:
    url = await fresh_database(database_url, "tiers")
    await asyncio.to_thread(upgrade, url, "0007")
    ids = await _seed_tiers(url)

    await asyncio.to_thread(upgrade, url, "head")
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch(
            "SELECT customer_id, status, grade, vip_until > now() AS vip, routing_tags"
            " FROM customer_values"
        )
        values = {row["customer_id"]: row for row in rows}
        assert set(values) == {ids["gold"], ids["vip"]}  # standard: never evaluated
        vip, gold = values[ids["vip"]], values[ids["gold"]]
        assert vip["vip"] is True
        assert vip["grade"] is None
        # the tags the scorer gives (app.customers.value.core.scorer.routing_tags)
        assert vip["routing_tags"] == ["status:prospect", "vip", "class:normal"]
        assert (gold["status"], gold["grade"], gold["vip"]) == ("graded", "G", None)
        assert gold["routing_tags"] == ["grade:G", "status:graded", "class:normal"]
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM customer_value_changes WHERE customer_id = ANY($1)",
                [ids["gold"], ids["vip"]],
            )
            == 2
        )
        routing, flow = await _documents(conn)
    finally:
        await conn.close()
    assert routing["value_priority"] == {"vip": 10, "grades": {"P": 3, "G": 3}}
    assert "tier_priority" not in routing
    assert RoutingDocument.model_validate(routing).max_missed_offers == 3
    assert flow["nodes"]["who"]["branches"][0]["when"] == {"type": "value", "vip": True}
    parse_flow(flow)

    await asyncio.to_thread(downgrade, url, "0007")
    conn = await asyncpg.connect(libpq_url(url))
    try:
        tiers = dict(await conn.fetch("SELECT id, tier FROM customers"))
        routing, flow = await _documents(conn)
    finally:
        await conn.close()
    assert tiers == {ids["standard"]: "standard", ids["gold"]: "gold", ids["vip"]: "vip"}
    assert routing == {"max_missed_offers": 3, "tier_priority": {"vip": 10, "gold": 3}}
    assert flow == FLOW_WITH_TIER
