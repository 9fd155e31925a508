"""A rolling restart of real ``contactd serve`` processes on one database and the Redis bus.

SIGTERM to the routing instance drains it: it stops taking connections, closes its sockets
with 1012 (service restart) so clients move to another instance, hands the routing lease
over, and exits within the configured grace period. Consoles reconnect to the survivor and
resume; contacts created throughout are offered exactly once at a time and none is lost.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.exceptions import ConnectionClosed

from app.database import Database, create_engine, libpq_url
from app.users.schemas import UserCreate
from app.users.service import create_user
from tests.agent_console.conftest import Console, open_console
from tests.bus.conftest import REDIS_HOST, REDIS_PORT
from tests.conftest import TEST_SECRET
from tests.helpers import eventually, free_port, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
GRACE_SECONDS = 5
PASSWORD = "password-123"


@dataclass
class Served:
    """One ``contactd serve`` process of its own."""

    database_url: str
    prefix: str
    name: str
    bus_url: str = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def console_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/agent"

    @property
    def log_path(self) -> Path:
        return ROOT / ".contactd" / f"rolling-restart-{self.name}.log"

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACTD_")}
        env.update(
            CONTACTD_DATABASE_URL=self.database_url,
            CONTACTD_BUS_URL=self.bus_url,
            CONTACTD_BUS_PREFIX=self.prefix,
            CONTACTD_JWT_SECRET=TEST_SECRET,
            CONTACTD_SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
            CONTACTD_LOG_LEVEL="WARNING",
            CONTACTD_LOG_JSON="true",
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "contactd"),
                "serve", "--port", str(self.port), "--workers", str(self.workers),
                cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        await wait_until_ready(self.url, self.process, self.log_path, seconds=60)

    async def router_role(self) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            role: str = (await client.get("/readyz")).json()["router"]
        return role

    def terminate(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


@asynccontextmanager
async def served(
    database_url: str, prefix: str, name: str, **options: Any
) -> AsyncIterator[Served]:
    """A ``Served`` started (``options``: its other fields) and killed at the end."""
    instance = Served(database_url, prefix, name, **options)
    try:
        await instance.start()
        yield instance
    finally:
        await instance.stop()


async def _set_up_center(database_url: str, url: str) -> tuple[dict[str, str], list[str]]:
    """A chat queue, its widget and three agents; the agents' tokens."""
    db = Database(create_engine(database_url, pool_size=1, max_overflow=0))
    try:
        async with db.unit_of_work() as session:
            for username, role in (("root.admin", "admin"), *((n, "agent") for n in AGENTS)):
                user = UserCreate(
                    username=username, display_name=username, role=role, password=PASSWORD
                )
                await create_user(session, user)
    finally:
        await db.engine.dispose()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        tokens = {}
        for username in ("root.admin", *AGENTS):
            answer = await client.post(
                "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            tokens[username] = answer.json()["access_token"]
        admin = {"Authorization": f"Bearer {tokens['root.admin']}"}
        assert (
            await client.post(
                "/api/v1/skills", json={"name": "support", "kind": "general"}, headers=admin
            )
        ).status_code == 201
        queue = {
            "name": "support",
            "display_name": "Support",
            "channels": ["chat"],
            "required_skills": [{"skill": "support", "level": 1}],
        }
        assert (await client.post("/api/v1/queues", json=queue, headers=admin)).status_code == 201
        widget = {"channel": "chat", "address": "default", "queue": "support"}
        answer = await client.post("/api/v1/entry-points", json=widget, headers=admin)
        assert answer.status_code == 201, answer.text
        users = (await client.get("/api/v1/users?role=agent&limit=50", headers=admin)).json()
        for user in users["items"]:
            skills = await client.put(
                f"/api/v1/agents/{user['id']}/skills",
                json=[{"skill": "support", "level": 3}],
                headers=admin,
            )
            assert skills.status_code == 200, skills.text
    return admin, [tokens[name] for name in AGENTS]


AGENTS = ("ann", "bob", "cai")


async def _start_chats(url: str, count: int, prefix: str) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        ids = []
        for n in range(count):
            answer = await client.post("/api/v1/chat/sessions", json={"name": f"{prefix}{n}"})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["contact_id"])
    return ids


