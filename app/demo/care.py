"""The demo's care: every default rule switched on with a queue, and two customers (one
Chinese-speaking, one English-speaking) whose sale was seven days ago, so the first round
of the care scheduler puts a day-7 call in the support queue with the script in each one's
language.

The rule's send time is 10:00 local: started later the same day the call goes out
on the scheduler's first round; in quiet hours (21:00-09:00) consent suppresses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.care.defaults import ensure_default_rules
from app.care.models import CareRule
from app.customers.value.service import rescore_customers
from app.orders.core import DEFAULT_SOURCE
from app.orders.models import Order

QUEUES: dict[str, str] = {"day7": "support", "vip_welcome": "vip", "win_back": "sales"}
"""Where the demo's care calls go; the email rules mail from the support address."""
CARE_ORDER_PREFIX = "DEMO-CARE-7-"


async def add_demo_care(
    session: AsyncSession, now: datetime, zone: ZoneInfo, callable_: Sequence[tuple[int, str]]
) -> list[int]:
    """Switch the rules on and give the first zh and the first en customer of
    ``callable_`` (id, language: customers with a phone) a sale seven local days ago;
    their ids."""
    await ensure_default_rules(session)
    await session.execute(update(CareRule).values(enabled=True, queue="support"))
    for key, queue in QUEUES.items():
        await session.execute(update(CareRule).where(CareRule.key == key).values(queue=queue))
    await session.execute(update(CareRule).where(CareRule.key == "day7").values(priority=5))
    picked = []
    for prefix in ("zh", "en"):
        found = next((cid for cid, language in callable_ if language.startswith(prefix)), None)
        if found is not None:
            picked.append(found)
    sale_day = now.astimezone(zone).date() - timedelta(days=7)
    placed_at = datetime.combine(sale_day, time(11, 0), tzinfo=zone)
    session.add_all(
        Order(
            source=DEFAULT_SOURCE,
            external_id=f"{CARE_ORDER_PREFIX}{customer_id}",
            customer_id=customer_id,
            placed_at=placed_at,
            status="completed",
            items=1,
            amount=Decimal("299.00"),
            amount_cny=Decimal("299.00"),
        )
        for customer_id in picked
    )
    await session.flush()
    await rescore_customers(session, picked, now=now.astimezone(zone))
    return picked
