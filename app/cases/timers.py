"""The SLA timer runner inside ``contactd serve``: fires each warning and breach exactly
once, across restarts and any number of instances.

Every instance polls ``case_sla_timers`` for rows due and not fired, and claims them with
``FOR UPDATE OF timer, case SKIP LOCKED``: two instances never claim the same row, and
neither waits for the other or for a request changing the case. In the claiming
transaction the runner checks the timer against the case's recomputed SLA, records the
``sla_warning`` / ``sla_breach`` event (and the escalation of a breach), and sets
``fired_at``: the event and the mark commit together or not at all, so a timer is fired
once and a crash before the commit leaves it due for the next poll.

The alarm goes out after the commit (to supervisors over ``/ws/supervisor``, to the owner's
console over ``/ws/agent``) and ``notified_at`` is set then. A timer fired but not notified
(the process died in between) is published again after ``RENOTIFY_AFTER``: delivery is at
least once, each alarm carries its event id (``event_id``) to tell a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import FastAPI
from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases import clock
from app.cases.core.policy import raised
from app.cases.models import Case, CaseSlaTimer
from app.cases.service import move_state, queue_id_of, queue_name_of, record_event
from app.cases.settings_schemas import CasesSettings, SlaPolicy
from app.cases.settings_service import current_settings
from app.database import Database, after_commit
from app.errors import InvalidInput
from app.events.bus import EventBus
from app.resilience.reconnect import report_failure
from app.supervisor.consult import consult_topics
from app.users.models import User

log = structlog.get_logger(__name__)

POLL_SECONDS = 1.0
BATCH = 100
RENOTIFY_AFTER = timedelta(seconds=30)

Alarm = dict[str, Any]
Key = tuple[int, str, int, str]


def _key(timer: CaseSlaTimer) -> Key:
    return (timer.case_id, timer.target, timer.cycle, timer.level)


def _claim(now: datetime, fired: bool) -> Any:
    query = select(CaseSlaTimer, Case).join(Case, Case.id == CaseSlaTimer.case_id)
    if fired:
        query = query.where(
            CaseSlaTimer.fired_at.is_not(None),
            CaseSlaTimer.notified_at.is_(None),
            CaseSlaTimer.fired_at <= now - RENOTIFY_AFTER,
        ).order_by(CaseSlaTimer.fired_at)
    else:
        query = query.where(CaseSlaTimer.fired_at.is_(None), CaseSlaTimer.due_at <= now).order_by(
            CaseSlaTimer.due_at
        )
    return query.limit(BATCH).with_for_update(of=[CaseSlaTimer, Case], skip_locked=True)


async def _alarm(
    session: AsyncSession, timer: CaseSlaTimer, case: Case, escalated: dict[str, Any] | None
) -> tuple[Alarm, str | None]:
    owner = None if case.owner_id is None else await session.get(User, case.owner_id)
    alarm = {
        "type": "case_sla",
        "level": timer.level,
        "event_id": timer.event_id,
        "case_id": case.id,
        "customer_id": case.customer_id,
        "case_type": case.type,
        "target": timer.target,
        "cycle": timer.cycle,
        "due_at": timer.due_at.isoformat(),
        "owner_id": case.owner_id,
        "queue": await queue_name_of(session, case),
        "priority": case.priority,
        "escalated": escalated,
    }
    return alarm, None if owner is None else owner.team


async def _escalate(
    session: AsyncSession, case: Case, settings: CasesSettings, now: datetime
) -> dict[str, Any] | None:
    """Apply the policy's escalation of a breach: queue and/or a higher priority."""
    policy = None if case.policy is None else SlaPolicy.model_validate(case.policy)
    rule = None if policy is None else policy.escalate_on_breach
    if rule is None:
        return None
    before = {"queue": await queue_name_of(session, case), "priority": case.priority}
    if rule.queue is not None:
        try:
            case.queue_id = await queue_id_of(session, rule.queue)
        except InvalidInput:  # a queue deleted since the policy was published: keep the case's
            log.warning("case_escalation_queue_missing", case_id=case.id)
    case.priority = raised(case.priority, rule.priority)
    after = {"queue": await queue_name_of(session, case), "priority": case.priority}
    if after == before:
        return None
    record_event(session, case, "escalated", now, None, {"from": before, "to": after})
    case.updated_at = now
    await clock.refresh_timers(session, case, after["queue"], settings, now)
    return after


