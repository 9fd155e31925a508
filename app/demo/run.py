"""Load the demo in its own unit of work, only into an empty database."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.database import Database, create_engine
from app.demo.loader import database_is_empty, load_demo


async def load_demo_if_empty(url: str, region: str, zone: ZoneInfo | None = None) -> str:
    db = Database(create_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.unit_of_work() as session:
            if not await database_is_empty(session):
                return "the database already has data: demo not loaded"
            summary = await load_demo(session, region=region, zone=zone)
    finally:
        await db.dispose()
    logins = "\n".join(
        f"  {login.username:<14} {login.role:<11} {login.password}" for login in summary.logins
    )
    return (
        f"demo loaded: {summary.queues} queues, {summary.agents} agents, "
        f"{summary.customers} customers, {summary.orders} orders, "
        f"{summary.contacts} past contacts\n"
        f"sign in with:\n{logins}"
    )
