"""Interval reports and the staffing table: the metrics core replayed over the event log."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.database import driver_connection
from app.errors import InvalidInput
from app.staffing import agents_needed
from app.supervisor.live import LOOKBACK_SECONDS, load_targets, to_event
from app.supervisor.metrics import (
    BREAKDOWNS,
    Aggregator,
    Buckets,
    QueueTally,
    replay,
    replay_by_group,
    value_figures,
    value_group,
)
from app.supervisor.views import DEFAULT_AHT_SECONDS

INTERVALS = {"15m": 900.0, "30m": 1800.0, "60m": 3600.0}
MAX_INTERVALS = 3000
WEEK = 7 * 86400.0

_EVENTS = """
SELECT id, kind, contact_id, agent_id, extract(epoch FROM occurred_at)::float8, payload
FROM contact_events
WHERE occurred_at >= to_timestamp($1) AND occurred_at < to_timestamp($2) ORDER BY id
"""

_CONTACT_EVENTS_WITH_VALUE = """
SELECT e.id, e.kind, e.contact_id, e.agent_id, extract(epoch FROM e.occurred_at)::float8,
       e.payload, c.value_tags
FROM contact_events e JOIN contacts c ON c.id = e.contact_id
WHERE e.occurred_at >= to_timestamp($1) AND e.occurred_at < to_timestamp($2) ORDER BY e.id
"""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _seconds(start: datetime, end: datetime) -> tuple[float, float]:
    a, b = start.timestamp(), end.timestamp()
    if not a < b:
        raise InvalidInput("'from' must be before 'to'.", code="bad_period")
    return a, b


def period(start: datetime, end: datetime, interval: str) -> Buckets:
    width = INTERVALS.get(interval)
    if width is None:
        raise InvalidInput(
            "interval must be 15m, 30m or 60m.", details={"interval": interval}, code="bad_interval"
        )
    a, b = _seconds(start, end)
    if (b - a) / width > MAX_INTERVALS:
        raise InvalidInput(f"At most {MAX_INTERVALS} intervals per report.", code="period_too_long")
    return Buckets(origin=a, width=width, start=a, end=b)


async def replay_period(session: AsyncSession, buckets: Buckets) -> Aggregator:
    """Events from a look-back before the period (to know the state) until its end."""
    conn = await driver_connection(session)
    targets = await load_targets(conn)
    rows = await conn.fetch(_EVENTS, buckets.start - LOOKBACK_SECONDS, buckets.end)
    return replay((to_event(r) for r in rows), buckets, targets)


def whole_period(start: datetime, end: datetime) -> Buckets:
    """One bucket over [start, end), as long as the longest interval report allows."""
    longest = MAX_INTERVALS * INTERVALS["60m"]
    a, b = _seconds(start, end)
    if b - a > longest:
        raise InvalidInput(
            f"A report covers at most {longest / 86400:.0f} days.", code="period_too_long"
        )
    return Buckets(origin=a, width=b - a, start=a, end=b)


def breakdown_groups(by: str) -> tuple[str, ...]:
    groups = BREAKDOWNS.get(by)
    if groups is None:
        raise InvalidInput(
            "by must be grade or value_class.", details={"by": by}, code="bad_breakdown"
        )
    return groups


async def replay_by_value(
    session: AsyncSession, buckets: Buckets, by: str
) -> dict[str, Aggregator]:
    """Contact events of the period (and the look-back), one aggregator per group of ``by``,
    each contact in the group of the value tags it arrived with."""
    conn = await driver_connection(session)
    targets = await load_targets(conn)
    rows = await conn.fetch(
        _CONTACT_EVENTS_WITH_VALUE, buckets.start - LOOKBACK_SECONDS, buckets.end
    )
    group_of = {r[2]: value_group(r[6], by) for r in rows}
    return replay_by_group((to_event(r) for r in rows), group_of, buckets, targets)


def _bucket_range(buckets: Buckets) -> range:
    first = buckets.of(buckets.start) or 0
    return range(first, first + math.ceil((buckets.end - buckets.start) / buckets.width))


def queue_rows(
    agg: Aggregator, queue: str | None, channel: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows per interval and queue, and the totals per queue over the whole period."""
    names = sorted(agg.queue_names() if queue is None else {queue})
    rows, totals = [], []
    for name in names:
        total = QueueTally()
        for bucket in _bucket_range(agg.buckets):
            tally = agg.queue_tally(name, [bucket], channel)
            total.add(tally)
            start, end = agg.buckets.bounds(bucket)
            rows.append(
                {"interval_start": _iso(start), "interval_end": _iso(end), "queue": name}
                | tally.figures()
            )
        totals.append({"queue": name} | total.figures())
    return rows, totals