async def _offered_on(consoles: list[Console], count: int) -> dict[int, Console]:
    """The contacts of the first ``count`` offers that reach any of these consoles, each
    with the console it reached."""
    found: dict[int, Console] = {}
    queue: asyncio.Queue[tuple[int, Console]] = asyncio.Queue()

    async def watch(console: Console) -> None:
        while True:
            offer = await console.next_of("offer", seconds=30)
            await queue.put((offer["contact_id"], console))

    watchers = [asyncio.create_task(watch(console)) for console in consoles]
    try:
        while len(found) < count:
            contact_id, console = await asyncio.wait_for(queue.get(), 30)
            found[contact_id] = console
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return found


async def _closed_code(console: Console, seconds: float) -> int | None:
    try:
        while True:
            await asyncio.wait_for(console.ws.recv(), seconds)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def _offers(database_url: str) -> dict[int, list[tuple[str, int | None]]]:
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT contact_id, kind, agent_id"
            " FROM contact_events WHERE kind IN ('contact.offered', 'contact.offer_withdrawn',"
            " 'contact.assigned') ORDER BY id"
        )
    finally:
        await conn.close()
    out: dict[int, list[tuple[str, int | None]]] = {}
    for row in rows:
        out.setdefault(row["contact_id"], []).append((row["kind"], row["agent_id"]))
    return out


def _never_two_offers_at_once(history: list[tuple[str, int | None]]) -> bool:
    out = 0
    for kind, _ in history:
        out += {"contact.offered": 1, "contact.offer_withdrawn": -1, "contact.assigned": -1}[kind]
        if out > 1:
            return False
    return True


async def test_sigterm_drains_the_leader_and_consoles_resume_on_the_survivor(
    clean_db: str,
) -> None:
    prefix = f"contactd-test-{uuid.uuid4().hex}:"
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(served(clean_db, prefix, "a"))
        assert await a.router_role() == "leader"
        b = await stack.enter_async_context(served(clean_db, prefix, "b"))
        assert await b.router_role() == "standby"
        _, tokens = await _set_up_center(clean_db, a.url)

        consoles = []
        for token in tokens:  # every agent on the instance about to restart
            console = await stack.enter_async_context(open_console(a.console_url))
            await console.hello(token)
            answer = await console.ask({"type": "set_state", "state": "available"})
            assert answer["type"] == "result", answer
            consoles.append(console)
        before = await _start_chats(b.url, 3, "前")
        assert set(await _offered_on(consoles, len(before))) == set(before)

        started = time.monotonic()
        a.terminate()
        codes = await asyncio.gather(*(_closed_code(c, GRACE_SECONDS) for c in consoles))
        assert codes == [1012, 1012, 1012]  # "service restart": reconnect elsewhere
        during = await _start_chats(b.url, 3, "中")
        assert a.process is not None
        # uvicorn re-raises the signal once it has shut down: the exit status says SIGTERM
        assert await asyncio.wait_for(a.process.wait(), GRACE_SECONDS + 5) == -signal.SIGTERM
        await eventually(lambda: _is(b, "leader"), seconds=10)
        takeover = time.monotonic() - started
        print(f"SIGTERM -> survivor leads: {takeover:.2f} s")

        resumed = []
        for console, token in zip(consoles, tokens, strict=True):
            again = await stack.enter_async_context(open_console(b.console_url))
            await again.hello(token, last_seq=console.last_seq)
            resumed.append(again)
        after = await _start_chats(b.url, 3, "后")
        everyone = {*before, *during, *after}
        # offers out to consoles that were on the old leader are withdrawn at takeover and
        # made again: every contact reaches a console on the survivor
        reached = await _offered_on(resumed, len(everyone))
        assert set(reached) == everyone
        answer = await reached[before[0]].ask({"type": "accept", "contact_id": before[0]})
        assert answer["type"] == "result", answer
        offers = await _offers(clean_db)
        assert offers[before[0]][-1][0] == "contact.assigned"
        for contact_id in (*before, *during, *after):
            assert _never_two_offers_at_once(offers[contact_id]), offers[contact_id]


async def _is(instance: Served, role: str) -> bool:
    return await instance.router_role() == role
