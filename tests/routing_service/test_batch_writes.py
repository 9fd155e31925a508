"""What one router batch writes, on a real database: the batch statement itself, the end of
wrap-up in the cases a batch folds together, and the read that starts each batch."""

from __future__ import annotations

import time

import asyncpg
from fastapi import FastAPI

from app import fastjson
from app.database import connect_long_lived, libpq_url
from app.routing import inbox, service
from app.routing.core import model as core
from app.routing.distributor import ROUTER_CONNECTION_SETTINGS, UNPROCESSED_SQL, Distributor
from app.routing.persistence import BATCH_SQL, DecisionWriter
from app.users.models import User
from tests.routing_service.conftest import Center


async def test_a_contact_ended_in_the_batch_that_ends_its_agents_wrap_up_ends_with_it(
    app: FastAPI, center: Center
) -> None:
    """The agent's wrap-up ends in the same batch as the contact goes into wrap-up (two
    requests read together): the contact must not be left in wrap-up, and an older contact
    of hers in wrap-up ends too."""
    await center.queue("support", [("support", 1)])
    agent_id = await center.agent("li.na", {"support": 3}, capacity={"chat": 2})
    await center.available("li.na")
    first = await center.contact("support", channel="chat")
    second = await center.contact("support", channel="chat")
    for contact_id in (first, second):
        await center.wait_state(contact_id, "offered", "li.na")
        accepted = await center.act("li.na", contact_id, "accept")
        assert accepted.status_code == 200, accepted.text
    ended = await center.act("li.na", first, "end")
    assert ended.status_code == 200, ended.text
    assert (await center.state_of(first)) == ("wrap_up", agent_id)

    writer = DecisionWriter(time.time(), {}, app.state.distributor.epoch)
    writer.decision(core.ContactRemoved(str(second), "ended", 0.0))
    writer.presence_changes([(agent_id, "available", None, "wrap_up", None)], lambda _: None)
    conn = await asyncpg.connect(libpq_url(app.state.database_url))
    try:
        epoch, _ = await writer.flush(conn, notify_channel=inbox.DONE_CHANNEL)
        rows = await conn.fetch(
            "SELECT id, state, wrap_up_ended_at FROM contacts WHERE id = ANY($1::bigint[])",
            [first, second],
        )
    finally:
        await conn.close()
    assert epoch == app.state.distributor.epoch
    assert {r["id"]: r["state"] for r in rows} == {first: "ended", second: "ended"}
    assert all(r["wrap_up_ended_at"] is not None for r in rows)


async def test_the_routers_inbox_read_walks_the_index_whatever_the_statistics(
    clean_db: str,
) -> None:
    """Planned once while the inbox is empty, then run over thousands of answered requests,
    never analyzed: the read must still walk the index (which marks the dead entries it
    passes), neither a full scan nor a bitmap scan (which visits them all)."""
    url = libpq_url(clean_db)
    router_conn = await connect_long_lived(url, ROUTER_CONNECTION_SETTINGS)
    try:
        await router_conn.execute(f"PREPARE unprocessed(int) AS {UNPROCESSED_SQL}")
        await router_conn.execute("EXECUTE unprocessed(500)")
        await router_conn.execute(
            "INSERT INTO routing_inbox (kind, payload, processed_at)"
            " SELECT 'agent.state', '{}', now() FROM generate_series(1, 5000)"
        )
        await router_conn.execute("INSERT INTO routing_inbox (kind, payload) VALUES ('tick', '{}')")
        plan = "\n".join(r[0] for r in await router_conn.fetch("EXPLAIN EXECUTE unprocessed(500)"))
        rows = await router_conn.fetch(UNPROCESSED_SQL, 500)
    finally:
        await router_conn.close()
    assert "Index Scan using ix_routing_inbox_unprocessed" in plan
    assert "Bitmap" not in plan
    assert "Seq Scan" not in plan
    assert [r["kind"] for r in rows] == ["tick"]


async def _assigned_chat(center: Center, agent: str) -> int:
    contact_id = await center.contact("support", channel="chat")
    await center.wait_state(contact_id, "offered", agent)
    accepted = await center.act(agent, contact_id, "accept")
    assert accepted.status_code == 200, accepted.text
    return contact_id


async def test_a_contact_ended_by_an_agent_who_went_not_ready_meanwhile_ends_at_once(
    center: Center,
) -> None:
    """No wrap-up starts for an agent on a break, so the contact has none to wait for."""
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = await _assigned_chat(center, "li.na")
    assert (await center.set_state("li.na", "not_ready", "lunch")).status_code == 200

    ended = await center.act("li.na", contact_id, "end")
    assert ended.status_code == 200, ended.text
    contact = await center.wait_state(contact_id, "ended")
    assert contact["wrap_up_ended_at"] is not None
    presence = await center.client.get(
        "/api/v1/agents/me/presence", headers=center.headers("li.na")
    )
    assert (presence.json()["state"], presence.json()["reason"]) == ("not_ready", "lunch")


