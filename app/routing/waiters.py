"""Callers waiting for the router to apply their requests, served in bulk.

A console command or an HTTP request that changes routing writes an inbox row, commits,
then waits for the router's answer. A shift of agents logging in at 09:00 is thousands of
such waits at once; each polling the database for its own row would take a pooled
connection per poll and starve everybody else. So waits are futures in one table:

- the router in this process hands over the results it has just committed (no read);
- a router in another process NOTIFYs the ids it applied, and one query reads them all;
- a single poll every ``poll_seconds`` reads whatever is still pending, one query for all,
  as a safety net for a NOTIFY that came before the caller started waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.database import Database
from app.routing.models import RoutingInbox

Result = dict[str, Any]
log = structlog.get_logger(__name__)


class RequestWaiters:
    def __init__(self, db: Database, *, poll_seconds: float = 0.5, remember: int = 10_000):
        self.db = db
        self.poll_seconds = poll_seconds
        self.remember = remember
        self._pending: dict[int, list[asyncio.Future[Result]]] = {}
        self._recent: OrderedDict[int, Result] = (
            OrderedDict()
        )  # applied here, maybe not awaited yet
        self._fetch_now = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def wait(self, inbox_id: int, wait_seconds: float) -> Result | None:
        """The router's result for ``inbox_id``; None if it has not answered in time."""
        known = self._recent.get(inbox_id)
        if known is not None:
            return known
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(inbox_id, []).append(future)
        self._ensure_polling()
        try:
            return await asyncio.wait_for(future, wait_seconds)
        except TimeoutError:
            return None
        finally:
            self._forget(inbox_id, future)

    def applied_here(self, results: dict[int, Result]) -> None:
        """Results the router in this process has just committed."""
        for inbox_id, result in results.items():
            self._recent[inbox_id] = result
            self._resolve(inbox_id, result)
        while len(self._recent) > self.remember:
            self._recent.popitem(last=False)

    def applied_elsewhere(self) -> None:
        """Another process's router applied some requests: read the results of ours."""
        if self._pending:
            self._fetch_now.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for futures in self._pending.values():
            for future in futures:
                future.cancel()

    def _ensure_polling(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="routing-request-waiters")

    async def _poll(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._fetch_now.wait(), self.poll_seconds)
            self._fetch_now.clear()
            if not self._pending:
                break
            try:
                await self._fetch(list(self._pending))
            except (OSError, SQLAlchemyError):
                log.warning("routing_results_unreadable")  # waits time out as "pending"

    async def _fetch(self, ids: list[int]) -> None:
        async with self.db.sessionmaker() as session:
            rows = await session.execute(
                select(RoutingInbox.id, RoutingInbox.result).where(
                    RoutingInbox.id.in_(ids), RoutingInbox.result.is_not(None)
                )
            )
            for inbox_id, result in rows:
                self._resolve(inbox_id, result)

    def _resolve(self, inbox_id: int, result: Result) -> None:
        for future in self._pending.pop(inbox_id, []):
            if not future.done():
                future.set_result(result)

    def _forget(self, inbox_id: int, future: asyncio.Future[Result]) -> None:
        futures = self._pending.get(inbox_id)
        if futures is None:
            return
        with contextlib.suppress(ValueError):
            futures.remove(future)
        if not futures:
            del self._pending[inbox_id]
