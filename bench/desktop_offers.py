"""An offer, from the routing decision to the agent desktop's screen, with 200 agents on.

Starts the service (as ``bench/agent_sockets.py`` does), connects 199 agent consoles over
websockets (signed in and available, answering heartbeats) and one agent desktop in
Debian's headless Chromium (``/usr/bin/chromium``, driven by Playwright). The desktop's
agent is the most skilled, so each contact put in line is offered to it; the desktop marks
each offer when its banner is rendered (``performance.mark('offer-shown:<id>')``), and the
figure is that mark (on the epoch clock: ``performance.timeOrigin`` + the mark) minus the
``contact.offered`` event written in the router's transaction. Each contact is taken out of
line once measured, so the next one finds the agent free. Prints p50 / p99 / max beside a
same-run ceiling: one asyncpg commit.

    .venv/bin/python bench/desktop_offers.py [--agents 200] [--contacts 200]

The database is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/
contactd_bench_desktop; its schema is dropped and migrated first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import time
from datetime import datetime

import asyncpg
import httpx
from agent_sockets import SECRET, Consoles, prepare, start_server, wait_up
from playwright.async_api import Page, async_playwright

from app.auth.security import issue_token
from app.database import libpq_url
from app.users.models import Role

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_desktop"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-desktop-password"


async def _desktop_agent(client: httpx.AsyncClient) -> None:
    made = await client.post(
        "/api/v1/users",
        json={"username": "desk", "display_name": "Desk 桌面", "role": "agent",
              "password": PASSWORD, "capacity": {"chat": 1}},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    skills = await client.put(
        f"/api/v1/agents/{made.json()['id']}/skills", json=[{"skill": "support", "level": 5}]
    )
    assert skills.status_code == 200, skills.text


async def _open_desktop(page: Page, base: str) -> None:
    await page.goto(f"{base}/console")
    await page.get_by_label("Username").fill("desk")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator('.conn[data-conn="online"]').wait_for()
    await page.locator("#agent-state").select_option("available")
    await page.locator('#agent-state[data-state="available"]').wait_for()


async def _shown_at(page: Page, contact_id: int) -> float:
    """The epoch second the desktop rendered the contact's offer."""
    handle = await page.wait_for_function(
        """(id) => {
            const [mark] = performance.getEntriesByName(`offer-shown:${id}`);
            return mark && (performance.timeOrigin + mark.startTime) / 1000;
        }""",
        arg=contact_id,
        timeout=30_000,
    )
    mark: float = await handle.json_value()
    return mark


async def _commit_ceiling(url: str) -> float:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute("CREATE TEMP TABLE probe (n int)")
        started = time.perf_counter()
        for n in range(200):
            await conn.execute("INSERT INTO probe VALUES ($1)", n)
        return (time.perf_counter() - started) / 200 * 1000
    finally:
        await conn.close()


async def _offered_at(url: str, contacts: list[int]) -> dict[int, datetime]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch(
            "SELECT contact_id, min(occurred_at) FROM contact_events "
            "WHERE kind = 'contact.offered' AND contact_id = ANY($1) GROUP BY contact_id",
            contacts,
        )
    finally:
        await conn.close()
    return dict(rows)  # type: ignore[arg-type]


def _cuts(delays: list[float]) -> str:
    if len(delays) < 2:
        return f"{len(delays)} offers"
    cuts = statistics.quantiles(delays, n=100)
    return (
        f"{len(delays)} offers: p50 {cuts[49]:.1f} ms  p99 {cuts[98]:.1f} ms  "
        f"max {max(delays):.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=200, help="agents connected in all")
    parser.add_argument("--contacts", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    agent_ids, boss = await prepare(url, args.agents - 1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_server(url, port, deflate=False)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {issue_token(boss, Role.ADMIN, SECRET, 3600)}"}
    try:
        await wait_up(base)
        async with (
            httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client,
            async_playwright() as playwright,
        ):
            queue = {"name": "support", "display_name": "Support", "channels": ["chat"],
                     "required_skills": [{"skill": "support", "level": 1}],
                     "strategy": "most_skilled"}  # fmt: skip
            assert (await client.post("/api/v1/queues", json=queue)).status_code == 201
            await _desktop_agent(client)
            consoles = Consoles(base.replace("http", "ws") + "/ws/agent")
            await consoles.connect_all(agent_ids)
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = await (
                await browser.new_context(viewport={"width": 1280, "height": 800})
            ).new_page()
            await _open_desktop(page, base)
            shown: dict[int, float] = {}
            created: list[int] = []
            for _ in range(args.contacts):
                made = await client.post(
                    "/api/v1/contacts", json={"channel": "chat", "queue": "support"}
                )
                contact_id = made.json()["id"]
                created.append(contact_id)
                shown[contact_id] = await _shown_at(page, contact_id)
                gone = await client.post(f"/api/v1/contacts/{contact_id}/abandon")
                assert gone.status_code == 200, gone.text
                await page.locator(f'.offer[data-contact="{contact_id}"]').wait_for(
                    state="detached"
                )
            await browser.close()
            await consoles.close()
        offered = await _offered_at(url, created)
        ceiling = await _commit_ceiling(url)
    finally:
        server.terminate()
        server.wait(10)
    desktop = [(shown[c] - offered[c].timestamp()) * 1000 for c in created if c in offered]
    print(f"{args.agents} agents connected (1 desktop in Chromium, {args.agents - 1} sockets)")
    print(f"offer on the desktop's screen (decision -> rendered banner), {_cuts(desktop)}")
    print(f"ceiling: one asyncpg INSERT commit {ceiling:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
