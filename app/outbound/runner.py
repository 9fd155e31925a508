"""The retry runner inside ``contactd serve``: starts each scheduled outbound attempt once it
is due, exactly once, across restarts and instances; and settles each try whose contact
ended with nobody settling it (no disposition, or abandoned by a supervisor), so that no
call stays ``active`` for ever.

It runs on the routing leader only (``Distributor.is_leader``, checked every round), and
claims due rows of ``outbound_attempts`` with ``FOR UPDATE SKIP LOCKED`` like the case SLA
timers (``app.cases.timers``): the attempt's contact and the row's ``state = 'started'``
commit together or not at all, so a crash before the commit leaves the attempt due for the
next round, and a started attempt is never claimed again.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from app.contacts.models import Contact
from app.database import Database
from app.outbound.attempts import leg_of, settle
from app.outbound.core import disposition_at_end
from app.outbound.models import OutboundAttempt, OutboundCall
from app.outbound.service import start_due_attempt
from app.resilience.reconnect import report_failure
from app.runtime import background

POLL_SECONDS = 1.0
BATCH = 50
FINISHED_STATES = ("ended", "abandoned")
SETTLE_AFTER = timedelta(seconds=30)
"""How long after its contact ended a try is settled here: the agent's disposition, the
provider's last status and their webhooks come first."""


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


async def settle_ended(db: Database, now: datetime | None = None) -> list[int]:
    """Settle the started tries whose contact finished (ended or abandoned)
    ``SETTLE_AFTER`` ago or more with
    nobody settling them (``core.disposition_at_end``); the contacts settled."""
    now = now or datetime.now(UTC)
    settled: list[int] = []
    async with db.unit_of_work() as session:
        stuck = (
            await session.scalars(
                select(Contact)
                .join(OutboundAttempt, OutboundAttempt.contact_id == Contact.id)
                .where(
                    OutboundAttempt.state == "started",
                    Contact.state.in_(FINISHED_STATES),
                    func.coalesce(Contact.ended_at, Contact.abandoned_at) <= now - SETTLE_AFTER,
                )
                .order_by(Contact.id)
                .limit(BATCH)
                .with_for_update(of=Contact, skip_locked=True)
            )
        ).all()
        for contact in stuck:
            answered = bool(leg_of(contact).get("answered"))
            await settle(session, contact, disposition_at_end(contact.disposition, answered), now)
            settled.append(contact.id)
    return settled


def _leading(app: FastAPI) -> bool:
    distributor = getattr(app.state, "distributor", None)
    return distributor is not None and bool(distributor.is_leader)


async def run_retries(app: FastAPI, poll_seconds: float = POLL_SECONDS) -> None:
    """The loop: on the leader, start what is due and settle what ended unsettled; sleep
    ``poll_seconds``."""
    while True:
        try:
            if _leading(app):
                while len(await fire_due(app.state.db)) >= BATCH:
                    pass
                await settle_ended(app.state.db)
        except Exception as exc:  # a failed round must not end the runner
            report_failure("outbound_retries_failed", exc)
        await asyncio.sleep(poll_seconds)


def running(app: FastAPI) -> AbstractAsyncContextManager[None]:
    return background(run_retries(app), "outbound:retries")
