"""Customer value, the shell: order figures out of PostgreSQL, the pure scorer, results back.

Three ways in, one path through:

* ``rescore_customers``: the customers whose orders just changed, at once (R/F/M, grade,
  status, VIP, segments); their value class stays what the last full evaluation ranked.
* ``rescore_selected``: the same for a set of customers chosen by a query (the ones an
  order import touched), set-based, through the full evaluation's path.
* ``run_full_evaluation``: every customer, value classes ranked anew; daily inside
  ``contactd serve`` and on demand (``contactd customers score``).

Both read one statement (``_SUMMARY_SQL``) that aggregates each customer's orders in the
window, score each row with ``core.scorer.evaluate`` and write the customer's row of
``customer_values`` plus a ``customer_value_changes`` row per change, in the caller's unit
of work (flushed, never committed here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import phonenumbers
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.customers.value.core.calendar import months_before
from app.customers.value.core.rules import ValueRules
from app.customers.value.core.scorer import (
    Evaluation,
    OrderSummary,
    PriorValue,
    class_limits,
    evaluate,
    routing_tags,
    value_class,
)
from app.customers.value.core.segments import CustomerFacts, SegmentMatcher
from app.customers.value.models import (
    CustomerValue,
    CustomerValueChange,
    ValueEvaluation,
    ValueRulesVersion,
)
from app.customers.value.rules_schemas import ValueRulesDocument, to_core
from app.database import driver_connection
from app.errors import NotFound

# ------------------------------------------------------------------ the rules in force


async def rules_document(session: AsyncSession) -> tuple[int, ValueRulesDocument]:
    """The published document with the highest version; version 0 and the defaults when
    nothing was published."""
    row = await session.scalar(
        select(ValueRulesVersion).order_by(ValueRulesVersion.version.desc()).limit(1)
    )
    if row is None:
        return 0, ValueRulesDocument()
    return row.version, ValueRulesDocument.model_validate(row.document)


async def rules_in_force(session: AsyncSession) -> ValueRules:
    version, document = await rules_document(session)
    return to_core(document, version)


async def currency_rates(session: AsyncSession) -> dict[str, Decimal]:
    """CNY per unit of each currency orders may come in (CNY is always 1)."""
    return dict((await rules_document(session))[1].currency_rates)


async def publish_rules(
    session: AsyncSession, document: ValueRulesDocument, author_id: int | None, comment: str
) -> ValueRulesVersion:
    latest = await session.scalar(select(func.max(ValueRulesVersion.version)))
    row = ValueRulesVersion(
        version=(latest or 0) + 1,
        document=document.model_dump(mode="json", by_alias=True, exclude_none=True),
        author_id=author_id,
        comment=comment,
    )
    session.add(row)
    await session.flush()
    return row


async def rules_versions(session: AsyncSession, limit: int = 100) -> list[ValueRulesVersion]:
    return list(
        await session.scalars(
            select(ValueRulesVersion).order_by(ValueRulesVersion.version.desc()).limit(limit)
        )
    )


# ------------------------------------------------------------------ reading the figures

_SALE = "o.status IN ('paid', 'completed')"
_IN_WINDOW = "o.placed_at >= {window_start}"

_SUMMARY_SQL = f"""
WITH agg AS (
    SELECT o.customer_id,
           count(*) FILTER (WHERE {_SALE} AND {_IN_WINDOW}) AS sales,
           coalesce(sum(o.items) FILTER (WHERE {_SALE} AND {_IN_WINDOW}), 0) AS items,
           coalesce(sum(o.amount_cny) FILTER (WHERE {_SALE} AND {_IN_WINDOW}), 0) AS amount,
           max(o.placed_at) FILTER (WHERE {_SALE} AND {_IN_WINDOW}) AS last_sale_at,
           count(*) FILTER (WHERE {_IN_WINDOW}) AS orders_in_window,
           count(*) FILTER (WHERE {_SALE} AND o.placed_at < {{window_start}}) AS earlier_sales,
           min(o.placed_at) FILTER (WHERE {_SALE}) AS first_sale_at,
           count(*) FILTER (WHERE {_SALE}) AS lifetime_sales,
           coalesce(sum(o.amount_cny) FILTER (WHERE {_SALE}), 0) AS lifetime_amount
    FROM orders o
    WHERE o.placed_at <= {{as_of}} {{orders_filter}}
    GROUP BY o.customer_id
), ranked AS (
    SELECT customer_id, row_number() OVER (ORDER BY amount DESC, customer_id) AS rank
    FROM agg WHERE sales > 0
)
SELECT c.id AS customer_id, c.language,
       ARRAY(SELECT jsonb_array_elements_text(c.tags)) AS tags,
       c.attributes ->> 'region' AS region,
       (SELECT p.e164 FROM customer_phones p WHERE p.customer_id = c.id
        ORDER BY p.id LIMIT 1) AS phone,
       (SELECT max(k.created_at) FROM contacts k WHERE k.customer_id = c.id) AS last_contact_at,
       (SELECT count(*) FROM cases cs WHERE cs.customer_id = c.id
          AND cs.state IN ('new', 'open', 'pending_customer', 'reopened')) AS open_cases,
       a.sales, a.items, a.amount, a.last_sale_at, a.orders_in_window, a.earlier_sales,
       a.first_sale_at, a.lifetime_sales, a.lifetime_amount,
       r.rank, (SELECT count(*) FROM ranked) AS ranked,
       v.status AS old_status, v.grade AS old_grade, v.value_class AS old_class,
       v.vip_since, v.vip_until, v.blocked_reason,
       v.r AS old_r, v.f AS old_f, v.m AS old_m, v.score AS old_score, v.sales AS old_sales,
       v.items AS old_items, v.sales_amount AS old_sales_amount,
       v.last_sale_at AS old_last_sale_at, v.lifetime_sales AS old_lifetime_sales,
       v.lifetime_amount AS old_lifetime_amount, v.vip_since AS old_vip_since,
       v.vip_until AS old_vip_until, v.value_class AS old_value_class,
       v.segments AS old_segments, v.routing_tags AS old_routing_tags, v.reason AS old_reason,
       v.blocked_reason AS old_blocked_reason, v.rules_version AS old_rules_version
