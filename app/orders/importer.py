"""``contactd import orders``, the shell: a shop's CSV export into ``orders``, in chunks.

1. The whole file is read once first (decoding, CSV structure, the header, the row count
   for the progress bar): a file-level problem stops the import before anything is stored.
2. Then ``chunk_size`` rows at a time: rows are checked in Python (``rows.RowParser``),
   the good ones copied into a staging table, and one statement (``CHUNK_SQL``) matches or
   creates their customers and upserts their orders, returning what happened to each line.
   The next chunk is read, checked (in a thread) and copied while PostgreSQL runs that
   statement for this one.
   Each chunk is one unit of work, so a crash or Ctrl-C loses at most the chunk in flight
   and a re-run finds the rest stored (unchanged).
3. The customers whose orders of this source changed after their last evaluation are
   rescored, set-based, in one unit of work (``rescore_selected``).

Bad rows go to ``FILE.rejects.csv`` (line, column, reason, then the row as it was).
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import asyncpg

from app.customers.value.service import currency_rates, rescore_selected
from app.database import Database, driver_connection
from app.orders.rows import BadFile, Rejection, RowParser, header_positions

CHUNK_SIZE = 20_000
ENCODINGS = {"utf-8": "utf-8-sig", "gb18030": "gb18030", "gbk": "gb18030"}
"""What ``--encoding`` takes, and the codec it reads with (GBK is a subset of GB18030)."""
csv.field_size_limit(1 << 20)

NO_JIT_SQL = "SET LOCAL jit = off"
"""The chunk statement's estimates run to millions of rows (joins of CTEs), which makes
PostgreSQL compile it (JIT, measured: 1.8 s of a 2.2 s chunk); it runs in 0.4 s."""
CHUNK_SETTINGS_SQL = f"{NO_JIT_SQL}; SET LOCAL enable_nestloop = off"
"""The CTEs' row estimates are guesses (often 1): joined in nested loops, a chunk of new
customers compared every new row with every new customer (measured: 1.8 s a chunk, 0.7 s
hashed). The index probes (``LATERAL … LIMIT 1``) stay nested loops: nothing else can
run them."""
STAGE_COLUMNS = (
    "line",
    "external_id",
    "customer_id",
    "phone",
    "email",
    "name",
    "placed_at",
    "status",
    "items",
    "amount",
    "currency",
    "amount_cny",
)
STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS order_import_stage (
    line integer, external_id text, customer_id bigint, phone text, email text, name text,
    placed_at timestamptz, status text, items integer, amount text, currency text,
    amount_cny text
) ON COMMIT DROP
"""
"""Amounts travel as their decimal text (``ImportRow.record``): copying a ``Decimal`` in
binary costs the client about 1 µs a value (measured), the text a twentieth of it."""
# $1 = source. Every CTE reads the snapshot from before the statement; data-modifying CTEs
# run to completion whether or not the final SELECT reads them.
CHUNK_SQL = """
WITH s AS (  -- an order repeated within the chunk: its last line applies
    SELECT DISTINCT ON (external_id) line, external_id, customer_id, phone, email, name,
           placed_at, status, items, amount::numeric(14, 2) AS amount, currency,
           amount_cny::numeric(14, 2) AS amount_cny
    FROM order_import_stage ORDER BY external_id, line DESC
), cur AS (  -- one index probe a row, whatever the statistics say
    SELECT o.* FROM s CROSS JOIN LATERAL (
        SELECT o.external_id, o.customer_id, o.placed_at, o.status, o.items, o.amount,
               o.currency
        FROM orders o WHERE o.source = $1 AND o.external_id = s.external_id
        LIMIT 1) o  -- LIMIT: kept a nested loop, not flattened into a join
), by_phone AS (  -- a phone's customer, and whether it has several (then: which one?)
    SELECT ph.phone AS e164, x.customer_id, x.several
    FROM (SELECT DISTINCT phone FROM s WHERE phone IS NOT NULL) ph CROSS JOIN LATERAL (
        SELECT min(p.customer_id) AS customer_id,
               min(p.customer_id) <> max(p.customer_id) AS several
        FROM customer_phones p WHERE p.e164 = ph.phone) x
    WHERE x.customer_id IS NOT NULL
), by_email AS (
    SELECT em.email, x.customer_id, x.several
    FROM (SELECT DISTINCT email FROM s WHERE email IS NOT NULL) em CROSS JOIN LATERAL (
        SELECT min(e.customer_id) AS customer_id,
               min(e.customer_id) <> max(e.customer_id) AS several
        FROM customer_emails e WHERE e.email = em.email) x
    WHERE x.customer_id IS NOT NULL
), m AS (
    SELECT s.*, k.customer_id AS known_id,
           CASE WHEN s.customer_id IS NOT NULL THEN k.customer_id
                WHEN NOT bp.several THEN bp.customer_id
                WHEN bp.customer_id IS NULL AND NOT be.several THEN be.customer_id
           END AS matched,
           CASE WHEN s.customer_id IS NOT NULL AND k.customer_id IS NULL
                    THEN 'customer_id:no such customer'
                WHEN s.customer_id IS NULL AND bp.several
                    THEN 'customer_phone:several customers have this phone'
                WHEN s.customer_id IS NULL AND bp.customer_id IS NULL AND be.several
                    THEN 'customer_email:several customers have this email' END AS problem
    FROM s
    LEFT JOIN LATERAL (SELECT c.id AS customer_id FROM customers c
                       WHERE c.id = s.customer_id LIMIT 1) k ON true
    LEFT JOIN by_phone bp ON bp.e164 = s.phone
    LEFT JOIN by_email be ON be.email = s.email
), unknown AS (  -- rows naming nobody we know, whose order is not stored already
    SELECT m.* FROM m
    WHERE m.matched IS NULL AND m.problem IS NULL
      AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.external_id = m.external_id)
), email_phone AS (  -- an email-only row joins the new customer with that email's phone
    SELECT email, min(phone) AS phone FROM unknown
    WHERE email IS NOT NULL AND phone IS NOT NULL GROUP BY email
), new_rows AS (
    SELECT u.line, u.name, u.phone, u.email,
           coalesce('p' || u.phone, 'p' || ep.phone, 'e' || u.email) AS key
    FROM unknown u LEFT JOIN email_phone ep ON u.phone IS NULL AND ep.email = u.email
), new_customers AS MATERIALIZED (
    SELECT key, nextval(pg_get_serial_sequence('customers', 'id')) AS id,
           (array_agg(coalesce(nullif(name, ''), phone, email) ORDER BY line))[1] AS name
    FROM new_rows GROUP BY key
), ins_customers AS (
    INSERT INTO customers (id, name) SELECT id, left(name, 200) FROM new_customers
), ins_phones AS (
    INSERT INTO customer_phones (customer_id, e164)
    SELECT id, substr(key, 2) FROM new_customers WHERE key LIKE 'p%'
), ins_emails AS (
    INSERT INTO customer_emails (customer_id, email)
    SELECT DISTINCT nc.id, nr.email FROM new_rows nr JOIN new_customers nc USING (key)
    WHERE nr.email IS NOT NULL
), r AS (
    SELECT m.*, coalesce(m.matched, nc.id) AS cid, cur.customer_id AS stored_customer,
           (cur.placed_at, cur.status, cur.items, cur.amount, cur.currency)
               IS DISTINCT FROM (m.placed_at, m.status, m.items, m.amount, m.currency)
               AS changed,
           b.blocked IS NOT NULL AS blocked
    FROM m
    LEFT JOIN new_rows nr ON nr.line = m.line
    LEFT JOIN new_customers nc ON nc.key = nr.key
    LEFT JOIN cur ON cur.external_id = m.external_id
    LEFT JOIN LATERAL (  -- only a new order asks (changes of stored ones still apply)
        SELECT true AS blocked FROM customer_values v
        WHERE cur.external_id IS NULL AND v.customer_id = m.matched
          AND v.blocked_reason IS NOT NULL LIMIT 1) b ON true
), k AS (
    SELECT r.*, CASE
        WHEN r.problem IS NOT NULL THEN r.problem
        WHEN r.stored_customer IS NOT NULL AND r.stored_customer IS DISTINCT FROM r.cid
            THEN 'order_id:this order belongs to another customer'
        WHEN r.stored_customer IS NULL AND r.blocked
            THEN 'customer_id:the customer is blocked and cannot place new orders'
        WHEN r.stored_customer IS NULL THEN 'imported'
        WHEN r.changed THEN 'updated'
        ELSE 'unchanged' END AS outcome
    FROM r
), up AS (
    INSERT INTO orders (source, external_id, customer_id, placed_at, status, items, amount,
                        currency, amount_cny)
    SELECT $1, external_id, cid, placed_at, status, items, amount, currency, amount_cny
    FROM k WHERE outcome IN ('imported', 'updated')
    ON CONFLICT (source, external_id) DO UPDATE SET
        placed_at = EXCLUDED.placed_at, status = EXCLUDED.status, items = EXCLUDED.items,
        amount = EXCLUDED.amount, currency = EXCLUDED.currency,
        amount_cny = EXCLUDED.amount_cny, updated_at = now()
    WHERE orders.customer_id = EXCLUDED.customer_id
)
SELECT (SELECT count(*) FROM new_customers) AS created,
       count(*) FILTER (WHERE outcome = 'imported') AS imported,
       count(*) FILTER (WHERE outcome = 'updated') AS updated,
       count(*) FILTER (WHERE outcome = 'unchanged')
         + (SELECT count(*) FROM order_import_stage) - count(*) AS unchanged,
       coalesce(array_agg(line ORDER BY line) FILTER (WHERE outcome NOT IN
         ('imported', 'updated', 'unchanged')), '{}') AS rejected_lines,
       coalesce(array_agg(outcome ORDER BY line) FILTER (WHERE outcome NOT IN
         ('imported', 'updated', 'unchanged')), '{}') AS rejected_reasons
FROM k
"""

