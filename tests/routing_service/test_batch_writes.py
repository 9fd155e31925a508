"""The router's batch statement itself, on a real database: what one batch writes."""

from __future__ import annotations

import time

import asyncpg
from fastapi import FastAPI

from app.database import libpq_url
from app.routing import inbox
from app.routing.core import model as core
from app.routing.persistence import DecisionWriter
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
        epoch = await writer.flush(conn, notify_channel=inbox.DONE_CHANNEL)
        rows = await conn.fetch(
            "SELECT id, state, wrap_up_ended_at FROM contacts WHERE id = ANY($1::bigint[])",
            [first, second],
        )
    finally:
        await conn.close()
    assert epoch == app.state.distributor.epoch
    assert {r["id"]: r["state"] for r in rows} == {first: "ended", second: "ended"}
    assert all(r["wrap_up_ended_at"] is not None for r in rows)
