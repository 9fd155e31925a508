"""Tables of customer value: each customer's current evaluation, the log of its changes,
the versioned rules document and the record of full evaluations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base

STATUSES = ("graded", "new", "no_sale", "dormant", "prospect", "blocked")
VALUE_CLASSES = ("key", "major", "normal")


class CustomerValue(Base):
    """A customer's latest evaluation. No row: a prospect nobody has evaluated yet.

    ``routing_tags`` is what the router reads at enqueue (``grade:P``, ``vip``,
    ``class:key``, ``segment:win-back``): one indexed lookup, no scoring on the hot path.
    """

    __tablename__ = "customer_values"
    __table_args__ = (
        CheckConstraint(
            "status IN ('graded', 'new', 'no_sale', 'dormant', 'prospect', 'blocked')",
            name="status",
        ),
        CheckConstraint("grade IS NULL OR grade IN ('P', 'G', 'S', 'B')", name="grade"),
        CheckConstraint("value_class IN ('key', 'major', 'normal')", name="value_class"),
        Index("ix_customer_values_segments", "segments", postgresql_using="gin"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(1))
    r: Mapped[int | None] = mapped_column(SmallInteger)
    f: Mapped[int | None] = mapped_column(SmallInteger)
    m: Mapped[int | None] = mapped_column(SmallInteger)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    sales: Mapped[int] = mapped_column(default=0, server_default="0")
    items: Mapped[int] = mapped_column(default=0, server_default="0")
    sales_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")
    last_sale_at: Mapped[datetime | None]
    lifetime_sales: Mapped[int] = mapped_column(default=0, server_default="0")
    lifetime_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")
    vip_since: Mapped[datetime | None]
    vip_until: Mapped[datetime | None]
    value_class: Mapped[str] = mapped_column(String(8), server_default="normal")
    segments: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    routing_tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    reason: Mapped[str] = mapped_column(Text, server_default="")
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    rules_version: Mapped[int] = mapped_column(server_default="0")
    evaluated_at: Mapped[datetime]


class CustomerValueChange(Base):
    """One change of grade, status, VIP or value class, with the figures behind it.
    Appended, never changed."""

    __tablename__ = "customer_value_changes"
    __table_args__ = (Index("ix_customer_value_changes_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))  # grade, status, vip, value_class
    old: Mapped[str | None] = mapped_column(String(32))
    new: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]]
    changed_at: Mapped[datetime]


class ValueRulesVersion(Base):
    """One published value-rules document. The highest version is the one in force."""

    __tablename__ = "value_rules_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    author_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class ValueEvaluation(Base):
    """A full evaluation of every customer. One per day at most (``as_of_day`` is unique),
    so instances that all run the schedule evaluate once."""

    __tablename__ = "value_evaluations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    as_of: Mapped[datetime]
    as_of_day: Mapped[date] = mapped_column(Date, unique=True)
    rules_version: Mapped[int]
    customers: Mapped[int] = mapped_column(server_default="0")
    changes: Mapped[int] = mapped_column(server_default="0")
    started_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    finished_at: Mapped[datetime | None]