FROM customers c
LEFT JOIN agg a ON a.customer_id = c.id
LEFT JOIN ranked r ON r.customer_id = c.id
LEFT JOIN customer_values v ON v.customer_id = c.id
{{customers_filter}}
ORDER BY c.id
"""  # noqa: S608 (built from the constants above)
# Three renderings of one statement: the customers whose orders changed, through the session
# with named parameters; everyone, and a selected set, through the driver's cursor (a
# million rows read as asyncpg records cost a fraction of SQLAlchemy rows), $1 = as_of,
# $2 = window_start.
_SOME_SQL = text(
    _SUMMARY_SQL.format(
        as_of=":as_of",
        window_start=":window_start",
        orders_filter="AND o.customer_id = ANY(:ids)",
        customers_filter="WHERE c.id = ANY(:ids)",
    )
)
FULL_SQL = _SUMMARY_SQL.format(as_of="$1", window_start="$2", orders_filter="", customers_filter="")
SELECTED_SQL = _SUMMARY_SQL.format(
    as_of="$1",
    window_start="$2",
    orders_filter="AND o.customer_id IN (SELECT customer_id FROM value_targets)",
    customers_filter="WHERE c.id IN (SELECT customer_id FROM value_targets)",
)
"""The customers of the temporary table ``value_targets`` (``rescore_selected``)."""


def region_of(e164: str | None) -> str | None:
    """ISO region of an E.164 number by its country calling code (``+86…`` → CN)."""
    if not e164 or not e164.startswith("+"):
        return None
    return _region_of_prefix(e164[:4])


@lru_cache(maxsize=4096)
def _region_of_prefix(prefix: str) -> str | None:
    """Calling codes are 1–3 digits and prefix-free, so ``+`` and 3 digits decide."""
    for length in (1, 2, 3):
        digits = prefix[1 : 1 + length]
        code = int(digits) if digits.isdigit() else -1
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        if regions:
            return str(regions[0])
    return None


def _days_between(earlier: datetime | None, later: datetime) -> int | None:
    return None if earlier is None else max((later - earlier).days, 0)


# ------------------------------------------------------------------ scoring rows


@dataclass(frozen=True, slots=True)
class Scored:
    """One customer's new row of ``customer_values`` and the changes it records."""

    record: tuple[Any, ...]  # in VALUE_COLUMNS order
    changes: list[dict[str, Any]]
    stored: bool  # the customer's row holds this already (but for evaluated_at)

    def values(self) -> dict[str, Any]:
        return dict(zip(VALUE_COLUMNS, self.record, strict=True))


