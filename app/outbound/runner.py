"""The retry runner inside ``contactd serve``: starts each scheduled outbound attempt once it
is due, exactly once, across restarts and instances.

It runs on the routing leader only (``Distributor.is_leader``, checked every round), and
claims due rows of ``outbound_attempts`` with ``FOR UPDATE SKIP LOCKED`` like the case SLA
timers (``app.cases.timers``): the attempt's contact and the row's ``state = 'started'``
commit together or not at all, so a crash before the commit leaves the attempt due for the
next round, and a started attempt is never claimed again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import select

from app.database import Database
from app.outbound.models import OutboundAttempt, OutboundCall
from app.outbound.service import start_due_attempt
from app.resilience.reconnect import report_failure

POLL_SECONDS = 1.0
BATCH = 50


async def fire_due(db: Database, now: datetime | None = None) -> list[int]:
    """Claim and start the attempts due at ``now`` (one batch, one transaction); the
    contacts started."""
    now = now or datetime.now(UTC)
    started: list[int] = []
    async with db.unit_of_work() as session:
        claimed = (
            await session.execute(
                select(OutboundAttempt, OutboundCall)
                .join(OutboundCall, OutboundCall.id == OutboundAttempt.call_id)
                .where(OutboundAttempt.state == "scheduled", OutboundAttempt.due_at <= now)
                .order_by(OutboundAttempt.due_at)
                .limit(BATCH)
                .with_for_update(of=[OutboundAttempt, OutboundCall], skip_locked=True)
            )
        ).all()
        for attempt, call in claimed:
            contact_id = await start_due_attempt(session, call, attempt, now)
            if contact_id is not None:
                started.append(contact_id)
        await session.flush()
    return started


class RetryRunner:
    """The loop: on the leader, start what is due; sleep ``poll_seconds``."""

    def __init__(self, app: FastAPI, poll_seconds: float = POLL_SECONDS) -> None:
        self.app, self.poll_seconds = app, poll_seconds
        self._task: asyncio.Task[None] | None = None

    def _leading(self) -> bool:
        distributor = getattr(self.app.state, "distributor", None)
        return distributor is not None and bool(distributor.is_leader)

    async def run(self) -> None:
        while True:
            try:
                if self._leading():
                    while len(await fire_due(self.app.state.db)) >= BATCH:
                        pass
            except Exception as exc:  # a failed round must not end the runner
                report_failure("outbound_retries_failed", exc)
            await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbound:retries")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    runner = RetryRunner(app)
    runner.start()
    app.state.outbound_retries = runner
    try:
        yield
    finally:
        await runner.stop()
