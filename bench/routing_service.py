"""Contacts enqueued -> offer persisted, through the real service on a real PostgreSQL.

Prints, from one run on one database:
  * the ceiling: one-row INSERT transactions per second through raw asyncpg;
  * the sustained rate at which contacts are enqueued (contact row, two events and an inbox
    row in one statement, as POST /api/v1/contacts writes them) and offered by the router
    (offer, event and inbox result in the router's statement), and its ratio to the ceiling;
  * p50/p99 latency from the start of the enqueue to the moment the committed offer reaches
    the agent's event-bus topic, at half the sustained rate;
  * the work per contact: CPU time (the whole machine, the service's process, PostgreSQL),
    and, which the machine's speed does not move, transactions committed and router batches.

    .venv/bin/python bench/routing_service.py [--seconds 10] [--concurrency 16] [--processes 1]

The service runs on uvloop, as under uvicorn. ``--processes N`` (N >= 2) leaves this
instance to route only and enqueues from N-1 other instances with the router off
(``CONTACTD_ROUTER_ENABLED=false``), as API instances beside a routing instance would.

The database is CONTACTD_BENCH_DATABASE_URL, else a scratch database on the local server
(postgresql://postgres@127.0.0.1:5432/contactd_bench), else the embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import asyncpg
import uvloop
from _common import fresh_database
from sqlalchemy.engine import make_url

from app.agents.models import AgentSkill
from app.auth.security import hash_password
from app.config import Settings
from app.database import libpq_url
from app.embedded_pg import start_embedded_postgres
from app.main import create_app
from app.queues.models import Queue
from app.routing import service
from app.routing.config_schemas import RoutingDocument
from app.routing.config_service import publish
from app.skills.models import Skill
from app.users.models import User

LOCAL = "postgresql://postgres@127.0.0.1:5432/contactd_bench"


async def bench_database() -> str:
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL")
    if url is None:
        try:
            admin = await asyncpg.connect(
                libpq_url(make_url(LOCAL).set(database="postgres").render_as_string(False))
            )
        except (OSError, asyncpg.PostgresError):
            return start_embedded_postgres(Path(".contactd/bench-pg"))
        await admin.execute("DROP DATABASE IF EXISTS contactd_bench WITH (FORCE)")
        await admin.execute("CREATE DATABASE contactd_bench")
        await admin.close()
        url = LOCAL
    await fresh_database(url)
    return url


async def ceiling(url: str, seconds: float, concurrency: int) -> float:
    pool = await asyncpg.create_pool(libpq_url(url), min_size=concurrency, max_size=concurrency)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, note text)"
    )
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        async with pool.acquire() as conn:
            while time.perf_counter() < stop:
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_ceiling (note) VALUES ('x')")
                done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await pool.close()
    return done / seconds


async def seed(app, agents: int) -> list[int]:
    async with app.state.db.unit_of_work() as session:
        skill = Skill(name="support")
        session.add(skill)
        session.add(
            Queue(name="support", display_name="Support", channels=["email", "chat", "voice"])
        )
        password = hash_password("bench-password")
        users = [
            User(
                username=f"agent{i}",
                display_name=f"Agent {i}",
                role="agent",
                password_hash=password,
                capacity={"email": 1000, "chat": 0, "voice": 0},
            )
            for i in range(agents)
        ]
        session.add_all(users)
        await session.flush()
        session.add_all(AgentSkill(user_id=u.id, skill_id=skill.id, proficiency=3) for u in users)
        document = RoutingDocument.model_validate(
            {"queues": {"support": {"skills": [{"skill": "support", "level": 1}]}}}
        )
        await publish(session, document, author_id=None)
    for user in users:
        async with app.state.db.unit_of_work() as session:
            await service.set_agent_state(session, user, "available", None, actor_id=user.id)
    return [u.id for u in users]


class OfferClock:
    """Records when each contact's committed offer reaches its agent's bus topic."""

    def __init__(self) -> None:
        self.offered: dict[int, float] = {}

    async def listen(self, bus, agent_id: int, ready: asyncio.Event) -> None:
        async with bus.subscribe(f"agent:{agent_id}") as queue:
            ready.set()
            while True:
                message = await queue.get()
                if message.get("type") == "offer":
                    self.offered[message["contact_id"]] = time.perf_counter()


async def enqueue_one(app, started: dict[int, float]) -> None:
    t0 = time.perf_counter()
    async with app.state.db.one_statement() as session:
        result = await service.enqueue(
            session, service.NewContact(channel="email", queue="support")
        )
    started[result.contact_id] = t0


async def run_closed_loop(
    app, seconds: float, concurrency: int, started: dict[int, float], begin: float
) -> None:
    await asyncio.sleep(max(0.0, begin - time.perf_counter()))
    stop = begin + seconds

    async def worker() -> None:
        while time.perf_counter() < stop:
            await enqueue_one(app, started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_open_loop(
    app, rate: float, seconds: float, started: dict[int, float], begin: float
) -> None:
    tasks = []
    for n in range(int(rate * seconds)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(enqueue_one(app, started)))
    await asyncio.gather(*tasks)


async def warm_up(app, connections: int) -> None:
    """Before the clock starts, get a fresh instance to where a running one is: pool open,
    statements prepared on every connection, code paths run once (not counted)."""

    async def enqueue_a_few() -> None:
        for _ in range(10):
            await enqueue_one(app, {})

    await asyncio.gather(*(enqueue_a_few() for _ in range(connections)))


def enqueue_process(
    url: str, mode: str, seconds: float, concurrency: int, rate: float, begin: float
) -> dict[int, float]:
    """A second service instance (router off, as with ``--workers``) that only enqueues.

    ``time.perf_counter`` is CLOCK_MONOTONIC, the same clock in every process here."""

    async def run() -> dict[int, float]:
        settings = Settings(log_level="ERROR", db_pool_size=concurrency + 4, router_enabled=False)
        app = create_app(settings, database_url=url, tune_gc=True)
        started: dict[int, float] = {}
        async with app.router.lifespan_context(app):
            await warm_up(app, concurrency)
            if mode == "closed":
                await run_closed_loop(app, seconds, concurrency, started, begin)
            else:
                await run_open_loop(app, rate, seconds, started, begin)
        return started

    return uvloop.run(run())


async def enqueue_everywhere(
    app,
    pool: ProcessPoolExecutor,
    processes: int,
    mode: str,
    seconds: float,
    concurrency: int,
    rate: float,
    begin: float,
) -> dict[int, float]:
    """Enqueue from the router's process (``processes == 1``), or only from ``processes - 1``
    other instances with the router off, so that the router's process only routes.

    Enqueueing starts at ``begin`` (``time.perf_counter``) in every process."""
    started: dict[int, float] = {}
    if processes == 1:
        if mode == "closed":
            await run_closed_loop(app, seconds, concurrency, started, begin)
        else:
            await run_open_loop(app, rate, seconds, started, begin)
        return started
    others = processes - 1
    loop = asyncio.get_running_loop()
    runs = [
        loop.run_in_executor(
            pool,
            enqueue_process,
            app.state.database_url,
            mode,
            seconds,
            max(1, concurrency // others),
            rate / others,
            begin,
        )
        for _ in range(others)
    ]
    for result in await asyncio.gather(*runs):
        started.update(result)
    return started


async def wait_offered(clock: OfferClock, started: dict[int, float], seconds: float = 30) -> None:
    deadline = time.perf_counter() + seconds
    while any(c not in clock.offered for c in started) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


def machine_cpu_seconds() -> float:
    """CPU time of the whole machine, all cores, every process and the kernel (Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on this machine (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            if not fields[0].endswith("(postgres"):
                continue
            values = fields[1].split()
            total += int(values[11]) + int(values[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


async def commits(url: str) -> int:
    """Transactions committed in the bench database so far (PostgreSQL's own counter)."""
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        count: int = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        return count
    finally:
        await conn.close()


def router_batches(app) -> float:
    value = app.state.telemetry.registry.get_sample_value("contactd_routing_batch_seconds_count")
    return value or 0.0


def latencies_ms(clock: OfferClock, started: dict[int, float]) -> list[float]:
    return sorted((clock.offered[c] - t0) * 1000 for c, t0 in started.items() if c in clock.offered)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="1: enqueue in the router's process; N: in N-1 other instances",
    )
    args = parser.parse_args()

    url = await bench_database()
    raw = await ceiling(url, args.seconds / 2, args.concurrency)
    app = create_app(
        Settings(log_level="ERROR", db_pool_size=args.concurrency + 4),
        database_url=url,
        tune_gc=True,
    )
    async with app.router.lifespan_context(app):
        while app.state.distributor.engine is None:
            await asyncio.sleep(0.05)
        agent_ids = await seed(app, args.agents)
        clock = OfferClock()
        readies = [asyncio.Event() for _ in agent_ids]
        listeners = [
            asyncio.create_task(clock.listen(app.state.bus, a, r))
            for a, r in zip(agent_ids, readies, strict=True)
        ]
        await asyncio.gather(*(r.wait() for r in readies))

        pool = ProcessPoolExecutor(max(1, args.processes - 1), mp_context=get_context("spawn"))
        start_up = 0.0 if args.processes == 1 else 8.0  # other instances start and warm up
        begin = time.perf_counter() + start_up + 0.3
        closed_loop = asyncio.ensure_future(
            enqueue_everywhere(
                app, pool, args.processes, "closed", args.seconds, args.concurrency, 0.0, begin
            )
        )
        await asyncio.sleep(max(0.0, begin - 0.2 - time.perf_counter()))  # counted from here
        cpu_before = (time.process_time(), postgres_cpu_seconds(), machine_cpu_seconds())
        work_before = (await commits(url), router_batches(app))
        sustained = await closed_loop
        rate = len(sustained) / args.seconds
        await wait_offered(clock, sustained)
        ours = (time.process_time() - cpu_before[0]) / max(1, len(sustained)) * 1e6
        theirs = (postgres_cpu_seconds() - cpu_before[1]) / max(1, len(sustained)) * 1e6
        machine = (machine_cpu_seconds() - cpu_before[2]) / max(1, len(sustained)) * 1e6
        await asyncio.sleep(0.7)  # PostgreSQL's statistics are reported every half second
        per_contact = max(1, len(sustained))
        transactions = (await commits(url) - work_before[0]) / per_contact
        batches = (router_batches(app) - work_before[1]) / per_contact
        offered = sum(1 for c in sustained if c in clock.offered)
        closed_lat = latencies_ms(clock, sustained)

        paced = await enqueue_everywhere(
            app,
            pool,
            args.processes,
            "open",
            args.seconds,
            args.concurrency,
            rate / 2,
            time.perf_counter() + start_up,
        )
        pool.shutdown()
        await wait_offered(clock, paced)
        half_lat = latencies_ms(clock, paced)
        for task in listeners:
            task.cancel()

    half_mean = statistics.fmean(half_lat) if half_lat else float("nan")
    print(f"database: {make_url(url).render_as_string(hide_password=True)}")
    others = f"{args.processes - 1} other instance(s)"
    where = "the router's process" if args.processes == 1 else others
    print(f"machine: {os.cpu_count()} cores; contacts enqueued in {where}")
    print(
        f"ceiling  raw asyncpg 1-row INSERT transactions/s ({args.concurrency} conns): {raw:,.0f}"
    )
    print(
        f"service  contacts enqueued/s, closed loop ({args.concurrency} concurrent): {rate:,.0f}"
        f"  ({rate / raw:.0%} of ceiling); offered {offered}/{len(sustained)}"
    )
    print(
        f"         CPU per contact: {machine:,.0f} µs of the whole machine; of it {ours:,.0f} µs"
        f" in the router's process, {theirs:,.0f} µs in PostgreSQL's processes"
        " (those alive from start to end of the run)"
    )
    print(
        f"         work per contact: {transactions:.2f} transactions committed,"
        f" {batches:.3f} router batches ({1 / batches if batches else 0:.1f} contacts a batch)"
    )
    print(
        f"         enqueue->offer at full rate: p50 {pct(closed_lat, 0.5):.1f} ms,"
        f" p99 {pct(closed_lat, 0.99):.1f} ms"
    )
    print(
        f"service  at half rate ({rate / 2:,.0f}/s open loop):"
        f" offered {len(half_lat)}/{len(paced)}, p50 {pct(half_lat, 0.5):.1f} ms,"
        f" p99 {pct(half_lat, 0.99):.1f} ms, mean {half_mean:.1f} ms"
    )


if __name__ == "__main__":
    uvloop.run(main())  # the loop uvicorn runs the service on
