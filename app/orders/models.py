"""The shop's orders: what a customer bought, the ground truth of customer value."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin, TimestampMixin

ORDER_STATUSES = ("paid", "completed", "cancelled", "refunded")
SALE_STATUSES = ("paid", "completed")
"""Only these count as a sale; cancelled and refunded orders count for nothing."""


class Order(IdMixin, TimestampMixin, Base):
    """One order, unique by ``(source, external_id)``: the shop's own id within the feed
    it came from. ``amount_cny`` is ``amount`` at the rate configured when it was written,
    so every score reads one currency."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_orders_source_external_id"),
        CheckConstraint("status IN ('paid', 'completed', 'cancelled', 'refunded')", name="status"),
        CheckConstraint("amount >= 0 AND amount_cny >= 0", name="amount"),
        CheckConstraint("items >= 0", name="items"),
        # a customer's orders in time order (read backwards: newest first), covering what
        # the evaluation sums, so it aggregates every customer from the index alone, in
        # customer order
        Index(
            "ix_orders_customer_placed",
            "customer_id",
            "placed_at",
            postgresql_include=["status", "items", "amount_cny"],
        ),
        # an agent's lookup by the order number a caller reads out, whatever the source
        Index("ix_orders_external_id", "external_id"),
    )

    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    placed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    items: Mapped[int] = mapped_column(default=1, server_default="1")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    amount_cny: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    shop: Mapped[str | None] = mapped_column(String(64))
    lines: Mapped[list[Any] | None]