def _change(
    customer_id: int,
    kind: str,
    old: str | None,
    new: str | None,
    reason: str,
    figures: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "kind": kind,
        "old": old,
        "new": new,
        "reason": reason,
        "figures": figures,
        "changed_at": at,
    }


def _figures(evaluation: Evaluation, summary: OrderSummary, version: int) -> dict[str, Any]:
    rfm = evaluation.rfm
    return {
        "r": rfm.r if rfm else None,
        "f": rfm.f if rfm else None,
        "m": rfm.m if rfm else None,
        "score": rfm.score if rfm else None,
        "sales": summary.sales,
        "items": summary.items,
        "amount": str(summary.amount),
        "rules_version": version,
    }


def _changes(
    row: Mapping[Any, Any],
    evaluation: Evaluation,
    new_class: str,
    summary: OrderSummary,
    rules: ValueRules,
    now: datetime,
) -> list[dict[str, Any]]:
    figures = _figures(evaluation, summary, rules.version)
    customer_id = row["customer_id"]
    out = []
    old_status = row["old_status"] or "prospect"
    if old_status != evaluation.status:
        out.append(
            _change(
                customer_id,
                "status",
                old_status,
                evaluation.status,
                evaluation.reason,
                figures,
                now,
            )
        )
    if row["old_grade"] != evaluation.grade:
        out.append(
            _change(
                customer_id,
                "grade",
                row["old_grade"],
                evaluation.grade,
                evaluation.reason,
                figures,
                now,
            )
        )
    if evaluation.vip_event is not None:
        rule = rules.vip
        why = (
            f"{summary.sales} sales, {summary.items} items, ¥{summary.amount} in the window"
            f" (rule: {rule.min_sales} sales, {rule.min_items} items, ¥{rule.min_amount})"
        )
        out.append(_change(customer_id, "vip", None, evaluation.vip_event, why, figures, now))
    old_class = row["old_class"] or "normal"
    if old_class != new_class:
        rank, ranked = row["rank"], row["ranked"]
        why = f"rank {rank} of {ranked} by net sales" if rank else "no sale"
        out.append(_change(customer_id, "value_class", old_class, new_class, why, figures, now))
    return out


