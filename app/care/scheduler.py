"""The care scheduler inside ``contactd serve``, run by the routing leader only.

Every instance runs the loop; each round it asks whether this instance holds the router's
lease (``Distributor.is_leader``) and does nothing if not. The leader plans the local day
(``CONTACTD_TIMEZONE``) when it starts leading, again after each local midnight and again
when a rule changed (so a rule switched on at noon plans that day), then acts on the
touches due. Exactly once does not rest on there being one leader: planning
inserts ``ON CONFLICT DO NOTHING`` on ``(rule, customer, occurrence)`` and acting claims
touches ``FOR UPDATE SKIP LOCKED`` in the unit of work that mails or calls, so two
instances overlapping during a lease hand-over still create and act on each touch once.
The leader keeps the daily planning scan (a read over every customer's value) off the
instances serving agents.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import structlog
from fastapi import FastAPI

from app.care import service
from app.care.defaults import ensure_default_rules
from app.config import Settings
from app.database import Database
from app.resilience.reconnect import report_failure
from app.runtime import background

log = structlog.get_logger(__name__)


class CareScheduler:
    """One instance's loop: each round, if this instance leads, plan the day (when not yet
    planned here as of the rules in force) and act on the touches due."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        is_leader: Callable[[], bool],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db, self.settings, self.is_leader, self.clock = db, settings, is_leader, clock
        # what this instance last planned: the local day, as of the rules changed last
        self.planned: tuple[date, datetime | None] | None = None

    async def plan_today(self, now: datetime) -> None:
        today = now.astimezone(self.settings.zone).date()
        async with self.db.unit_of_work() as session:
            stamp = (today, await service.rules_changed_at(session))
            if self.planned == stamp:
                return
            touches, created = await service.create_day(session, today, self.settings)
        self.planned = stamp
        log.info("care_day_planned", day=today.isoformat(), planned=len(touches), created=created)

    async def dispatch_due(self, now: datetime) -> int:
        """Expire what an earlier day left pending, then act on the due touches batch by
        batch (a transaction each); how many were acted on."""
        async with self.db.unit_of_work() as session:
            await service.expire_past(session, now, self.settings)
        acted = 0
        while True:
            async with self.db.unit_of_work() as session:
                outcomes = await service.dispatch(session, now, self.settings)
            acted += sum(outcomes.values())
            if sum(outcomes.values()) < service.BATCH:
                return acted

    async def round(self) -> None:
        """Plan the day if not yet planned here, then act on what is due (leader only)."""
        if not self.is_leader():
            self.planned = None  # plan again on leading again: the day may have turned
            return
        now = self.clock()
        await self.plan_today(now)
        await self.dispatch_due(now)

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception as exc:  # a failed round must not end the scheduler
                report_failure("care_scheduler_failed", exc)
            await asyncio.sleep(self.settings.care_poll_seconds)


def _leads(app: FastAPI) -> bool:
    distributor = getattr(app.state, "distributor", None)
    return distributor is not None and bool(distributor.is_leader)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The default rules added if missing, then the scheduler for as long as it serves
    (unless ``CONTACTD_CARE_ENABLED=false``: days are then run by hand only)."""
    async with app.state.db.unit_of_work() as session:
        await ensure_default_rules(session)
    scheduler = CareScheduler(app.state.db, app.state.settings, lambda: _leads(app))
    app.state.care_scheduler = scheduler
    if not app.state.settings.care_enabled:
        yield
        return
    async with background(scheduler.run(), "care-scheduler"):
        yield