def value_rows(
    groups: dict[str, Aggregator], by: str, queue: str | None, channel: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows per queue and group of ``by`` (every group, empty ones too), and the totals per
    group over the queues."""
    names: set[str] = set()
    for aggregator in groups.values():
        names |= aggregator.queue_names()
    rows, totals = [], []
    order = breakdown_groups(by)
    tallies = {group: QueueTally() for group in order}
    for name in sorted(names if queue is None else {queue}):
        for group in order:
            agg = groups.get(group)
            tally = QueueTally() if agg is None else agg.queue_tally(name, None, channel)
            tallies[group].add(tally)
            rows.append({"queue": name, by: group} | value_figures(tally))
    for group in order:
        totals.append({by: group} | value_figures(tallies[group]))
    return rows, totals


def agent_rows(agg: Aggregator, agent_id: int | None) -> list[dict[str, Any]]:
    agents = sorted({a for _, a in agg.agent_tallies} if agent_id is None else {agent_id})
    rows = []
    for agent in agents:
        for bucket in _bucket_range(agg.buckets):
            start, end = agg.buckets.bounds(bucket)
            rows.append(
                {"interval_start": _iso(start), "interval_end": _iso(end), "agent_id": agent}
                | agg.agent_tally(agent, bucket).figures()
            )
    return rows


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = "" if value is None else value
    return flat


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    flat = [_flat(r) for r in rows]
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval=0, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return out.getvalue()


def staffing_table(
    agg: Aggregator,
    weeks: int,
    shrinkage: float,
    queue: str | None,
) -> list[dict[str, Any]]:
    """Per queue and interval of the week: mean arrivals over the weeks, AHT, agents needed."""
    width = agg.buckets.width
    slots_per_week = round(WEEK / width)
    offered: dict[tuple[str, int], int] = defaultdict(int)
    work: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (bucket, name, _), tally in agg.queues.items():
        if queue is not None and name != queue:
            continue
        start = agg.buckets.origin + bucket * width
        slot = round((start % WEEK) / width) % slots_per_week
        offered[(name, slot)] += tally.offered
        work[(name, slot)][0] += tally.talk_seconds + tally.wrap_up_seconds
        work[(name, slot)][1] += tally.handled
    rows = []
    for (name, slot), count in sorted(offered.items()):
        seconds, handled = work[(name, slot)]
        aht = seconds / handled if handled and seconds > 0 else DEFAULT_AHT_SECONDS
        per_hour = count / weeks * 3600.0 / width
        target = agg.target(name)
        result = agents_needed(
            per_hour, aht, min(target.percent / 100.0, 0.999), target.seconds, shrinkage
        )
        start = slot * width  # seconds after Thursday 00:00 UTC (the epoch's weekday)
        rows.append(
            {
                "queue": name,
                "weekday": int((start // 86400 + 3) % 7),  # 0 = Monday
                "time": f"{int(start % 86400 // 3600):02d}:{int(start % 3600 // 60):02d}",
                "arrivals_per_interval": round(count / weeks, 3),
                "aht_seconds": round(aht, 3),
                "agents_needed": result.agents,
                "agents_to_schedule": result.agents_with_shrinkage,
                "predicted_service_level": round(100 * result.service_level, 3),
            }
        )
    return rows