def score_row(
    row: Mapping[Any, Any],
    *,
    rules: ValueRules,
    as_of: datetime,
    last_full: datetime | None,
    limits: tuple[tuple[str, int], ...] | None,
    matcher: SegmentMatcher | None = None,
) -> Scored:
    """One row of ``_SUMMARY_SQL`` scored. ``limits`` None keeps the stored value class."""
    summary = OrderSummary(
        sales=row["sales"] or 0,
        items=row["items"] or 0,
        amount=Decimal(row["amount"] or 0),
        last_sale_at=row["last_sale_at"],
        orders_in_window=row["orders_in_window"] or 0,
        earlier_sales=row["earlier_sales"] or 0,
        first_sale_at=row["first_sale_at"],
    )
    blocked = row["blocked_reason"] is not None
    prior = PriorValue(row["vip_since"], row["vip_until"], blocked=blocked)
    evaluation = evaluate(summary, prior, as_of, rules, last_full)
    kept_class = row["old_class"] or "normal"
    new_class = value_class(row["rank"], limits) if limits is not None else kept_class
    if evaluation.status == "blocked":
        new_class = "normal"
    rfm = evaluation.rfm
    facts = CustomerFacts(
        grade=evaluation.grade,
        status=evaluation.status,
        vip=evaluation.vip_active(as_of),
        value_class=new_class,
        r=rfm.r if rfm else None,
        f=rfm.f if rfm else None,
        m=rfm.m if rfm else None,
        score=rfm.score if rfm else None,
        sales=summary.sales,
        days_since_last_sale=_days_between(summary.last_sale_at, as_of),
        days_since_last_contact=_days_between(row["last_contact_at"], as_of),
        open_cases=row["open_cases"],
        language=row["language"],
        region=row["region"] or region_of(row["phone"]),
        tags=tuple(str(t) for t in (row["tags"] or ())),
    )
    segments = (matcher or SegmentMatcher(rules.segments))(facts)
    record = (  # in VALUE_COLUMNS order
        row["customer_id"],
        evaluation.status,
        evaluation.grade,
        facts.r,
        facts.f,
        facts.m,
        facts.score,
        summary.sales,
        summary.items,
        summary.amount,
        summary.last_sale_at,
        row["lifetime_sales"] or 0,
        Decimal(row["lifetime_amount"] or 0),
        evaluation.vip_since,
        evaluation.vip_until,
        new_class,
        list(segments),
        list(routing_tags(evaluation, new_class, segments, as_of)),
        evaluation.reason,
        row["blocked_reason"],
        rules.version,
        as_of,
    )
    stored = tuple(row[key] for key in _STORED_KEYS) == record[1:-1]
    changes = _changes(row, evaluation, new_class, summary, rules, as_of)
    return Scored(record, stored=stored, changes=changes)


VALUE_COLUMNS = (
    "customer_id",
    "status",
    "grade",
    "r",
    "f",
    "m",
    "score",
    "sales",
    "items",
    "sales_amount",
    "last_sale_at",
    "lifetime_sales",
    "lifetime_amount",
    "vip_since",
    "vip_until",
    "value_class",
    "segments",
    "routing_tags",
    "reason",
    "blocked_reason",
    "rules_version",
    "evaluated_at",
)
_STORED_KEYS = tuple(f"old_{c}" for c in VALUE_COLUMNS[1:-1])
"""The summary statement's columns of the stored row, in VALUE_COLUMNS order."""
CHANGE_COLUMNS = ("customer_id", "kind", "old", "new", "reason", "figures", "changed_at")


def _window(as_of: datetime, rules: ValueRules) -> dict[str, datetime]:
    return {"as_of": as_of, "window_start": months_before(as_of, rules.window_months)}


async def last_full_evaluation(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.max(ValueEvaluation.as_of)).where(ValueEvaluation.finished_at.is_not(None))
    )


# ------------------------------------------------------------------ the two ways in