STALE_SQL = """
SELECT DISTINCT o.customer_id FROM orders o
LEFT JOIN customer_values v ON v.customer_id = o.customer_id
WHERE o.source = $1 AND (v.customer_id IS NULL OR o.updated_at > v.evaluated_at)
"""
"""Customers with an order of this source written after their last evaluation."""


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    customers_created: int = 0
    rescored: int = 0
    dry_run: bool = False
    rejects_path: Path | None = None
    rejections: list[Rejection] = field(default_factory=list)
    """The first ``KEPT_REJECTIONS`` of them (all are in the rejects file)."""


KEPT_REJECTIONS = 100
Progress = Callable[[int], None]
"""Called with the rows done so far, after each chunk."""


def rejects_path(path: Path) -> Path:
    """``orders.csv`` → ``orders.rejects.csv``, beside it."""
    return path.with_name(f"{path.stem}.rejects{path.suffix or '.csv'}")


def _open(path: Path, encoding: str) -> IO[str]:
    codec = ENCODINGS.get(encoding.lower())
    if codec is None:
        raise BadFile(f"unknown encoding '{encoding}' (utf-8 or gb18030)")
    return path.open(encoding=codec, errors="strict", newline="")


def scan(path: Path, encoding: str) -> int:
    """Rows after the header; BadFile if the file cannot be read as CSV in ``encoding``."""
    try:
        with _open(path, encoding) as stream:
            reader = csv.reader(stream, strict=True)
            header_positions(next(reader, []))
            return sum(1 for _ in reader)
    except FileNotFoundError:
        raise BadFile(f"no file {path}") from None
    except UnicodeDecodeError as error:
        hint = " (try --encoding gb18030)" if encoding.lower() == "utf-8" else ""
        raise BadFile(f"the file is not {encoding} text at byte {error.start}{hint}") from None
    except csv.Error as error:
        raise BadFile(f"the file is not CSV: {error}") from None


