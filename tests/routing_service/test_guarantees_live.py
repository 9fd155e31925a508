"""The routing guarantees, checked with concurrent clients against a real HTTP server.

Customers arrive and agents accept, reject and finish at the same time over real sockets;
afterwards the append-only event log is replayed to prove that no contact was ever offered
to two agents at once, no agent ever held more than its capacity, and no contact was lost.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.database import libpq_url
from tests.helpers import live_server
from tests.routing_service.conftest import Center

AGENTS = 6
CONTACTS = 60
CAPACITY = {"voice": 1, "chat": 2, "email": 3}


@pytest.fixture
async def live_url(app: FastAPI) -> AsyncIterator[str]:
    async with live_server(app) as url:
        yield url


async def _agent_loop(
    url: str, headers: dict[str, str], rng: random.Random, stop: asyncio.Event
) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http:
        while not stop.is_set():
            presence = (await http.get("/api/v1/agents/me/presence")).json()
            for contact_id in presence.get("offered", []):
                action = "accept" if rng.random() < 0.8 else "reject"
                await http.post(f"/api/v1/contacts/{contact_id}/{action}")
            for contact_id in presence.get("assigned", []):
                if rng.random() < 0.5:
                    await http.post(
                        f"/api/v1/contacts/{contact_id}/end", json={"disposition": "resolved"}
                    )
            await asyncio.sleep(rng.uniform(0.005, 0.03))


async def _customer(url: str, admin: dict[str, str], rng: random.Random) -> int:
    await asyncio.sleep(rng.uniform(0, 1.5))
    channel = rng.choice(["voice", "chat", "email"])
    async with httpx.AsyncClient(base_url=url, headers=admin, timeout=10) as http:
        response = await http.post(
            "/api/v1/contacts", json={"channel": channel, "queue": "support"}
        )
        assert response.status_code == 201, response.text
        contact_id: int = response.json()["id"]
        if rng.random() < 0.1:
            await asyncio.sleep(rng.uniform(0, 0.3))
            await http.post(f"/api/v1/contacts/{contact_id}/abandon")
        return contact_id


async def _replay_and_check(database_url: str, contact_ids: list[int]) -> None:
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        events = await conn.fetch(
            "SELECT e.kind, e.contact_id, e.agent_id, c.channel FROM contact_events e "
            "JOIN contacts c ON c.id = e.contact_id WHERE e.contact_id IS NOT NULL ORDER BY e.id"
        )
        final = dict(await conn.fetch("SELECT id, state FROM contacts"))
    finally:
        await conn.close()
    holder: dict[int, int] = {}  # contact -> agent it is offered or assigned to
    load: dict[tuple[int, str], int] = defaultdict(int)  # (agent, channel) -> held contacts
    offers = 0
    for kind, contact_id, agent_id, channel in events:
        if kind == "contact.offered":
            offers += 1
            assert contact_id not in holder, (
                f"contact {contact_id} offered while held by {holder.get(contact_id)}"
            )
            holder[contact_id] = agent_id
            load[(agent_id, channel)] += 1
            assert load[(agent_id, channel)] <= CAPACITY[channel], (
                f"agent {agent_id} over capacity on {channel}"
            )
        elif (
            kind in ("contact.offer_withdrawn", "contact.ended", "contact.requeued")
            and contact_id in holder
        ) or (kind == "contact.abandoned" and contact_id in holder):
            load[(holder.pop(contact_id), channel)] -= 1
    assert offers >= CONTACTS * 0.8
    for contact_id in contact_ids:
        assert final[contact_id] in ("ended", "wrap_up", "abandoned"), (
            contact_id,
            final[contact_id],
        )


async def test_concurrent_clients_never_double_offer_or_overfill(
    app: FastAPI, center: Center, live_url: str
) -> None:
    await center.queue("support", [("support", 1)])
    published = await center.publish(
        {
            "queues": {
                "support": {
                    "skills": [{"skill": "support", "level": 1}],
                    "wrap_up_seconds": 0.05,
                    "reject_cooldown_seconds": 0.2,
                }
            }
        }
    )
    assert published.status_code == 201
    rng = random.Random(20261122)
    for n in range(AGENTS):
        await center.agent(f"agent{n}", {"support": rng.randint(1, 5)}, capacity=CAPACITY)
        await center.available(f"agent{n}")

    stop = asyncio.Event()
    agents = [
        asyncio.create_task(
            _agent_loop(live_url, center.headers(f"agent{n}"), random.Random(n), stop)
        )
        for n in range(AGENTS)
    ]
    contact_ids = await asyncio.gather(
        *(_customer(live_url, center.admin, random.Random(1000 + i)) for i in range(CONTACTS))
    )

    async def all_done() -> bool:
        async with httpx.AsyncClient(base_url=live_url, headers=center.admin) as http:
            live = 0
            for state in ("queued", "offered", "assigned"):
                page = (await http.get(f"/api/v1/contacts?state={state}")).json()
                live += len(page["items"])
            return live == 0

    deadline = asyncio.get_running_loop().time() + 60
    while not await all_done():
        assert asyncio.get_running_loop().time() < deadline, "contacts still live after 60 s"
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*agents)
    await _replay_and_check(app.state.database_url, contact_ids)