async def rescore_customers(
    session: AsyncSession, customer_ids: Sequence[int], *, now: datetime
) -> None:
    """Rescore these customers at ``now`` (their orders changed); value classes kept."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    now = now.astimezone(shop_zone())
    rules = await rules_in_force(session)
    last_full = await last_full_evaluation(session)
    result = await session.execute(_SOME_SQL, {**_window(now, rules), "ids": ids})
    scored = [
        score_row(row, rules=rules, as_of=now, last_full=last_full, limits=None)
        for row in result.mappings()
    ]
    await _upsert(session, [s.values() for s in scored])
    changes = [c for s in scored for c in s.changes]
    if changes:
        await session.execute(insert(CustomerValueChange), changes)


def _upsert_statement() -> Any:
    statement = insert(CustomerValue)
    updated = {c: statement.excluded[c] for c in VALUE_COLUMNS if c != "customer_id"}
    return statement.on_conflict_do_update(index_elements=["customer_id"], set_=updated)


async def _upsert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_upsert_statement(), rows)


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    as_of: datetime
    customers: int
    changes: int
    rules_version: int


_WORK_MEM_SQL = "SET LOCAL work_mem = '256MB'; SET LOCAL enable_hashagg = off"
"""Every order is aggregated: from the covering index ``ix_orders_customer_placed`` in
customer order (a group aggregate: 11 s for 10 M orders here, where hashing them took 23 s
and spilled to disk), and the sorts that remain in memory."""
_STAGE_SQL = """
CREATE TEMP TABLE value_stage (LIKE customer_values INCLUDING DEFAULTS) ON COMMIT DROP
"""
_MERGE_STAGE_SQL = text(  # built from the column constants
    "INSERT INTO customer_values SELECT * FROM value_stage"  # noqa: S608
    " ON CONFLICT (customer_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in VALUE_COLUMNS if c != "customer_id")
)


async def _write_chunk(
    driver: asyncpg.Connection, scored: list[Scored], *, every_row: bool = False
) -> int:
    """Copy one scored chunk into the staging table (the rows that change, or
    ``every_row``) and its changes into the log; how many changes."""
    rows = [s.record for s in scored if every_row or not s.stored]
    if rows:
        await driver.copy_records_to_table("value_stage", records=rows, columns=VALUE_COLUMNS)
    found = [_change_record(c) for s in scored for c in s.changes]
    if found:
        await driver.copy_records_to_table(
            "customer_value_changes", records=found, columns=CHANGE_COLUMNS
        )
    return len(found)


Scorer = Callable[[list[asyncpg.Record]], list[Scored]]


async def _score_through(
    driver: asyncpg.Connection,
    statement: str,
    window: dict[str, datetime],
    score: Scorer,
    *,
    chunk: int,
    every_row: bool = False,
) -> tuple[int, int]:
    """Read ``statement`` ($1 = as_of, $2 = window_start) through a server-side cursor,
    score it a chunk at a time and copy the results into ``value_stage`` (memory stays
    flat); the customers read and the changes found."""
    cursor = await driver.cursor(statement, window["as_of"], window["window_start"])
    customers = changes = 0
    rows = await cursor.fetch(chunk)
    while rows:
        # PostgreSQL produces the next chunk while this one is scored; the connection is
        # free again (for the copy) once it has arrived
        following = asyncio.ensure_future(cursor.fetch(chunk))
        await asyncio.sleep(0)
        scored = score(rows)
        rows = await following
        changes += await _write_chunk(driver, scored, every_row=every_row)
        customers += len(scored)
    return customers, changes


async def run_full_evaluation(
    session: AsyncSession, *, as_of: datetime, once_per_day: bool, chunk: int = 5_000
) -> EvaluationReport | None:
    """Evaluate every customer at ``as_of`` and rank value classes.

    One evaluation per calendar day of ``as_of`` (in its time zone). ``once_per_day``: when
    that day was evaluated already (by this or another instance) return None and do
    nothing; otherwise that day's evaluation is replaced. Rows are read through a
    server-side cursor, scored a chunk at a time and copied into a staging table, so memory
    stays flat; one statement merges them. Only rows that change are written (a day's
    evaluation changes a few thousand of a million); the others keep their row.
    """
    as_of = as_of.astimezone(shop_zone())
    rules = await rules_in_force(session)
    if not await _claim_day(session, as_of, rules.version, once_per_day):
        return None
    last_full = as_of  # nobody's first sale is after this evaluation: nobody stays "new"
    driver = await driver_connection(session)
    await driver.execute(_STAGE_SQL)
    await driver.execute(_WORK_MEM_SQL)
    matcher = SegmentMatcher(rules.segments)

    def score(rows: list[asyncpg.Record]) -> list[Scored]:
        limits = class_limits(rows[0]["ranked"] or 0, rules)  # every row carries the count
        return [
            score_row(
                row, rules=rules, as_of=as_of, last_full=last_full, limits=limits, matcher=matcher
            )
            for row in rows
        ]

    customers, changes = await _score_through(
        driver, FULL_SQL, _window(as_of, rules), score, chunk=chunk
    )
    await session.execute(_MERGE_STAGE_SQL)
    await session.execute(
        text(
            "UPDATE value_evaluations SET customers = :customers, changes = :changes,"
            " finished_at = now() WHERE as_of_day = :day"
        ),
        {"customers": customers, "changes": changes, "day": as_of.date()},
    )
    return EvaluationReport(as_of, customers, changes, rules.version)


_TARGETS_SQL = """
CREATE TEMP TABLE value_targets (customer_id bigint PRIMARY KEY) ON COMMIT DROP
"""


async def rescore_selected(
    session: AsyncSession, targets: str, *args: object, now: datetime, chunk: int = 5_000
) -> int:
    """Rescore at ``now`` the customers the query ``targets`` selects (one column of
    customer ids, ``$n`` parameters ``args``): what ``rescore_customers`` does for each,
    set-based, through the full evaluation's path (one read through a cursor, scored a chunk
    at a time, copied, one merge). Value classes are kept. Every selected customer's row is
    written (``evaluated_at`` = ``now``), changed or not. How many were rescored."""
    now = now.astimezone(shop_zone())
    rules = await rules_in_force(session)
    last_full = await last_full_evaluation(session)
    driver = await driver_connection(session)
    await driver.execute(_TARGETS_SQL)
    await driver.execute(
        f"INSERT INTO value_targets {targets} ON CONFLICT DO NOTHING",
        *args,
    )
    await driver.execute("ANALYZE value_targets")
    await driver.execute(_STAGE_SQL)
    await driver.execute(_WORK_MEM_SQL)
    matcher = SegmentMatcher(rules.segments)

    def score(rows: list[asyncpg.Record]) -> list[Scored]:
        return [
            score_row(
                row, rules=rules, as_of=now, last_full=last_full, limits=None, matcher=matcher
            )
            for row in rows
        ]

    customers, _ = await _score_through(
        driver, SELECTED_SQL, _window(now, rules), score, chunk=chunk, every_row=True
    )
    await session.execute(_MERGE_STAGE_SQL)
    return customers


def _change_record(change: dict[str, Any]) -> tuple[Any, ...]:
    import orjson

    figures = orjson.dumps(change["figures"]).decode()
    return tuple(figures if c == "figures" else change[c] for c in CHANGE_COLUMNS)


async def _claim_day(
    session: AsyncSession, as_of: datetime, version: int, once_per_day: bool
) -> bool:
    """Take the evaluation of ``as_of``'s day. Concurrent claims of one day wait on its
    unique key: the first to commit evaluates, the others find it taken."""
    day: date = as_of.date()
    statement = insert(ValueEvaluation).values(as_of=as_of, as_of_day=day, rules_version=version)
    if once_per_day:
        claimed = await session.scalar(
            statement.on_conflict_do_nothing(index_elements=["as_of_day"]).returning(
                ValueEvaluation.id
            )
        )
        return claimed is not None
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["as_of_day"],
            set_={
                "as_of": as_of,
                "rules_version": version,
                "finished_at": None,
                "started_at": func.now(),
            },
        )
    )
    return True


# ------------------------------------------------------------------ blocking


async def set_blocked(
    session: AsyncSession, customer_id: int, reason: str | None, *, now: datetime
) -> None:
    """Block the customer with ``reason`` (None: unblock), then rescore them."""
    await session.execute(
        insert(CustomerValue)
        .values(customer_id=customer_id, status="prospect", blocked_reason=reason, evaluated_at=now)
        .on_conflict_do_update(index_elements=["customer_id"], set_={"blocked_reason": reason})
    )
    await rescore_customers(session, [customer_id], now=now)


async def segment_sizes(session: AsyncSession) -> dict[str, int]:
    """Members of each segment, as of each customer's latest evaluation."""
    name = func.unnest(CustomerValue.segments).label("name")
    rows = await session.execute(select(name, func.count()).group_by(name))
    return {str(segment): int(count) for segment, count in rows.all()}


async def value_row(session: AsyncSession, customer_id: int) -> CustomerValue | None:
    return await session.get(CustomerValue, customer_id)


async def value_changes(
    session: AsyncSession, customer_id: int, limit: int = 100
) -> list[CustomerValueChange]:
    return list(
        await session.scalars(
            select(CustomerValueChange)
            .where(CustomerValueChange.customer_id == customer_id)
            .order_by(CustomerValueChange.id.desc())
            .limit(limit)
        )
    )


def shop_zone() -> ZoneInfo:
    """``CONTACTD_TIMEZONE``: calendar months and days of evaluations are counted there."""
    return get_settings().zone


async def require_customer(session: AsyncSession, customer_id: int) -> None:
    from app.customers.models import Customer

    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.", details={"customer_id": customer_id})
