"""The daily full evaluation inside ``contactd serve``.

Every instance runs the schedule; the evaluation of a day is claimed in the database
(``value_evaluations.as_of_day`` is unique), so the first instance evaluates and the others
find the day taken. A day missed by every instance is covered by the next day's run or by
``contactd customers score``.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import structlog
from fastapi import FastAPI

from app.config import Settings
from app.customers.value.schedule import next_run
from app.customers.value.service import run_full_evaluation
from app.database import Database
from app.resilience.reconnect import report_failure
from app.runtime import background

log = structlog.get_logger(__name__)


async def evaluate_daily(db: Database, settings: Settings) -> None:
    zone = settings.zone
    while True:
        due = next_run(datetime.now(UTC), settings.value_evaluation_time, zone)
        await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds(), 0.0))
        try:
            async with db.unit_of_work() as session:
                report = await run_full_evaluation(session, as_of=due, once_per_day=True)
        except Exception as exc:  # a failed run must not end the schedule
            report_failure("value_evaluation_failed", exc)
            continue
        if report is not None:
            log.info("value_evaluation_done", customers=report.customers, changes=report.changes)


def running(app: FastAPI) -> AbstractAsyncContextManager[None]:
    return background(evaluate_daily(app.state.db, app.state.settings), "value-evaluation")