async def _fire(
    session: AsyncSession,
    timer: CaseSlaTimer,
    case: Case,
    settings: CasesSettings,
    now: datetime,
    instance: str,
) -> bool:
    """Fire one claimed timer if the case's SLA still has it due (False: it is stale and
    the case's timers are brought in step instead)."""
    queue = await queue_name_of(session, case)
    events = (await clock.events_of(session, [case.id]))[case.id]
    status = clock.status_of(case, events, settings, queue, now)
    due = [] if status is None else status.due(now)
    if not any(
        (t.target.value, t.cycle, t.level) == (timer.target, timer.cycle, timer.level) for t in due
    ):
        await clock.refresh_timers(session, case, queue, settings, now)
        return False
    fired = {"target": timer.target, "cycle": timer.cycle, "due_at": timer.due_at.isoformat()}
    event = record_event(session, case, f"sla_{timer.level}", now, None, fired)
    await session.flush()
    timer.fired_at, timer.fired_by, timer.event_id = now, instance, event.id
    return True


async def fire_due(
    db: Database, bus: EventBus, instance: str, now: datetime | None = None
) -> list[Alarm]:
    """Claim and fire the timers due at ``now`` (one batch, one transaction); the alarms,
    published once the transaction has committed."""
    now = now or datetime.now(UTC)
    alarms: list[tuple[Alarm, str | None]] = []
    async with db.unit_of_work() as session:
        claimed = (await session.execute(_claim(now, fired=False))).all()
        if not claimed:
            return []
        settings = await current_settings(session)
        keys = []
        for timer, case in claimed:
            if not await _fire(session, timer, case, settings, now, instance):
                continue
            escalated = None
            if timer.level == "breach":
                escalated = await _escalate(session, case, settings, now)
            alarms.append(await _alarm(session, timer, case, escalated))
            keys.append(_key(timer))
        await session.flush()
        after_commit(session, lambda: _publish(db, bus, alarms, keys))
    return [alarm for alarm, _ in alarms]


async def renotify(db: Database, bus: EventBus, now: datetime | None = None) -> int:
    """Publish again the alarms of timers fired at least ``RENOTIFY_AFTER`` ago whose
    publication was never confirmed; how many."""
    now = now or datetime.now(UTC)
    async with db.unit_of_work() as session:
        claimed = (await session.execute(_claim(now, fired=True))).all()
        alarms = [await _alarm(session, timer, case, None) for timer, case in claimed]
        for alarm, team in alarms:
            await _send(bus, alarm, team)
        for timer, _ in claimed:
            timer.notified_at = now
    return len(alarms)


async def _send(bus: EventBus, alarm: Alarm, team: str | None) -> None:
    for topic in consult_topics(team):
        await bus.publish(topic, alarm)
    if alarm["owner_id"] is not None:
        await bus.publish(f"agent:{alarm['owner_id']}", alarm)


async def _publish(
    db: Database, bus: EventBus, alarms: list[tuple[Alarm, str | None]], keys: list[Key]
) -> None:
    for alarm, team in alarms:
        await _send(bus, alarm, team)
    if not keys:
        return
    async with db.unit_of_work() as session:
        columns = (
            CaseSlaTimer.case_id,
            CaseSlaTimer.target,
            CaseSlaTimer.cycle,
            CaseSlaTimer.level,
        )
        await session.execute(
            update(CaseSlaTimer)
            .where(tuple_(*columns).in_(keys))
            .values(notified_at=datetime.now(UTC))
        )


async def close_resolved(db: Database, now: datetime | None = None) -> int:
    """Close the cases resolved longer ago than the reopen period (the customer can no
    longer reopen them); how many. Claimed like timers, so instances share the work."""
    now = now or datetime.now(UTC)
    async with db.unit_of_work() as session:
        settings = await current_settings(session)
        cases = list(
            await session.scalars(
                select(Case)
                .where(Case.state == "resolved", Case.resolved_at < now - settings.reopen_within)
                .order_by(Case.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for case in cases:
            move_state(session, case, "closed", None, now, "reopen_period_over")
            queue = await queue_name_of(session, case)
            await clock.refresh_timers(session, case, queue, settings, now)
    return len(cases)


class TimerRunner:
    """The loop: fire what is due, publish what was not confirmed, close what can no longer
    be reopened, sleep ``poll_seconds``."""

    def __init__(
        self, db: Database, bus: EventBus, instance: str, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.db, self.bus, self.instance, self.poll_seconds = db, bus, instance, poll_seconds
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            try:
                while len(await fire_due(self.db, self.bus, self.instance)) >= BATCH:
                    pass
                await renotify(self.db, self.bus)
                await close_resolved(self.db)
            except Exception as exc:  # a failed round must not end the runner
                report_failure("case_timers_failed", exc)
            await asyncio.sleep(self.poll_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="cases:timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    runner = TimerRunner(app.state.db, app.state.bus, app.state.instance)
    runner.start()
    app.state.case_timers = runner
    try:
        yield
    finally:
        await runner.stop()
