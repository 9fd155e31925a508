"""How fast the append-only record grows: rows and bytes per contact, from the demo.

Loads the demo into a fresh database (CONTACTD_BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/contactd_bench_growth; emptied first; its month of
past contacts over every channel, with their events, lines and surveys), runs VACUUM
ANALYZE, and prints per table: rows, rows per contact, bytes on disk with indexes and
TOAST, bytes per row; the distribution of ``contact_events`` rows per contact and per
channel; then what a day and a year of N contacts a day add at these ratios.

    .venv/bin/python bench/contact_events_growth.py [--per-day 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os

import asyncpg
from _common import fresh_database

from app.database import libpq_url
from app.demo.run import load_demo_if_empty

LOCAL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_growth"
TABLES = ("contacts", "contact_events", "contact_event_texts", "messages", "audit_log")
GIB = 1024**3


async def _table(conn: asyncpg.Connection, table: str, contacts: int) -> tuple[str, float]:
    rows = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608 (our names)
    size = await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
    per_row = size / rows if rows else 0.0
    line = (
        f"{table:<22} {rows:>9,} rows {rows / contacts:>7.2f}/contact"
        f" {size / 1024**2:>8.1f} MiB {per_row:>7.0f} B/row (with indexes)"
    )
    return line, size / contacts


async def main(per_day: list[int]) -> None:
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", LOCAL)
    await fresh_database(url)
    await load_demo_if_empty(url, "CN")
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute("VACUUM ANALYZE")
        contacts = await conn.fetchval("SELECT count(*) FROM contacts")
        print(f"demo: {contacts:,} contacts")
        bytes_per_contact = 0.0
        for table in TABLES:
            line, share = await _table(conn, table, contacts)
            bytes_per_contact += share if table != "audit_log" else 0.0
            print(line)
        spread = await conn.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS p50,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY n) AS p90, max(n) AS max"
            " FROM (SELECT count(*) AS n FROM contact_events WHERE contact_id IS NOT NULL"
            " GROUP BY contact_id) per"
        )
        print(
            f"contact_events per contact: p50 {spread['p50']:.0f}, p90 {spread['p90']:.0f},"
            f" max {spread['max']}"
        )
        by_channel = await conn.fetch(
            "SELECT c.channel, count(DISTINCT c.id) AS contacts, count(e.id) AS events"
            " FROM contacts c LEFT JOIN contact_events e ON e.contact_id = c.id"
            " GROUP BY c.channel ORDER BY c.channel"
        )
        for row in by_channel:
            print(
                f"  {row['channel']:<6} {row['contacts']:>6,} contacts"
                f" {row['events'] / row['contacts']:>6.2f} events/contact"
            )
        unattached = await conn.fetchval(
            "SELECT count(*) FROM contact_events WHERE contact_id IS NULL"
        )
        print(f"agent events (no contact): {unattached:,}")
    finally:
        await conn.close()
    print(f"\nper contact, contacts + events + texts + messages: {bytes_per_contact:,.0f} B")
    for n in per_day:
        day = n * bytes_per_contact
        print(f"{n:>9,} contacts/day: {day / GIB:7.2f} GiB/day, {day * 365 / GIB:9,.0f} GiB/year")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    asyncio.run(main(parser.parse_args().per_day))
