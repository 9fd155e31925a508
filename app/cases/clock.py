"""The SLA clock's shell: a case's events out of PostgreSQL, the pure clock, and the timer
rows the runner fires (``case_sla_timers``), kept in step in the caller's unit of work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.core.events import CaseEventView, clock_facts
from app.cases.core.sla import SlaStatus, Target, sla_status
from app.cases.models import Case, CaseEvent, CaseSlaTimer
from app.cases.schemas import SlaClockOut
from app.cases.settings_schemas import CasesSettings, SlaPolicy


async def events_of(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[CaseEvent]]:
    """Each case's events in log order."""
    found: dict[int, list[CaseEvent]] = defaultdict(list)
    if not case_ids:
        return found
    rows = await session.scalars(
        select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).order_by(CaseEvent.id)
    )
    for event in rows:
        found[event.case_id].append(event)
    return found


def status_of(
    case: Case,
    events: Iterable[CaseEvent],
    settings: CasesSettings,
    queue: str | None,
    now: datetime,
) -> SlaStatus | None:
    """The case's SLA at ``now``; None when it has no policy."""
    if case.policy is None:
        return None
    targets = SlaPolicy.model_validate(case.policy).to_core().targets
    views = [CaseEventView(e.kind, e.occurred_at, e.payload) for e in events]
    return sla_status(targets, settings.calendar_for(queue), clock_facts(views), now)


async def refresh_timers(
    session: AsyncSession,
    case: Case,
    queue: str | None,
    settings: CasesSettings,
    now: datetime,
) -> SlaStatus | None:
    """Recompute the case's SLA and make its unfired timer rows match: projected instants
    of running clocks, past instants of stopped ones; the rest go. Fired rows stay as they
    are, so a warning or breach is never fired twice. Flushes."""
    await session.flush()
    events = (await events_of(session, [case.id]))[case.id]
    status = status_of(case, events, settings, queue, now)
    timers = [] if status is None else list(status.timers)
    keys = [(t.target.value, t.cycle, t.level) for t in timers]
    stale = delete(CaseSlaTimer).where(
        CaseSlaTimer.case_id == case.id, CaseSlaTimer.fired_at.is_(None)
    )
    if keys:
        stale = stale.where(
            tuple_(CaseSlaTimer.target, CaseSlaTimer.cycle, CaseSlaTimer.level).not_in(keys)
        )
    await session.execute(stale)
    if timers:
        upsert = insert(CaseSlaTimer).values(
            [
                {
                    "case_id": case.id,
                    "target": t.target.value,
                    "cycle": t.cycle,
                    "level": t.level,
                    "due_at": t.due_at,
                }
                for t in timers
            ]
        )
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["case_id", "target", "cycle", "level"],
                set_={"due_at": upsert.excluded.due_at},
                where=CaseSlaTimer.fired_at.is_(None),
            )
        )
    return status


def sla_out(status: SlaStatus | None) -> dict[str, SlaClockOut | None]:
    """Per target, its latest cycle (``breached``: any cycle of the target was missed)."""
    out: dict[str, SlaClockOut | None] = {}
    for target in Target:
        clock = None if status is None else status.latest(target)
        if clock is None or status is None:
            out[target.value] = None
            continue
        out[target.value] = SlaClockOut(
            state=clock.state,
            cycle=clock.cycle,
            due_at=clock.due_at if clock.state == "running" or clock.breached else None,
            warn_at=clock.warn_at,
            breached=status.breached(target),
            elapsed_fraction=round(clock.fraction, 4),
            allowed_minutes=round(clock.allowed.total_seconds() / 60, 2),
            remaining_minutes=round(clock.remaining.total_seconds() / 60, 2),
            stopped_at=clock.stopped_at,
        )
    return out
