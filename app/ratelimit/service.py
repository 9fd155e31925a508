"""Counting a request against a limit, atomically across instances."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import text
from starlette.requests import HTTPConnection

from app.database import Database
from app.errors import TooManyRequests
from app.ratelimit.core import Limit, Window, retry_after

# One statement, so that two instances counting the same key at once never both see room:
# the row lock of ON CONFLICT serializes them. The CASE is ``core.after_request``.
_COUNT_SQL = text(
    """
    INSERT INTO request_counters AS c (kind, key, window_started_at, count)
    VALUES (:kind, :key, :now, 1)
    ON CONFLICT (kind, key) DO UPDATE SET
        window_started_at = CASE WHEN :now - c.window_started_at >= :window
                                 THEN :now ELSE c.window_started_at END,
        count = CASE WHEN :now - c.window_started_at >= :window THEN 1 ELSE c.count + 1 END
    RETURNING window_started_at, count
    """
)


def client_address(connection: HTTPConnection, forwarded_for_header: str | None) -> str:
    """The client's address: the connecting peer's, or behind a trusted proxy the last
    entry of the header it sets (``CONTACTD_FORWARDED_FOR_HEADER``); any other header a
    client sends is ignored, since a client can write anything there."""
    if forwarded_for_header:
        entries = [e.strip() for e in connection.headers.get(forwarded_for_header, "").split(",")]
        if entries and entries[-1]:
            return entries[-1]
    return connection.client.host if connection.client is not None else "unknown"


def address_key(address: str) -> str:
    """The key for a client address: its SHA-256, so no address is stored."""
    return hashlib.sha256(address.encode()).hexdigest()


async def take(db: Database, kind: str, key: str, limit: Limit, now: datetime) -> Window:
    """Count one request for ``key`` in a transaction of its own (the count stands even if
    the request then fails), and raise ``TooManyRequests`` (429 ``rate_limited``, with
    ``Retry-After``) when it is over the limit."""
    async with db.unit_of_work() as session:
        started, count = (
            await session.execute(
                _COUNT_SQL,
                {
                    "kind": kind,
                    "key": key[:256],
                    "now": now,
                    "window": timedelta(seconds=limit.window_seconds),
                },
            )
        ).one()
    window = Window(started=started.timestamp(), count=count)
    wait = retry_after(window, limit, now.timestamp())
    if wait is not None:
        raise TooManyRequests(
            f"Too many requests; try again in {int(wait) + 1} s.",
            retry_after=wait,
            code="rate_limited",
        )
    return window


# One batch: the oldest rows first, by key, skipping any row a request is counting right
# now, so a purge never waits for a request nor a request for the purge.
_PURGE_SQL = text(
    """
    DELETE FROM request_counters AS c
    USING (
        SELECT kind, key FROM request_counters
        WHERE window_started_at < :cutoff
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    ) AS expired
    WHERE c.kind = expired.kind AND c.key = expired.key
    """
)
PURGE_BATCH = 1000


async def purge_expired(db: Database, cutoff: datetime, batch: int = PURGE_BATCH) -> int:
    """Delete every counter whose window started before ``cutoff``, ``batch`` rows per
    transaction (each short, its locks released at once); the number deleted."""
    deleted = 0
    while True:
        async with db.unit_of_work() as session:
            result = await session.execute(_PURGE_SQL, {"cutoff": cutoff, "batch": batch})
        count = int(getattr(result, "rowcount", 0) or 0)
        deleted += count
        if count < batch:
            return deleted
