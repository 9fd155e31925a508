"""``GET /api/v1/reports/cases/sla``: SLA attainment of the cases opened in a period, per
case type, queue, agent (owner) or customer grade (the grade the case was opened with),
measured now."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import SupervisorUser
from app.cases import clock
from app.cases.core.attainment import attainment
from app.cases.core.sla import SlaStatus
from app.cases.models import Case
from app.cases.service import queue_names
from app.cases.settings_service import current_settings
from app.dependencies import SessionDep
from app.errors import InvalidInput

router = APIRouter(tags=["reports"])

By = Literal["type", "queue", "agent", "grade"]
CHUNK = 1000


async def _measured(
    session: AsyncSession, start: datetime, end: datetime, by: By, now: datetime
) -> AsyncIterator[tuple[str | None, SlaStatus | None]]:
    """(group key, SLA now) of every case created in [start, end), a chunk at a time."""
    settings = await current_settings(session)
    after = 0
    while True:
        cases = list(
            await session.scalars(
                select(Case)
                .where(Case.created_at >= start, Case.created_at < end, Case.id > after)
                .order_by(Case.id)
                .limit(CHUNK)
            )
        )
        if not cases:
            return
        after = cases[-1].id
        events = await clock.events_of(session, [c.id for c in cases])
        names = await queue_names(session, [c.queue_id for c in cases])
        for case in cases:
            queue = names.get(case.queue_id or 0)
            status = clock.status_of(case, events[case.id], settings, queue, now)
            yield _key(case, by, queue, events[case.id]), status


def _key(case: Case, by: By, queue: str | None, events: list[Any]) -> str | None:
    if by == "type":
        return case.type
    if by == "queue":
        return queue
    if by == "agent":
        return None if case.owner_id is None else str(case.owner_id)
    created = next((e for e in events if e.kind == "created"), None)
    grade = None if created is None else created.payload.get("grade")
    return None if grade is None else str(grade)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@router.get("/api/v1/reports/cases/sla", summary="SLA attainment per type, queue, agent, grade")
async def case_sla_report(
    session: SessionDep,
    _: SupervisorUser,
    start: Annotated[datetime, Query(alias="from")],
    to: datetime,
    by: By = "type",
) -> dict[str, Any]:
    """Per group and target (``first_response``, ``next_response``, ``resolution``): met,
    breached, still running, and attainment % (met of the decided). Groups: ``agent`` is
    the owner's user id, ``grade`` the customer's grade when the case was opened."""
    begin, end = _aware(start), _aware(to)
    if end <= begin:
        raise InvalidInput("'to' must be after 'from'.", code="invalid_period")
    now = datetime.now(UTC)
    items = [item async for item in _measured(session, begin, end, by, now)]
    rows, totals = attainment(items)
    return {"from": begin, "to": end, "by": by, "rows": rows, "totals": totals}
