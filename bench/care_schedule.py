"""Finding a day's care touches on a big database: every default rule switched on, over N
customers with birthdays, value rows (grades, VIP spans, last sales) and M orders.

Fills the tables with COPY (rows drawn from a seeded generator: 70 % of customers with a
birthday, 5 % VIP, orders over three years, 88 % of them sales), then times
``app.care.service.plan`` (the set-based candidate queries, the facts, the pure core) for
an ordinary day and for the first day of a public holiday (the holiday rule greets every
VIP), then ``create_day`` (plan and insert) for the ordinary day. Beside them, the same
run's ceiling: a raw ``SELECT count(*)`` over each table the plan reads.

    .venv/bin/python bench/care_schedule.py [--customers 1000000] [--orders 3000000] [--keep]

Target: ≤ 30 s to find the day's touches for 1,000,000 customers. The database is
CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/contactd_bench_care;
its schema is dropped and migrated first (unless --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
from _common import fresh_database
from sqlalchemy import text, update

from app.care import service
from app.care.defaults import ensure_default_rules
from app.care.models import CareRule
from app.config import Settings
from app.database import Database, create_engine, libpq_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_care"
HOLIDAY = date(2026, 10, 1)
TABLES = ("customers", "customer_values", "orders")


def _customers(n: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for cid in range(1, n + 1):
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
        yield (
            cid,
            f"客户 {cid}",
            "zh-CN" if cid % 5 else "en",
            born if rng.random() < 0.7 else None,
        )


def _values(n: int, rng: random.Random, now: datetime) -> Iterator[tuple[object, ...]]:
    for cid in range(1, n + 1):
        last = now - timedelta(seconds=rng.randrange(3 * 365 * 86_400))
        vip = rng.random() < 0.05
        since = now - timedelta(days=rng.randrange(365)) if vip else None
        until = since + timedelta(days=365) if since is not None else None
        grade = rng.choice("PGSB")
        segments = ["win-back"] if grade in "PG" and (now - last).days >= 120 else []
        yield (cid, "graded", grade, last, since, until, "normal", segments, now)


def _orders(
    n: int, customers: int, rng: random.Random, now: datetime
) -> Iterator[tuple[object, ...]]:
    for oid in range(1, n + 1):
        placed = now - timedelta(seconds=rng.randrange(3 * 365 * 86_400))
        status = rng.choices(("completed", "paid", "cancelled", "refunded"), (80, 8, 7, 5))[0]
        amount = Decimal(rng.randrange(4_900, 99_900)) / 100
        cid = 1 + rng.randrange(customers * 3 // 4)
        yield ("shop", f"O{oid}", cid, placed, status, 1, amount, "CNY", amount)


async def fill(url: str, customers: int, orders: int) -> float:
    rng, now = random.Random(7), datetime.now(UTC)
    conn = await asyncpg.connect(libpq_url(url))
    started = time.perf_counter()
    try:
        await conn.copy_records_to_table(
            "customers",
            records=_customers(customers, rng),
            columns=["id", "name", "language", "birthday"],
        )
        await conn.copy_records_to_table(
            "customer_values",
            records=_values(customers, rng, now),
            columns=[
                "customer_id", "status", "grade", "last_sale_at", "vip_since", "vip_until",
                "value_class", "segments", "evaluated_at",
            ],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "orders",
            records=_orders(orders, customers, rng, now),
            columns=[
                "source", "external_id", "customer_id", "placed_at", "status", "items",
                "amount", "currency", "amount_cny",
            ],
        )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def ceiling(url: str) -> float:
    """A raw count over each table the plan reads."""
    conn = await asyncpg.connect(libpq_url(url))
    started = time.perf_counter()
    try:
        for table in TABLES:
            await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
    finally:
        await conn.close()
    return time.perf_counter() - started


async def switch_every_rule_on(db: Database) -> None:
    """Every default rule on, and no touch yet (a --keep run creates the day again)."""
    async with db.unit_of_work() as session:
        await session.execute(text("TRUNCATE care_touches"))
        await ensure_default_rules(session)
        await session.execute(update(CareRule).values(enabled=True, queue="care"))


async def timed_plan(db: Database, day: date, settings: Settings) -> tuple[float, int]:
    started = time.perf_counter()
    async with db.unit_of_work() as session:
        touches, _ = await service.plan(session, day, settings)
    return time.perf_counter() - started, len(touches)


async def timed_create(db: Database, day: date, settings: Settings) -> tuple[float, int]:
    started = time.perf_counter()
    async with db.unit_of_work() as session:
        _, created = await service.create_day(session, day, settings)
    return time.perf_counter() - started, created


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=3_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    if not args.keep:
        await fresh_database(url)
        seconds = await fill(url, args.customers, args.orders)
        print(f"filled {args.customers:,} customers, {args.orders:,} orders in {seconds:.0f} s")
    settings = Settings.model_validate({})
    db = Database(create_engine(url, pool_size=2, max_overflow=0))
    try:
        await switch_every_rule_on(db)
        today = datetime.now(UTC).astimezone(settings.zone).date()
        read = await ceiling(url)
        took, planned = await timed_plan(db, today, settings)
        print(f"ordinary day {today}: found {planned:,} touches in {took:.2f} s;"
              f" ceiling (count(*) over {', '.join(TABLES)}) {read:.2f} s")  # fmt: skip
        took, planned = await timed_plan(db, HOLIDAY, settings)
        print(f"holiday {HOLIDAY}: found {planned:,} touches in {took:.2f} s")
        took, created = await timed_create(db, today, settings)
        print(f"ordinary day created: {created:,} touches inserted in {took:.2f} s")
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
