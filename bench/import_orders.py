"""``contactd import orders`` on a shop's export of a million orders.

Writes a seeded CSV of N orders (default 1,000,000) over a pool of customers: a share
already stored (matched by phone, some by customer id or email), the rest new (created by
the import), Chinese names, +86 phones written the ways shops write them, every status,
some foreign currencies. Then times ``import_orders`` (the function the CLI runs) into a
database holding the existing customers: the load (chunks checked, copied, matched and
upserted) and, beside it, the whole import with the set-based rescoring of the customers it
touched. Beside them, the same run's ceiling: the same rows, already checked, copied with
``copy_records_to_table`` into an unlogged table of the staging table's shape, nothing else.
A second import of the same file (everything unchanged) is timed too. Each figure comes
with the CPU seconds of this process and of its PostgreSQL backends, and the load average
is printed before and after: the machine is shared.

    .venv/bin/python bench/import_orders.py [--rows 1000000] [--customers 250000]
                                            [--existing 100000]

Target: ≥ 30,000 rows/s for 1,000,000 rows on this machine, measured on the load (the
"load" figure); "with rescoring" adds the rescoring after it. The database is
CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/contactd_bench_orders;
its schema is dropped and migrated first.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from _common import fresh_database
from sqlalchemy import text

from app.database import Database, create_engine, libpq_url
from app.orders.importer import CHUNK_SIZE, STAGE_COLUMNS, ImportSummary, import_orders
from app.orders.rows import COLUMNS, ImportRow, RowParser, header_positions

TARGET = 30_000
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_orders"
ZONE = ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵解强柴华车冉房边"  # noqa: E501
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲梅建国晨宇欣怡子轩浩然梓涵雨桐"
)
STATUSES = ("completed",) * 80 + ("paid",) * 8 + ("cancelled",) * 7 + ("refunded",) * 5
CURRENCIES = ("CNY",) * 97 + ("USD", "HKD", "JPY")
RATES = {"CNY": Decimal(1), "USD": Decimal("7.1"), "HKD": Decimal("0.91"), "JPY": Decimal("0.048")}


def phone_of(n: int) -> str:
    return f"+86139{n:08d}"


def written(phone: str, rng: random.Random) -> str:
    """The number as a shop's export has it: E.164, national, spaced or with 0086."""
    national = phone[3:]
    return rng.choice(
        (phone, national, f"{national[:3]} {national[3:7]} {national[7:]}", f"0086{national}")
    )


def write_csv(path: Path, rows: int, customers: int, existing: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for n in range(rows):
            who = int(rng.paretovariate(1.2) * customers / 6) % customers
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))
            customer_id = email = phone = ""
            if who < existing and n % 10 == 0:
                customer_id = str(who + 1)
            elif n % 13 == 0:
                email = f"buyer{who}@example.cn"
            else:
                phone = written(phone_of(who), rng)
            placed = start + timedelta(seconds=rng.randrange(3 * 365 * 86_400))
            placed_at = placed.date().isoformat() if n % 4 == 0 else placed.isoformat()
            amount = Decimal(rng.randrange(1_900, 600_000)) / 100
            writer.writerow(
                (
                    f"SO{n:08d}",
                    customer_id,
                    phone,
                    email,
                    name,
                    placed_at,
                    rng.choice(STATUSES),
                    rng.randint(1, 4),
                    amount,
                    rng.choice(CURRENCIES),
                )
            )