class _Rejects:
    """The rejects file, created with the first rejected row."""

    def __init__(self, path: Path, header: list[str], summary: ImportSummary) -> None:
        self.path = path
        self.header = header
        self.summary = summary
        self.stream: IO[str] | None = None
        self.writer: Any = None
        path.unlink(missing_ok=True)

    def add(self, rejection: Rejection, fields: list[str]) -> None:
        if self.writer is None:
            self.stream = self.path.open("w", encoding="utf-8", newline="")
            self.writer = csv.writer(self.stream)
            self.writer.writerow(["line", "column", "reason", *self.header])
            self.summary.rejects_path = self.path
        self.writer.writerow([rejection.line, rejection.column, rejection.reason, *fields])
        self.summary.rejected += 1
        if len(self.summary.rejections) < KEPT_REJECTIONS:
            self.summary.rejections.append(rejection)

    def add_chunk(self, chunk: _Chunk) -> None:
        for rejection, fields in sorted(chunk.rejected, key=lambda pair: pair[0].line):
            self.add(rejection, fields)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


@dataclass
class _Chunk:
    rows: list[tuple[object, ...]]  # the good rows, as staged (ImportRow.record)
    fields: dict[int, list[str]]  # line → the row as read, to write it out if rejected
    read: int
    rejected: list[tuple[Rejection, list[str]]] = field(default_factory=list)

    def reject(self, rejection: Rejection) -> None:
        self.rejected.append((rejection, self.fields[rejection.line]))


