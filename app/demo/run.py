"""Load the demo in its own unit of work, only into an empty database, and read back what a
newcomer needs to try it: the logins and the entry points."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.customers.identity import normalize_phone
from app.database import Database, create_engine
from app.demo.loader import (
    ADMIN,
    AGENT_PASSWORD,
    AGENTS,
    DEMO_HOTLINE,
    SUPERVISOR,
    DemoLogin,
    database_is_empty,
    load_demo,
)
from app.entry_points.schemas import EntryPointOut
from app.entry_points.service import all_entry_points
from app.ivr.models import IvrNumber
from app.users.models import Role


@dataclass(frozen=True, slots=True)
class DemoRun:
    """What ``load_demo_if_empty`` did and found. ``logins`` is empty when the database holds
    something other than the demo."""

    summary: str
    logins: tuple[DemoLogin, ...]
    entry_points: tuple[EntryPointOut, ...]
    ivr_numbers: frozenset[str]


DEMO_LOGINS = (
    ADMIN,
    SUPERVISOR,
    *(DemoLogin(a.username, Role.AGENT, AGENT_PASSWORD) for a in AGENTS),
)


async def load_demo_if_empty(url: str, region: str, zone: ZoneInfo | None = None) -> DemoRun:
    db = Database(create_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.unit_of_work() as session:
            if await database_is_empty(session):
                loaded = await load_demo(session, region=region, zone=zone)
                summary = (
                    f"demo loaded: {loaded.queues} queues, {loaded.agents} agents, "
                    f"{loaded.customers} customers, {loaded.orders} orders, "
                    f"{loaded.contacts} past contacts"
                )
            else:
                summary = "the database already has data: demo not loaded"
            points = tuple(await all_entry_points(session))
            ivr = frozenset(await session.scalars(select(IvrNumber.number)))
    finally:
        await db.dispose()
    hotline = normalize_phone(DEMO_HOTLINE).e164
    is_demo = any(point.channel == "voice" and point.address == hotline for point in points)
    return DemoRun(summary, DEMO_LOGINS if is_demo else (), points, ivr)
