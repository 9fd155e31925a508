"""Building a screen-pop and the first page of a customer's history, on a big database.

Fills N customers (each with a phone) and H history rows (contacts across channels, 10% with
two transcript lines, 5% with a note) with generate_series, then times, for random
contacts: building the pop as the console does (pop + audit row + commit, one unit of
work), and the first history page (contacts + notes + excerpts). Prints p50 / p99.

    .venv/bin/python bench/screen_pop.py [--customers 100000] [--history 1000000]
                                         [--samples 2000] [--keep]
    # the issue's size (slow to fill): --customers 1000000 --history 10000000

The database is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/
contactd_bench_console; its schema is dropped and migrated first (unless --keep and it is
already filled).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time

import asyncpg
from _common import fresh_database
from sqlalchemy.engine import make_url

from app.audit.service import View, record_view
from app.customers.history import history_page
from app.customers.screen_pop import build_screen_pop
from app.database import Database, create_engine, libpq_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_console"


async def _create_database(url: str) -> None:
    parsed = make_url(libpq_url(url))
    admin = await asyncpg.connect(
        libpq_url(parsed.set(database="postgres").render_as_string(False))
    )
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", parsed.database):
        await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    await admin.close()


FILL = [
    "INSERT INTO users (username, display_name, role, password_hash) "
    "SELECT 'agent' || g, 'Agent ' || g, 'agent', 'x' FROM generate_series(1, 200) g",
    "INSERT INTO customers (name, language, tags) "
    "SELECT 'Customer ' || g, 'zh-CN', '[]' FROM generate_series(1, $1::bigint) g",
    # every third customer graded (a value row for the pop to read), in three grades
    "INSERT INTO customer_values (customer_id, status, grade, r, f, m, score, routing_tags,"
    " reason, evaluated_at) "
    "SELECT g, 'graded', (ARRAY['P','G','S'])[1 + g % 3], 4, 4, 2, 24,"
    " ARRAY['grade:' || (ARRAY['P','G','S'])[1 + g % 3]], '5 orders in 12 months', now() "
    "FROM generate_series(1, $1::bigint, 3) g",
    "INSERT INTO customer_phones (customer_id, e164) "
    "SELECT g, '+86138' || lpad(g::text, 8, '0') FROM generate_series(1, $1::bigint) g",
    # history rows: spread over customers and the last two years
    "INSERT INTO contacts (channel, state, customer_id, customer_match, agent_id, "
    "disposition, subject, created_at, ended_at, attributes) "
    "SELECT (ARRAY['voice','email','chat'])[1 + g % 3], 'ended', 1 + (hashint8(g) & 2147483647)"
    " % $1::bigint, 'exact_phone', 1 + g % 200, "
    "(ARRAY['resolved','resolved','resolved','sale','complaint','follow_up_needed'])[1 + g % 6],"
    " 'subject ' || g, now() - (hashint8(g * 7) & 2147483647) % 63072000 * interval '1 second',"
    " now(), '{}' FROM generate_series(1, $2::bigint) g",
]
MESSAGES = (
    "INSERT INTO messages (contact_id, seq, direction, author, body, meta) "
    "SELECT c.id, s, CASE WHEN s = 1 THEN 'inbound' ELSE 'outbound' END, "
    "CASE WHEN s = 1 THEN 'customer' ELSE 'agent' END, repeat('line ', 30), '{}' "
    "FROM contacts c, generate_series(1, 2) s WHERE c.id % 10 = 0"
)
NOTES = (
    "INSERT INTO contact_notes (contact_id, author_id, body) "
    "SELECT id, agent_id, 'note on ' || id FROM contacts WHERE id % 20 = 0"
)


async def fill(url: str, customers: int, history: int) -> None:
    await fresh_database(url)
    conn = await asyncpg.connect(libpq_url(url))
    await conn.execute("SET synchronous_commit = off")
    started = time.perf_counter()
    for statement in FILL:
        args = [customers, history][: statement.count("$")]
        await conn.execute(statement, *(a for a in args))
    await conn.execute(MESSAGES)
    await conn.execute(NOTES)
    await conn.execute("ANALYZE")
    await conn.close()
    print(
        f"filled {customers:,} customers / {history:,} history rows in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49]:.2f} ms  p99 {cuts[98]:.2f} ms  max {max(samples):.2f} ms"


async def measure(url: str, samples: int) -> None:
    db = Database(create_engine(url, pool_size=2))
    conn = await asyncpg.connect(libpq_url(url))
    top = await conn.fetchval("SELECT max(id) FROM contacts")
    customers = await conn.fetchval("SELECT max(id) FROM customers")
    await conn.close()
    rng = random.Random(7)
    pops: list[float] = []
    pages: list[float] = []
    for _ in range(samples):
        contact_id = rng.randint(1, top)
        started = time.perf_counter()
        async with db.unit_of_work() as session:
            pop = await build_screen_pop(session, contact_id)
            assert pop is not None
            record_view(
                session,
                View(
                    actor_id=1,
                    action="screen_pop",
                    customer_id=None if pop.customer is None else pop.customer.id,
                    via="contact",
                    contact_id=contact_id,
                ),
            )
        pops.append((time.perf_counter() - started) * 1000)
        customer_id = rng.randint(1, customers)
        started = time.perf_counter()
        async with db.unit_of_work() as session:
            await history_page(session, customer_id, None, 50)
        pages.append((time.perf_counter() - started) * 1000)
    await db.dispose()
    print(f"screen-pop (pop + audit + commit): {_percentiles(pops[10:])}")
    print(f"history first page (50 items):    {_percentiles(pages[10:])}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="reuse an already filled database")
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    await _create_database(url)
    if not args.keep:
        await fill(url, args.customers, args.history)
    await measure(url, args.samples)


if __name__ == "__main__":
    asyncio.run(main())