def _chunks(reader: Any, parser: RowParser, size: int) -> Iterator[_Chunk]:
    """``size`` rows at a time, checked."""
    while True:
        chunk = _Chunk([], {}, 0)
        for fields in reader:
            line: int = reader.line_num  # the row's last physical line
            chunk.read += 1
            parsed = parser.parse(line, fields)
            chunk.fields[line] = fields
            if isinstance(parsed, Rejection):
                chunk.reject(parsed)
            else:
                chunk.rows.append(parsed.record())
            if chunk.read >= size:
                break
        if not chunk.read:
            return
        yield chunk


class _DryRun(Exception):
    """Raised at the end of a dry run so its unit of work rolls back."""


async def _stage_chunk(db_session: Any, chunk: _Chunk) -> asyncpg.Connection | None:
    """The chunk's good rows copied into the staging table; None when it has none."""
    if not chunk.rows:
        return None
    driver = await driver_connection(db_session)
    await driver.execute(CHUNK_SETTINGS_SQL)
    await driver.execute(STAGE_SQL)
    await driver.copy_records_to_table("order_import_stage", records=chunk.rows,
                                       columns=STAGE_COLUMNS)  # fmt: skip
    return driver


async def _merge_chunk(
    driver: asyncpg.Connection | None, source: str, chunk: _Chunk, summary: ImportSummary
) -> None:
    """The staged rows stored in one statement; what it refused added to ``chunk``."""
    if driver is None:
        return
    result = await driver.fetchrow(CHUNK_SQL, source)
    await driver.execute("DROP TABLE order_import_stage")
    summary.customers_created += result["created"]
    summary.imported += result["imported"]
    summary.updated += result["updated"]
    summary.unchanged += result["unchanged"]
    for line, outcome in zip(result["rejected_lines"], result["rejected_reasons"], strict=True):
        column, reason = outcome.split(":", 1)
        chunk.reject(Rejection(line, column, reason))


async def import_orders(
    db: Database,
    path: Path,
    *,
    source: str,
    now: datetime,
    zone: ZoneInfo,
    region: str,
    encoding: str = "utf-8",
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    total: int | None = None,
) -> ImportSummary:
    """Import the file (see the module's contract); BadFile before anything is stored.
    ``total``: the row count when the caller already scanned the file. Uses two of ``db``'s
    connections at once (the chunk pipeline)."""
    total = scan(path, encoding) if total is None else total
    summary = ImportSummary(dry_run=dry_run)
    async with db.unit_of_work() as session:
        rates = await currency_rates(session)
    with _open(path, encoding) as stream:
        reader = csv.reader(stream, strict=True)
        header = next(reader)
        parser = RowParser(header_positions(header), now=now, rates=rates, zone=zone, region=region)
        rejects = _Rejects(rejects_path(path), header, summary)
        try:
            if dry_run:
                await _dry_run(db, source, _chunks(reader, parser, chunk_size),
                               summary, rejects, progress)  # fmt: skip
            else:
                await _run(db, source, _chunks(reader, parser, chunk_size),
                           summary, rejects, progress)  # fmt: skip
        finally:
            rejects.close()
    summary.rows = total
    if not dry_run:
        # as of now, not the start: the evaluation must postdate the orders it read
        summary.rescored = await rescore_stale(db, source, max(now, datetime.now(UTC)))
    return summary


