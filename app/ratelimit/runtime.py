"""The purge of expired request counters inside ``contactd serve``.

Every ``PURGE_EVERY_SECONDS`` (and once at start) each instance deletes the counters whose
window has ended (``core.expired_before``), in short batches (``service.purge_expired``).
Instances may purge at the same time: each skips the rows another holds, and deleting an
expired row twice is deleting it once.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI

from app.config import Settings
from app.database import Database
from app.ratelimit.core import expired_before
from app.ratelimit.service import purge_expired
from app.resilience.reconnect import report_failure
from app.runtime import background

log = structlog.get_logger(__name__)

PURGE_EVERY_SECONDS = 300.0


def longest_window_seconds(settings: Settings) -> float:
    """The longest window of any limit counted in ``request_counters`` (the chat starts')."""
    return settings.chat_session_window_seconds


async def purge_periodically(db: Database, settings: Settings) -> None:
    while True:
        cutoff = expired_before(datetime.now(UTC), longest_window_seconds(settings))
        try:
            deleted = await purge_expired(db, cutoff)
        except Exception as exc:  # a failed purge must not end the schedule
            report_failure("request_counters_purge_failed", exc)
        else:
            if deleted:
                log.info("request_counters_purged", deleted=deleted)
        await asyncio.sleep(PURGE_EVERY_SECONDS)


def running(app: FastAPI) -> AbstractAsyncContextManager[None]:
    job = purge_periodically(app.state.db, app.state.settings)
    return background(job, "request-counters-purge")