async def fill(url: str, existing: int) -> None:
    """The customers the shop already has: phone, and an email like the export's."""
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute(
            "INSERT INTO customers (name, language) "
            "SELECT '老客户 ' || g, 'zh-CN' FROM generate_series(1, $1::bigint) g",
            existing,
        )
        await conn.execute(
            "INSERT INTO customer_phones (customer_id, e164) "
            "SELECT g, '+86139' || lpad((g - 1)::text, 8, '0')"
            " FROM generate_series(1, $1::bigint) g",
            existing,
        )
        await conn.execute(
            "INSERT INTO customer_emails (customer_id, email) "
            "SELECT g, 'buyer' || (g - 1) || '@example.cn' FROM generate_series(1, $1::bigint) g",
            existing,
        )
        await conn.execute(
            "INSERT INTO value_rules_versions (version, document) VALUES"
            " (1, jsonb_build_object('currency_rates',"
            "  jsonb_build_object('CNY', 1, 'USD', 7.1, 'HKD', 0.91, 'JPY', 0.048)))"
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def ceiling(url: str, path: Path, now: datetime) -> float:
    """The same rows, checked outside the clock, copied into an unlogged table."""
    conn = await asyncpg.connect(libpq_url(url))
    copying = 0.0
    try:
        await conn.execute(
            "CREATE UNLOGGED TABLE copy_ceiling (line integer, external_id text,"
            " customer_id bigint, phone text, email text, name text, placed_at timestamptz,"
            " status text, items integer, amount text, currency text, amount_cny text)"
        )
        with path.open(encoding="utf-8", newline="") as stream:
            reader = csv.reader(stream)
            parser = RowParser(
                header_positions(next(reader)), now=now, rates=RATES, zone=ZONE, region="CN"
            )
            chunk: list[tuple[object, ...]] = []
            for fields in reader:
                parsed = parser.parse(reader.line_num, fields)
                if isinstance(parsed, ImportRow):
                    chunk.append(parsed.record())
                if len(chunk) == CHUNK_SIZE:
                    copying += await _copy(conn, chunk)
                    chunk = []
            if chunk:
                copying += await _copy(conn, chunk)
        await conn.execute("DROP TABLE copy_ceiling")
    finally:
        await conn.close()
    return copying


async def _copy(conn: asyncpg.Connection, records: list[tuple[object, ...]]) -> float:
    started = time.perf_counter()
    await conn.copy_records_to_table("copy_ceiling", records=records, columns=STAGE_COLUMNS)
    return time.perf_counter() - started


@dataclass
class Timing:
    """Seconds: wall-clock, and CPU of this process and of the pool's PostgreSQL backends
    (read from /proc; None when the server is not local). The machine is shared: CPU
    seconds show what the import costs whatever else runs."""

    wall: float
    python_cpu: float
    postgres_cpu: float | None


class Clock:
    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.started = self._now()

    def _now(self) -> Timing:
        return Timing(time.perf_counter(), time.process_time(), _backend_cpu(self.backends))

    def lap(self) -> Timing:
        now = self._now()
        pg = None
        if now.postgres_cpu is not None and self.started.postgres_cpu is not None:
            pg = now.postgres_cpu - self.started.postgres_cpu
        return Timing(now.wall - self.started.wall, now.python_cpu - self.started.python_cpu, pg)


def _backend_cpu(pids: list[int]) -> float | None:
    try:
        total = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


async def backend_pids(db: Database) -> list[int]:
    """The pool's two connections, held at once so both are opened."""
    async with db.unit_of_work() as first, db.unit_of_work() as second:
        return [int(await s.scalar(text("SELECT pg_backend_pid()"))) for s in (first, second)]


async def timed_import(db: Database, path: Path) -> tuple[ImportSummary, Timing, Timing]:
    """The summary, the load's timing and the whole import's (rescoring included)."""
    clock = Clock(await backend_pids(db))
    loaded: list[Timing] = []

    def progress(_: int) -> None:
        loaded[:] = [clock.lap()]

    summary = await import_orders(
        db, path, source="shop", now=datetime.now(UTC), zone=ZONE, region="CN", progress=progress
    )
    return summary, loaded[0], clock.lap()


def _cpu(timing: Timing) -> str:
    pg = "n/a" if timing.postgres_cpu is None else f"{timing.postgres_cpu:.1f} s"
    return f"CPU: Python {timing.python_cpu:.1f} s, PostgreSQL {pg}"


def report(label: str, summary: ImportSummary, load: Timing, total: Timing) -> None:
    rows = summary.rows
    print(
        f"{label}: {rows:,} rows; load {load.wall:.1f} s = {rows / load.wall:,.0f} rows/s"
        f" ({_cpu(load)}); with rescoring {total.wall:.1f} s = {rows / total.wall:,.0f} rows/s"
        f" ({_cpu(total)}); {summary.imported:,} imported, {summary.updated:,} updated,"
        f" {summary.unchanged:,} unchanged, {summary.rejected:,} rejected,"
        f" {summary.customers_created:,} customers created, {summary.rescored:,} rescored"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=250_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    await fresh_database(url)
    await fill(url, args.existing)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        started = time.perf_counter()
        write_csv(path, args.rows, args.customers, args.existing, args.seed)
        size = path.stat().st_size / 1e6
        print(f"wrote {args.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.0f} s")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)")
        copy = await ceiling(url, path, datetime.now(UTC))
        print(f"ceiling: COPY of the checked rows {copy:.1f} s ({args.rows / copy:,.0f} rows/s)")
        print(f"target: >= {TARGET:,} rows/s, measured on the load; 'with rescoring' adds it")
        db = Database(create_engine(url, pool_size=2, max_overflow=0))
        try:
            report("import", *await timed_import(db, path))
            report("re-run", *await timed_import(db, path))
        finally:
            await db.dispose()
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
