"""The demo's order history: three years of a bag shop's orders across the demo customers,
shaped so that every grade, status, VIP and value class appears, then evaluated.

Each customer has a spending profile (``vip``, ``gold``, ``standard``) chosen with the rest
of the demo people; the orders follow it: VIPs buy often and dear in the last year, gold
customers often, standard customers anything from never to now and then. A few buy for the
first time after the last full evaluation (``new``), a few only cancel (``no_sale``), a few
stopped more than a year ago (``dormant``) and one is blocked for abuse.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.value.service import rescore_customers, run_full_evaluation, set_blocked
from app.orders.models import Order

SOURCES = (("shop", 50), ("tmall", 30), ("jd", 20))
ITEMS = (
    ("BAG-TOTE-01", "帆布托特包 Canvas tote", Decimal("189.00")),
    ("BAG-BACK-02", "城市双肩包 City backpack", Decimal("429.00")),
    ("BAG-CROSS-03", "真皮斜挎包 Leather crossbody", Decimal("899.00")),
    ("BAG-BRIEF-04", "商务公文包 Briefcase", Decimal("1280.00")),
    ("BAG-TRAVEL-05", "旅行箱 Carry-on", Decimal("1699.00")),
    ("BAG-LUX-06", "限量手袋 Limited handbag", Decimal("4880.00")),
    ("ACC-WALLET-07", "钱包 Wallet", Decimal("259.00")),
    ("ACC-STRAP-08", "肩带 Strap", Decimal("99.00")),
)
BLOCK_REASON = "repeated chargebacks after delivery (demo)"
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DemoBuyer:
    customer_id: int
    profile: str  # vip, gold, standard


@dataclass(frozen=True, slots=True)
class DemoOrders:
    orders: int
    evaluated: int


class OrderFactory:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.serial = 0

    def order(self, customer_id: int, placed_at: datetime, expensive: bool) -> Row:
        rng = self.rng
        weights = (1, 2, 3, 3, 2, 2, 2, 1) if expensive else (6, 5, 2, 1, 1, 0, 4, 3)
        count = rng.choice((1, 1, 1, 2, 2, 3, 4) if expensive else (1, 1, 1, 1, 2))
        picked = [
            (rng.choices(ITEMS, weights=weights)[0], rng.choice((1, 1, 1, 2))) for _ in range(count)
        ]
        lines = [
            {"sku": sku, "name": name, "quantity": quantity, "unit_price": str(price)}
            for (sku, name, price), quantity in picked
        ]
        amount = sum((price * quantity for (_, _, price), quantity in picked), Decimal(0))
        status = rng.choices(("completed", "paid", "cancelled", "refunded"), (80, 8, 7, 5))[0]
        if self.now - placed_at > timedelta(days=20) and status == "paid":
            status = "completed"
        self.serial += 1
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        return {
            "source": source,
            "external_id": f"{source.upper()}{placed_at:%Y%m%d}-{self.serial:06d}",
            "customer_id": customer_id,
            "placed_at": placed_at,
            "status": status,
            "items": sum(quantity for _, quantity in picked),
            "amount": amount,
            "currency": "CNY",
            "amount_cny": amount,
            "shop": "旗舰店 flagship" if source == "shop" else source,
            "lines": lines,
            "created_at": placed_at,
            "updated_at": placed_at,
        }

    def days_ago(self, low: float, high: float) -> datetime:
        moment = self.now - timedelta(days=self.rng.uniform(low, high))
        return moment.replace(microsecond=0)

    def orders(self, cid: int, count: int, days: tuple[float, float], dear: float) -> list[Row]:
        """``count`` orders placed between ``days`` ago, a ``dear`` share of them expensive."""
        return [
            self.order(cid, self.days_ago(*days), self.rng.random() < dear) for _ in range(count)
        ]

    def history(self, buyer: DemoBuyer, kind: str) -> list[Row]:
        """One customer's orders for the history ``kind`` drawn for them."""
        cid, rng = buyer.customer_id, self.rng
        match kind:
            case "vip":  # ≥ 3 sales, ≥ 10 items, ≥ ¥10,000 within the year
                recent = self.orders(cid, rng.randint(8, 14), (3, 330), 1.0)
                for row in recent[:4]:
                    row["status"] = "completed"
                return recent + self.orders(cid, rng.randint(4, 10), (370, 1000), 0.8)
            case "frequent":
                recent = self.orders(cid, rng.randint(4, 8), (5, 360), 0.25)
                return recent + self.orders(cid, rng.randint(6, 16), (370, 1000), 0.1)
            case "occasional":
                return self.orders(cid, rng.randint(6, 22), (10, 1000), 0.0)
            case "dormant":
                return self.orders(cid, rng.randint(3, 10), (400, 1000), 0.0)
            case "cancelled":
                rows = self.orders(cid, rng.randint(1, 3), (20, 300), 0.0)
                for row in rows:
                    row["status"] = rng.choice(("cancelled", "refunded"))
                return rows
        return []


def _kind(rng: random.Random, profile: str) -> str:
    if profile == "vip":
        return "vip"
    if profile == "gold":
        return rng.choices(("frequent", "occasional"), (80, 20))[0]
    return rng.choices(
        ("occasional", "frequent", "dormant", "cancelled", "never", "new"),
        (40, 8, 14, 6, 24, 8),
    )[0]


async def add_demo_orders(
    session: AsyncSession,
    rng: random.Random,
    now: datetime,
    buyers: Sequence[DemoBuyer],
    zone: ZoneInfo,
) -> DemoOrders:
    """Add the orders, evaluate everyone as of yesterday, then the first orders of the
    customers who are ``new`` today, and block one customer."""
    local_now = now.astimezone(zone)
    factory = OrderFactory(rng, local_now)
    kinds = {buyer.customer_id: _kind(rng, buyer.profile) for buyer in buyers}
    rows = [
        row
        for buyer in buyers
        if kinds[buyer.customer_id] not in ("new", "never")
        for row in factory.history(buyer, kinds[buyer.customer_id])
    ]
    await _insert(session, rows)
    report = await run_full_evaluation(
        session, as_of=local_now - timedelta(days=1), once_per_day=False
    )
    newcomers = [cid for cid, kind in kinds.items() if kind == "new"]
    fresh = [factory.order(cid, factory.days_ago(0.05, 0.9), False) for cid in newcomers]
    for row in fresh:
        row["status"] = "paid"
    await _insert(session, fresh)
    await rescore_customers(session, newcomers, now=local_now)
    blocked = next((cid for cid, kind in kinds.items() if kind == "cancelled"), None)
    if blocked is not None:
        await set_blocked(session, blocked, BLOCK_REASON, now=local_now)
    return DemoOrders(len(rows) + len(fresh), report.customers if report else 0)


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Order), rows[start : start + 1000])
