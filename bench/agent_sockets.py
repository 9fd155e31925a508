"""N agent consoles on one local server: memory per connection and offer delivery latency.

Starts the service in a child process (uvicorn), connects 200 agent websockets to warm it
up, reads the server's RSS, connects N more (hello, then available) and reads it again.
Then puts contacts in line one by one and times each offer from the routing decision (the
``contact.offered`` event, written in the router's transaction, so the figure includes its
commit) to its arrival on the agent's socket, screen-pop included. Prints p50 / p99.

    .venv/bin/python bench/agent_sockets.py [--agents 500] [--contacts 300]
    # the issue's size: --agents 5000

The database is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/
contactd_bench_sockets; its schema is dropped and migrated first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _common import fresh_database
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.auth.security import issue_token
from app.database import libpq_url
from app.users.models import Role

SECRET = "bench-secret-key-that-is-long-enough-for-hs256"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_sockets"
ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 200


async def prepare(url: str, agents: int) -> tuple[list[int], int]:
    await fresh_database(url)
    conn = await asyncpg.connect(libpq_url(url))
    ids = [
        r["id"]
        for r in await conn.fetch(
            "INSERT INTO users (username, display_name, role, password_hash) "
            "SELECT 'agent' || g, 'Agent ' || g, 'agent', 'x' FROM generate_series(1, $1) g "
            "RETURNING id",
            agents,
        )
    ]
    boss = await conn.fetchval(
        "INSERT INTO users (username, display_name, role, password_hash) "
        "VALUES ('boss', 'Boss', 'admin', 'x') RETURNING id"
    )
    skill = await conn.fetchval(
        "INSERT INTO skills (name, kind) VALUES ('support', 'general') RETURNING id"
    )
    await conn.execute(
        "INSERT INTO agent_skills (user_id, skill_id, proficiency) SELECT u, $1, 3 "
        "FROM unnest($2::bigint[]) u",
        skill,
        ids,
    )
    await conn.close()
    return ids, boss


def start_server(url: str, port: int, deflate: bool) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "CONTACTD_DATABASE_URL": url,
        "CONTACTD_JWT_SECRET": SECRET,
        "CONTACTD_LOG_LEVEL": "WARNING",
        # every console of the bench comes from one address, 100 at a time
        "CONTACTD_WS_UNAUTHENTICATED_PER_ADDRESS": "1000",
    }
    code = (
        "import uvicorn; from app.main import create_served_app; "
        f"uvicorn.run(create_served_app(), host='127.0.0.1', port={port}, log_level='warning', "
        f"ws_ping_interval=None, ws_per_message_deflate={deflate})"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)  # noqa: S603


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def wait_up(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/healthz")).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


class Consoles:
    """The agents' side: each socket answers the server's heartbeat like a real console
    (or the server closes it as dead) and notes when each offer arrives."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrivals: dict[int, float] = {}

    async def connect_all(self, agent_ids: list[int]) -> None:
        for start in range(0, len(agent_ids), 100):
            batch = agent_ids[start : start + 100]
            await asyncio.gather(*(self.login(a) for a in batch))

    async def login(self, agent_id: int) -> None:
        ws = await connect(self.ws_url, open_timeout=30, max_queue=64)
        token = issue_token(agent_id, Role.AGENT, SECRET, 3600)
        await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": None}))
        await ws.send(json.dumps({"type": "set_state", "state": "available"}))
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self.listen(ws)))

    async def listen(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif frame["type"] == "offer":
                    await self.offered(ws, frame)

    async def offered(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        """An offer arrived on ``ws``: note when (the first time only)."""
        self.arrivals.setdefault(frame["contact_id"], time.time())

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        for ws in self.sockets:
            await ws.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument(
        "--deflate", action="store_true", help="permessage-deflate on (off by default)"
    )
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    agent_ids, boss = await prepare(url, args.agents + WARM_UP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_server(url, port, args.deflate)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_up(base)
        headers = {"Authorization": f"Bearer {issue_token(boss, Role.ADMIN, SECRET, 3600)}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            queue = {
                "name": "support",
                "display_name": "Support",
                "channels": ["chat"],
                "required_skills": [{"skill": "support", "level": 1}],
            }
            assert (await client.post("/api/v1/queues", json=queue)).status_code == 201
            ws_url = base.replace("http", "ws") + "/ws/agent"
            consoles = Consoles(ws_url)
            # The first logins pay for one-off costs (imports, compiled queries, pools).
            await consoles.connect_all(agent_ids[:WARM_UP])
            await asyncio.sleep(3)
            before = rss_kib(server.pid)
            await consoles.connect_all(agent_ids[WARM_UP:])
            await asyncio.sleep(3)
            after = rss_kib(server.pid)
            measured = len(consoles.sockets) - WARM_UP
            per = (after - before) * 1024 / measured
            print(
                f"{measured} agent sockets (after {WARM_UP} to warm up), deflate "
                f"{'on' if args.deflate else 'off'}: server RSS {before / 1024:.0f} MiB -> "
                f"{after / 1024:.0f} MiB, {per / 1024:.1f} KiB = {per / 1000:.1f} kB per "
                "connection"
            )
            created: list[int] = []
            for _ in range(args.contacts):
                made = await client.post(
                    "/api/v1/contacts", json={"channel": "chat", "queue": "support"}
                )
                created.append(made.json()["id"])
                await asyncio.sleep(0.02)
            await asyncio.sleep(2)
            await consoles.close()
        conn = await asyncpg.connect(libpq_url(url))
        offered = dict(
            await conn.fetch(
                "SELECT contact_id, min(occurred_at) FROM contact_events "
                "WHERE kind = 'contact.offered' AND contact_id = ANY($1) GROUP BY contact_id",
                created,
            )
        )
        await conn.close()
        delays = [
            (consoles.arrivals[c] - _epoch(offered[c])) * 1000
            for c in created
            if c in consoles.arrivals and c in offered
        ]
        if len(delays) < 2:
            raise SystemExit(f"only {len(delays)} of {len(created)} offers reached a socket")
        cuts = statistics.quantiles(delays, n=100)
        print(
            f"offer delivery (decision -> socket, pop included), {len(delays)} offers: "
            f"p50 {cuts[49]:.1f} ms  p99 {cuts[98]:.1f} ms  max {max(delays):.1f} ms"
        )
    finally:
        server.terminate()
        server.wait(10)


def _epoch(value: Any) -> float:
    assert isinstance(value, datetime)
    return value.timestamp()


if __name__ == "__main__":
    asyncio.run(main())
