"""A full customer-value evaluation on a big database: every customer graded, value classes
ranked, as the daily run and ``contactd customers score`` do it.

Fills N customers (each with a phone) and M orders over the last three years
(generate_series, seeded by hashes, statuses 80 % completed, 8 % paid, 7 % cancelled, 5 %
refunded), then times ``run_full_evaluation`` (one unit of work, committed). Beside it, the
same run's ceiling: the aggregation statement alone, read and discarded (no scoring, no
writing), so the cost of the scorer and of writing the results shows as the difference.

    .venv/bin/python bench/score_customers.py [--customers 1000000] [--orders 10000000]
                                              [--keep] [--runs 1]

Target: ≤ 60 s for 1,000,000 customers and 10,000,000 orders on this machine. The database
is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/contactd_bench_value;
its schema is dropped and migrated first (unless --keep and it is already filled).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime

import asyncpg
from _common import fresh_database

from app.customers.value.core.calendar import months_before
from app.customers.value.service import (
    _WORK_MEM_SQL,
    FULL_SQL,
    run_full_evaluation,
    shop_zone,
)
from app.database import Database, create_engine, driver_connection, libpq_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_value"
DAY_SECONDS = 86_400

FILL = [
    "INSERT INTO customers (name, language, tags) "
    "SELECT '客户 ' || g, 'zh-CN', '[]' FROM generate_series(1, $1::bigint) g",
    "INSERT INTO customer_phones (customer_id, e164) "
    "SELECT g, '+86138' || lpad(g::text, 8, '0') FROM generate_series(1, $1::bigint) g",
    # orders: customers drawn by a hash (some buy often, some never), placed over 3 years
    "INSERT INTO orders (source, external_id, customer_id, placed_at, status, items, amount,"
    " currency, amount_cny) "
    "SELECT 'shop', 'O' || g, 1 + (hashint8(g) & 2147483647) % ($1::bigint * 3 / 4),"
    " now() - make_interval(secs => (hashint8(g * 7) & 2147483647) % (3 * 365 * 86400)),"
    " CASE WHEN g % 100 < 80 THEN 'completed' WHEN g % 100 < 88 THEN 'paid'"
    "      WHEN g % 100 < 95 THEN 'cancelled' ELSE 'refunded' END,"
    " 1 + g % 4, a, 'CNY', a "
    "FROM (SELECT g, round(((hashint8(g * 13) & 65535) / 16.0 + 49)::numeric, 2) AS a"
    "      FROM generate_series(1, $2::bigint) g) s",
    "ANALYZE",
]


async def fill(url: str, customers: int, orders: int) -> float:
    conn = await asyncpg.connect(libpq_url(url))
    started = time.perf_counter()
    try:
        for statement in FILL:
            if "$2" in statement:
                await conn.execute(statement, customers, orders)
            elif "$1" in statement:
                await conn.execute(statement, customers)
            else:
                await conn.execute(statement)
    finally:
        await conn.close()
    return time.perf_counter() - started


async def ceiling(db: Database, as_of: datetime) -> float:
    """The aggregation statement alone, every row fetched and dropped."""
    started = time.perf_counter()
    async with db.unit_of_work() as session:
        driver = await driver_connection(session)
        await driver.execute(_WORK_MEM_SQL)  # the evaluation's own settings
        cursor = await driver.cursor(FULL_SQL, as_of, months_before(as_of, 12))
        while await cursor.fetch(20_000):
            pass
    return time.perf_counter() - started


async def evaluate(db: Database, as_of: datetime) -> tuple[float, int, int]:
    started = time.perf_counter()
    async with db.unit_of_work() as session:
        report = await run_full_evaluation(session, as_of=as_of, once_per_day=False)
    assert report is not None
    return time.perf_counter() - started, report.customers, report.changes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    if not args.keep:
        await fresh_database(url)
        seconds = await fill(url, args.customers, args.orders)
        print(f"filled {args.customers:,} customers, {args.orders:,} orders in {seconds:.0f} s")
    db = Database(create_engine(url, pool_size=2, max_overflow=0))
    try:
        for run in range(1, args.runs + 1):
            as_of = datetime.now(UTC).astimezone(shop_zone())
            read = await ceiling(db, as_of)
            took, customers, changes = await evaluate(db, as_of)
            print(
                f"run {run}: full evaluation {took:.1f} s for {customers:,} customers"
                f" ({customers / took:,.0f}/s, {changes:,} changes recorded);"
                f" ceiling (aggregation read alone) {read:.1f} s"
            )
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
