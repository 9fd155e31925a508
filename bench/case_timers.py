"""SLA timers: how fast the runner fires due warnings and breaches, and how fast the pure
clock measures a case.

Opens N cases through the cases service (default policies and calendar: Mon-Fri
09:00-18:00 Shanghai, CN holidays), then lets every timer come due (``now`` a month
later) and fires them with ``fire_due`` batch after batch, as the runner does. Beside it,
the same run's ceiling: the same rows claimed and marked with raw asyncpg in the same
batches (``FOR UPDATE SKIP LOCKED`` then ``UPDATE``), without the clock, the events and
the escalations. Last, the pure clock alone (``sla_status`` of a case with six events).

    .venv/bin/python bench/case_timers.py [--cases 2000]

The database is CONTACTD_BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/contactd_bench_cases; its schema is dropped and
migrated first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from _common import fresh_database

from app.cases import timers
from app.cases.core.events import CaseEventView, clock_facts
from app.cases.core.sla import sla_status
from app.cases.schemas import CaseCreate
from app.cases.service import create_case
from app.cases.settings_schemas import CasesSettings
from app.customers.models import Customer
from app.database import Database, create_engine, libpq_url
from app.events.bus import bus_from_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_cases"
TYPES = ("complaint", "request", "inquiry", "purchase")

_CLAIM = """
SELECT case_id, target, cycle, level FROM case_sla_timers
WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT 100 FOR UPDATE SKIP LOCKED
"""
_MARK = """
UPDATE case_sla_timers SET fired_at = $1
WHERE (case_id, target, cycle, level) IN (SELECT * FROM unnest($2::bigint[], $3::text[],
                                                         $4::int[], $5::text[]))
"""


async def open_cases(db: Database, count: int, start: datetime) -> float:
    """Cases opened per second through the service (100 per unit of work)."""
    async with db.unit_of_work() as session:
        customer = Customer(name="王小明")
        session.add(customer)
        await session.flush()
        customer_id = customer.id
    began = time.perf_counter()
    for first in range(0, count, 100):
        async with db.unit_of_work() as session:
            for n in range(first, min(first + 100, count)):
                data = CaseCreate(customer_id=customer_id, type=TYPES[n % len(TYPES)])
                await create_case(session, data, None, now=start + timedelta(seconds=n))
    return count / (time.perf_counter() - began)


async def ceiling(url: str, later: datetime) -> tuple[int, float]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        began, marked = time.perf_counter(), 0
        while True:
            async with conn.transaction():
                rows = await conn.fetch(_CLAIM, later)
                if not rows:
                    break
                columns = [list(c) for c in zip(*rows, strict=True)]
                await conn.execute(_MARK, later, *columns)
                marked += len(rows)
        seconds = time.perf_counter() - began
        await conn.execute("UPDATE case_sla_timers SET fired_at = NULL")
    finally:
        await conn.close()
    return marked, marked / seconds


async def fire_all(db: Database, later: datetime) -> tuple[int, float]:
    bus = bus_from_url(None, origin="bench", prefix="bench:")
    await bus.start()
    try:
        began, fired = time.perf_counter(), 0
        while batch := await timers.fire_due(db, bus, "bench", later):
            fired += len(batch)
        return fired, fired / (time.perf_counter() - began)
    finally:
        await bus.close()


def clock_rate(seconds: float = 2.0) -> float:
    """``sla_status`` calls per second on the CN office calendar."""
    settings = CasesSettings()
    calendar = settings.calendar_for(None)
    targets = settings.core_policies()[1].targets
    start = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # into the National Day holidays
    events = [
        CaseEventView("created", start, {}),
        CaseEventView("note_added", start + timedelta(hours=3), {"kind": "reply"}),
        CaseEventView("contact_linked", start + timedelta(days=1), {"direction": "inbound"}),
        CaseEventView("state_changed", start + timedelta(days=2),
                      {"from": "open", "to": "pending_customer"}),
        CaseEventView("state_changed", start + timedelta(days=9),
                      {"from": "pending_customer", "to": "open"}),
        CaseEventView("note_added", start + timedelta(days=10), {"kind": "internal"}),
    ]
    facts = clock_facts(events)
    now = start + timedelta(days=12)
    calls, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        sla_status(targets, calendar, facts, now)
        calls += 1
    return calls / (time.perf_counter() - began)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    await fresh_database(url)
    db = Database(create_engine(url))
    try:
        start = datetime.now(UTC)
        opened = await open_cases(db, args.cases, start)
        print(f"cases opened through the service: {opened:,.0f}/s ({args.cases:,} cases)")
        later = start + timedelta(days=60)
        marked, raw = await ceiling(url, later)
        fired, rate = await fire_all(db, later)
        print(f"timers fired by fire_due: {rate:,.0f}/s ({fired:,} timers)")
        print(f"ceiling (raw claim + mark, same batches): {raw:,.0f}/s ({marked:,} timers)")
    finally:
        await db.dispose()
    print(f"pure clock (sla_status, 6 events, CN calendar): {clock_rate():,.0f} cases/s")


if __name__ == "__main__":
    asyncio.run(main())
