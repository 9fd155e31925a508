"""Expired request counters are deleted; counters of a window still open stay.

Through ``app.ratelimit.service.purge_expired`` (batched) and through ``contactd serve``'s
periodic purge, which runs once at start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from app.database import Database, create_engine, libpq_url
from app.main import create_app
from app.ratelimit.core import expired_before
from app.ratelimit.service import purge_expired
from tests.conftest import make_settings
from tests.helpers import eventually

WINDOW_SECONDS = 60.0


async def _insert_counters(url: str, started: dict[str, datetime]) -> None:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.executemany(
            "INSERT INTO request_counters (kind, key, window_started_at, count)"
            " VALUES ('chat_start_address', $1, $2, 3)",
            list(started.items()),
        )
    finally:
        await conn.close()


async def _keys(url: str) -> set[str]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch("SELECT key FROM request_counters")
    finally:
        await conn.close()
    return {row["key"] for row in rows}


async def test_expired_windows_go_in_batches_and_open_ones_stay(clean_db: str) -> None:
    now = datetime.now(UTC)
    expired = {f"old-{n}": now - timedelta(seconds=WINDOW_SECONDS + 1 + n) for n in range(7)}
    current = {"fresh": now - timedelta(seconds=1), "edge": now - timedelta(seconds=59)}
    await _insert_counters(clean_db, {**expired, **current})
    db = Database(create_engine(clean_db))
    try:
        deleted = await purge_expired(db, expired_before(now, WINDOW_SECONDS), batch=3)
    finally:
        await db.dispose()
    assert deleted == len(expired)
    assert await _keys(clean_db) == set(current)


async def test_serve_purges_expired_counters(clean_db: str) -> None:
    now = datetime.now(UTC)
    await _insert_counters(
        clean_db, {"old": now - timedelta(hours=2), "fresh": now - timedelta(seconds=1)}
    )
    app = create_app(
        make_settings(chat_session_window_seconds=WINDOW_SECONDS), database_url=clean_db
    )
    async with app.router.lifespan_context(app):

        async def only_fresh_left() -> bool:
            return await _keys(clean_db) == {"fresh"}

        await eventually(only_fresh_left)
