"""Load from outside: signed Twilio calls at a Poisson rate against 1, 2 or 3 instances.

For each instance count, on a fresh database: that many ``contactd`` processes (uvicorn)
on one database and one Redis bus, round robin as a load balancer would send; N agent
consoles (websockets, spread over the instances) that accept each offer, talk for an
exponential handle time and wrap up; and a caller process of its own (this one) posting
signed ``/webhooks/twilio/voice`` requests at a Poisson rate, round robin over the
instances. Printed per run: calls accepted (200), contacts offered and offered per second,
webhook → offer-on-socket p50 / p99 (the webhook's send to the offer frame's arrival, on
this machine's clock), machine CPU per offered contact, and the same-run ceiling: raw
asyncpg commits per second on the same database. Nothing here asserts a figure.

    .venv/bin/python bench/load.py [--instances 1 2 3] [--rate 20] [--seconds 20]
        [--agents 60] [--handle 2.0]

The database is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/
contactd_bench_load; the bus CONTACTD_BENCH_BUS_URL, else redis://127.0.0.1:6379/0 (a
prefix of its own per run). The instances' Twilio REST API is a closed local port, so the
bridge after an accept fails at once and is recorded; the consoles do not need it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from agent_sockets import SECRET, Consoles, prepare, wait_up
from routing_service import ceiling, machine_cpu_seconds
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from app.auth.security import issue_token
from app.channels.voice.twilio_signature import compute_signature
from app.users.models import Role

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_load"
DEFAULT_BUS = "redis://127.0.0.1:6379/0"
PUBLIC = "https://lb.contactd.test"  # what the load balancer answers as: Twilio signs it
TOKEN = "bench-twilio-auth-token"
ACCOUNT = "AC" + "0" * 32
NUMBER = "+864008001234"
CONTACT = re.compile(r"contact=(\d+)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_instance(url: str, port: int, bus: str, prefix: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "CONTACTD_DATABASE_URL": url,
        "CONTACTD_JWT_SECRET": SECRET,
        "CONTACTD_LOG_LEVEL": "ERROR",
        "CONTACTD_BUS_URL": bus,
        "CONTACTD_BUS_PREFIX": prefix,
        "CONTACTD_TWILIO_AUTH_TOKEN": TOKEN,
        "CONTACTD_TWILIO_ACCOUNT_SID": ACCOUNT,
        "CONTACTD_PUBLIC_BASE_URL": PUBLIC,
        "CONTACTD_TWILIO_API_BASE_URL": f"http://127.0.0.1:{_free_port()}",
        "CONTACTD_WS_UNAUTHENTICATED_PER_ADDRESS": "1000",
        "CONTACTD_CARE_ENABLED": "false",
    }
    code = (
        "import uvicorn; from app.main import create_served_app; "
        f"uvicorn.run(create_served_app(), host='127.0.0.1', port={port}, log_level='error')"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)  # noqa: S603


class Agents(Consoles):
    """The consoles on one instance (``Consoles`` of bench/agent_sockets.py) that accept
    every offer, talk for an exponential handle time and wrap up; ``arrivals`` (shared by
    the instances' consoles) is when each contact's first offer arrived."""

    def __init__(
        self, ws_url: str, handle_seconds: float, rng: random.Random, arrivals: dict[int, float]
    ) -> None:
        super().__init__(ws_url)
        self.handle_seconds, self.rng, self.arrivals = handle_seconds, rng, arrivals

    async def offered(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        contact_id = frame["contact_id"]
        if contact_id in self.arrivals:
            return
        self.arrivals[contact_id] = time.time()
        await ws.send(json.dumps({"type": "accept", "contact_id": contact_id}))
        self.readers.append(asyncio.create_task(self._talk(ws, contact_id)))

    async def _talk(self, ws: ClientConnection, contact_id: int) -> None:
        await asyncio.sleep(self.rng.expovariate(1 / self.handle_seconds))
        with contextlib.suppress(ConnectionClosed):
            frame = {"type": "wrap_up", "contact_id": contact_id, "disposition": "resolved"}
            await ws.send(json.dumps(frame))


async def _setup_center(base: str, boss: int) -> None:
    admin = {"Authorization": f"Bearer {issue_token(boss, Role.ADMIN, SECRET, 3600)}"}
    async with httpx.AsyncClient(base_url=base, headers=admin, timeout=30) as client:
        queue = await client.post(
            "/api/v1/queues",
            json={"name": "support", "display_name": "Support", "channels": ["voice"],
                  "required_skills": [{"skill": "support", "level": 1}]},
        )  # fmt: skip
        assert queue.status_code == 201, queue.text
        point = await client.post(
            "/api/v1/entry-points", json={"channel": "voice", "address": NUMBER, "queue": "support"}
        )
        assert point.status_code == 201, point.text


async def _call(
    client: httpx.AsyncClient, base: str, sent: dict[int, float], rng: random.Random
) -> bool:
    params = {
        "CallSid": f"CA{uuid.uuid4().hex}",
        "AccountSid": ACCOUNT,
        "From": f"+86138{rng.randrange(10**8):08d}",
        "To": NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    signature = compute_signature(TOKEN, f"{PUBLIC}/webhooks/twilio/voice", params.items())
    started = time.time()
    try:
        answer = await client.post(
            f"{base}/webhooks/twilio/voice", data=params, headers={"X-Twilio-Signature": signature}
        )
    except httpx.HTTPError:
        return False
    found = CONTACT.search(answer.text)
    if answer.status_code != 200 or found is None:
        return False
    sent[int(found.group(1))] = started
    return True


async def _calls(bases: list[str], rate: float, seconds: float, sent: dict[int, float]) -> int:
    """Poisson arrivals for ``seconds``, round robin over ``bases``; how many were taken."""
    rng = random.Random(20261208)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        pending: list[asyncio.Task[bool]] = []
        stop = time.monotonic() + seconds
        n = 0
        while time.monotonic() < stop:
            pending.append(asyncio.create_task(_call(client, bases[n % len(bases)], sent, rng)))
            n += 1
            await asyncio.sleep(rng.expovariate(rate))
        return sum(await asyncio.gather(*pending))


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def run(instances: int, args: argparse.Namespace) -> None:
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    bus = os.environ.get("CONTACTD_BENCH_BUS_URL", DEFAULT_BUS)
    agent_ids, boss = await prepare(url, args.agents)
    ports = [_free_port() for _ in range(instances)]
    prefix = f"bench-load-{uuid.uuid4().hex[:8]}:"
    processes = [_start_instance(url, port, bus, prefix) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    offers: dict[int, float] = {}
    rng = random.Random(7)
    consoles = [
        Agents(base.replace("http://", "ws://") + "/ws/agent", args.handle, rng, offers)
        for base in bases
    ]
    try:
        for base in bases:
            await wait_up(base)
        await _setup_center(bases[0], boss)
        for n, agent_id in enumerate(agent_ids):
            await consoles[n % instances].login(agent_id)
        await asyncio.sleep(2)  # every agent available on the router
        sent: dict[int, float] = {}
        cpu_before = machine_cpu_seconds()
        taken = await _calls(bases, args.rate, args.seconds, sent)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not set(sent) <= set(offers):
            await asyncio.sleep(0.2)
        cpu = machine_cpu_seconds() - cpu_before
        waits = sorted((offers[c] - t) * 1000 for c, t in sent.items() if c in offers)
        commits = await ceiling(url, seconds=3, concurrency=8)
    finally:
        for console in consoles:
            await console.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    offered = len(waits)
    print(
        f"{instances} instance(s): {taken} calls taken of {args.rate:g}/s × {args.seconds:g} s, "
        f"{offered} offered ({offered / args.seconds:.1f}/s); webhook → offer p50 "
        f"{_pct(waits, 0.5):.1f} ms, p99 {_pct(waits, 0.99):.1f} ms; machine CPU "
        f"{cpu * 1000 / max(offered, 1):.1f} ms per contact; ceiling {commits:,.0f} commits/s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--handle", type=float, default=2.0, help="mean handle seconds")
    args = parser.parse_args()
    for instances in args.instances:
        await run(instances, args)


if __name__ == "__main__":
    asyncio.run(main())