def _next(chunks: Iterator[_Chunk]) -> _Chunk | None:
    return next(chunks, None)


@dataclass
class _Staged:
    """A chunk copied into the staging table of its own unit of work, still open."""

    chunk: _Chunk
    work: AsyncExitStack
    driver: asyncpg.Connection | None

    async def close(self, error: BaseException | None = None) -> None:
        """Commit, or roll back when ``error``."""
        if error is None:
            await self.work.aclose()
        else:
            await self.work.__aexit__(type(error), error, error.__traceback__)


async def _stage(db: Database, chunk: _Chunk) -> _Staged:
    work = AsyncExitStack()
    session = await work.enter_async_context(db.unit_of_work())
    try:
        return _Staged(chunk, work, await _stage_chunk(session, chunk))
    except BaseException as error:
        await work.__aexit__(type(error), error, error.__traceback__)
        raise


async def _merge(staged: _Staged, source: str, summary: ImportSummary) -> None:
    """Merge the staged chunk and commit its unit of work (rolled back on any error)."""
    try:
        await _merge_chunk(staged.driver, source, staged.chunk, summary)
    except BaseException as error:
        await staged.close(error)
        raise
    await staged.close()


async def _run(
    db: Database,
    source: str,
    chunks: Iterator[_Chunk],
    summary: ImportSummary,
    rejects: _Rejects,
    progress: Progress | None,
) -> None:
    """One unit of work a chunk, in a pipeline over the pool's two connections: while
    PostgreSQL merges chunk N, the next chunk is read and checked (in a thread) and copied
    into its own unit of work's staging table. Chunk N+1 is merged only once N is
    committed, so it sees the customers N created."""
    done = 0
    chunk = await asyncio.to_thread(_next, chunks)
    staged = None if chunk is None else await _stage(db, chunk)
    while staged is not None:
        merging = asyncio.create_task(_merge(staged, source, summary))
        reading = asyncio.create_task(asyncio.to_thread(_next, chunks))
        following: _Staged | None = None
        try:
            chunk = await reading
            following = None if chunk is None else await _stage(db, chunk)
            await merging
            rejects.add_chunk(staged.chunk)
            done += staged.chunk.read
            if progress is not None:
                progress(done)
        except BaseException as error:
            # the merge ends (committed or rolled back) and the reader thread finishes its
            # chunk before the file closes; the next chunk's copy is rolled back
            await asyncio.wait([merging, reading])
            if following is not None:
                await following.close(error)
            raise
        staged = following


async def _dry_run(
    db: Database,
    source: str,
    chunks: Iterator[_Chunk],
    summary: ImportSummary,
    rejects: _Rejects,
    progress: Progress | None,
) -> None:
    """Every chunk in one unit of work, rolled back at the end: nothing is stored."""
    done = 0
    try:
        async with db.unit_of_work() as session:
            for chunk in chunks:
                await _merge_chunk(await _stage_chunk(session, chunk), source, chunk, summary)
                rejects.add_chunk(chunk)
                done += chunk.read
                if progress is not None:
                    progress(done)
            raise _DryRun
    except _DryRun:
        pass


async def rescore_stale(db: Database, source: str, now: datetime) -> int:
    """Rescore, in one unit of work and set-based (``rescore_selected``), the customers with
    an order of ``source`` written since their last evaluation; how many."""
    async with db.unit_of_work() as session:
        await (await driver_connection(session)).execute(NO_JIT_SQL)
        return await rescore_selected(session, STALE_SQL, source, now=now)