async def test_a_contact_ended_and_its_agents_wrap_up_ended_in_one_batch_ends(
    app: FastAPI, center: Center
) -> None:
    """Both requests committed together reach the router in one batch: the agent goes from
    on-contact to available without being seen in wrap-up."""
    await center.queue("support", [("support", 1)])
    agent_id = await center.agent("wang.fang", {"support": 3})
    await center.available("wang.fang")
    contact_id = await _assigned_chat(center, "wang.fang")
    async with app.state.db.unit_of_work() as session:
        agent = await session.get(User, agent_id)
        assert agent is not None
        await service.end_contact(session, contact_id, agent, None)
        await service.end_wrap_up(session, agent)
    contact = await center.wait_state(contact_id, "ended")
    assert contact["wrap_up_ended_at"] is not None


async def test_the_routers_batch_statement_planned_on_empty_tables_finds_rows_by_key(
    clean_db: str,
) -> None:
    """The router plans its batch statement once, maybe while the tables are empty; once
    they hold thousands of contacts and answered requests that plan must still find them by
    key, never by a scan of the table, and read the next requests by the index of the
    unprocessed ones."""
    router_conn = await connect_long_lived(libpq_url(clean_db), ROUTER_CONNECTION_SETTINGS)
    nothing = "('{}', '[]', '[]', now(), '{}', 'nobody', false, '{}', '{}', 0, '{}', 500)"
    some = "('{}', '[]', '[]', now(), '{}', 'nobody', false, '{1,2}', '{3}', 0, '{4}', 500)"
    try:
        await router_conn.execute(f"PREPARE batch AS {BATCH_SQL}")
        await router_conn.execute(f"EXECUTE batch{nothing}")
        await router_conn.execute(
            "INSERT INTO contacts (channel, state)"
            " SELECT 'email', 'ended' FROM generate_series(1, 20000)"
        )
        await router_conn.execute(
            "INSERT INTO routing_inbox (kind, payload, processed_at)"
            " SELECT 'agent.state', '{}', now() FROM generate_series(1, 5000)"
        )
        plan = "\n".join(r[0] for r in await router_conn.fetch(f"EXPLAIN EXECUTE batch{some}"))
    finally:
        await router_conn.close()
    assert "Seq Scan" not in plan
    assert "Index Scan using pk_contacts" in plan
    assert "Index Scan using ix_routing_inbox_unprocessed" in plan


async def test_the_batch_statement_reads_the_requests_it_left_unanswered(
    app: FastAPI, center: Center
) -> None:
    """The router's next batch comes back with the statement that wrote this one: the oldest
    unprocessed requests, in order, none of those the statement answered."""
    await app.state.distributor.stop()  # nobody else answers the rows below
    conn = await asyncpg.connect(libpq_url(app.state.database_url))
    try:
        ids = [
            await conn.fetchval(
                "INSERT INTO routing_inbox (kind, payload, actor_id)"
                " VALUES ('agent.state', $1::jsonb, 7) RETURNING id",
                f'{{"n": {n}, "name": "李娜"}}',
            )
            for n in range(4)
        ]
        epoch = await conn.fetchval("SELECT epoch FROM router_lease WHERE id = 1")
        writer = DecisionWriter(time.time(), {}, epoch)
        writer.answer(ids[1], {"ok": True})
        written, next_rows = await writer.flush(
            conn, notify_channel=inbox.DONE_CHANNEL, read_next=2
        )
        processed = await conn.fetchval(
            "SELECT processed_at IS NOT NULL FROM routing_inbox WHERE id = $1", ids[1]
        )
    finally:
        await conn.close()
    assert written == epoch
    assert processed
    rows = fastjson.decoded(next_rows)
    assert [r["id"] for r in rows] == [ids[0], ids[2]]
    assert rows[1]["payload"] == {"n": 2, "name": "李娜"}
    assert rows[1]["kind"] == "agent.state"
    assert rows[1]["actor_id"] == 7
    assert abs(rows[1]["created"] - time.time()) < 60


async def test_a_rebuilt_router_ends_wrap_ups_of_agents_no_longer_in_wrap_up(
    app: FastAPI, center: Center
) -> None:
    """A contact left in wrap-up while its agent is not (as routers before 2f88d5d left
    them) ends when the next router rebuilds; one whose agent is in wrap-up stays."""
    await center.queue("support", [("support", 1)])
    await center.agent("li.na", {"support": 3}, capacity={"chat": 1})
    wang_fang = await center.agent("wang.fang", {"support": 3}, capacity={"chat": 1})
    await center.available("li.na")
    stuck = await _assigned_chat(center, "li.na")
    await center.available("wang.fang")
    wrapping = await _assigned_chat(center, "wang.fang")
    assert (await center.act("wang.fang", wrapping, "end")).status_code == 200
    assert (await center.state_of(wrapping)) == ("wrap_up", wang_fang)

    await app.state.distributor.stop()
    conn = await asyncpg.connect(libpq_url(app.state.database_url))
    try:
        await conn.execute("UPDATE contacts SET state = 'wrap_up' WHERE id = $1", stuck)
    finally:
        await conn.close()
    replacement = Distributor(
        app.state.db, app.state.bus, app.state.database_url, instance="replacement"
    )
    await replacement.start()
    app.state.distributor = replacement

    contact = await center.wait_state(stuck, "ended")
    assert contact["wrap_up_ended_at"] is not None
    assert (await center.state_of(wrapping)) == ("wrap_up", wang_fang)
    presence = await center.client.get(
        "/api/v1/agents/me/presence", headers=center.headers("li.na")
    )
    assert presence.json()["state"] == "available"
