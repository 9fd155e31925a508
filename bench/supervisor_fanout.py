"""100 supervisors on a real server while 1,000 events per second flow into contact_events.

Prints the delay from an event's commit to a supervisor receiving it (p50 / p99 / max over
every supervisor) and the messages per second each supervisor received.

    .venv/bin/python bench/supervisor_fanout.py [--supervisors 100] [--rate 1000] [--seconds 10]

The database is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/
contactd_bench_supervisor on the local server; its schema is dropped and migrated first.
Events are ``agent.state_changed`` rows of 200 agents; each stamps ``occurred_at`` with
``clock_timestamp()`` just before its batch commits, and a supervisor's delay is the time
from there to receiving the delta that carries the agent's new ``state_since``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import time

import asyncpg
import uvicorn
from _common import fresh_database
from websockets.asyncio.client import connect

from app.auth.security import issue_token
from app.config import Settings
from app.database import libpq_url
from app.main import create_app
from app.users.models import Role

SECRET = "bench-secret-key-that-is-long-enough-for-hs256"
AGENTS = 200
STATES = ("available", "on_contact", "wrap_up", "not_ready")


async def prepare(url: str) -> tuple[list[int], int]:
    await fresh_database(url)
    conn = await asyncpg.connect(libpq_url(url))
    insert = (
        "INSERT INTO users (username, display_name, role, password_hash) "
        "VALUES ($1, $1, $2, 'x') RETURNING id"
    )
    agents = [await conn.fetchval(insert, f"agent{i}", "agent") for i in range(AGENTS)]
    supervisor = await conn.fetchval(insert, "boss", "supervisor")
    await conn.close()
    return agents, supervisor


async def produce(url: str, agents: list[int], rate: int, seconds: float) -> int:
    conn = await asyncpg.connect(libpq_url(url))
    tick, sent, n = 0.02, 0, 0
    per_tick = max(1, round(rate * tick))
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        rows = [
            (agents[(n + i) % len(agents)], json.dumps({"state": STATES[(n + i) % 4]}))
            for i in range(per_tick)
        ]
        n += per_tick
        await conn.executemany(
            "INSERT INTO contact_events (kind, agent_id, occurred_at, payload) "
            "VALUES ('agent.state_changed', $1, clock_timestamp(), $2::jsonb)",
            rows,
        )
        sent += per_tick
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    await conn.close()
    return sent


async def supervise(
    url: str, token: str, stop: asyncio.Event, delays: list[float], counts: list[int]
) -> None:
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.recv()  # the snapshot
        received = 0
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            received += 1
            message = json.loads(raw)
            since = [a.get("state_since") or 0 for a in message.get("agents", {}).values()]
            if since:
                delays.append(now - max(since))
        counts.append(received)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--supervisors", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    url = os.environ.get(
        "CONTACTD_BENCH_DATABASE_URL",
        "postgresql://postgres@127.0.0.1:5432/contactd_bench_supervisor",
    )
    agents, supervisor = await prepare(url)
    settings = Settings.model_validate({"jwt_secret": SECRET, "log_level": "WARNING"})
    app = create_app(settings, database_url=url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=1 << 24)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    token = issue_token(supervisor, Role.SUPERVISOR, SECRET, 3600)
    stop = asyncio.Event()
    delays: list[float] = []
    counts: list[int] = []
    ws_url = f"ws://127.0.0.1:{port}/ws/supervisor"
    watchers = [
        asyncio.create_task(supervise(ws_url, token, stop, delays, counts))
        for _ in range(args.supervisors)
    ]
    await asyncio.sleep(1.0)  # everyone connected and snapshotted
    sent = await produce(url, agents, args.rate, args.seconds)
    await asyncio.sleep(1.5)  # the last deltas
    stop.set()
    await asyncio.gather(*watchers)
    server.should_exit = True
    await serving
    delays.sort()
    print(f"events sent: {sent} in {args.seconds:.0f} s ({sent / args.seconds:.0f}/s)")
    print(
        f"supervisors: {len(counts)}, messages each: {statistics.mean(counts):.1f} "
        f"({statistics.mean(counts) / (args.seconds + 1.5):.2f}/s, max "
        f"{max(counts) / (args.seconds + 1.5):.2f}/s)"
    )
    if delays:
        p = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]  # noqa: E731
        print(
            f"delay commit -> supervisor: p50 {p(0.5) * 1000:.0f} ms, "
            f"p99 {p(0.99) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
