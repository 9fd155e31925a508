"""Care rules (data, each switchable) and the touches they create, one per occurrence."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base

TRIGGERS = ("birthday", "after_sale", "vip_expiry", "vip_granted", "dormant", "holiday")
OUTCOMES = ("pending", "emailed", "called", "suppressed", "failed", "skipped")


class CareRule(Base):
    """One care rule: when (``trigger`` + ``offset_days``), whom (``audience``), how
    (``channel``, ``purpose``, bilingual ``templates``) and where a call goes."""

    __tablename__ = "care_rules"
    __table_args__ = (
        CheckConstraint(
            "trigger IN ('birthday', 'after_sale', 'vip_expiry', 'vip_granted', 'dormant',"
            " 'holiday')",
            name="trigger",
        ),
        CheckConstraint("channel IN ('email', 'call')", name="channel"),
        CheckConstraint("purpose IN ('service', 'marketing')", name="purpose"),
    )

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))
    offset_days: Mapped[int]
    audience: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    templates: Mapped[dict[str, Any]]
    queue: Mapped[str | None] = mapped_column(String(64))
    skills: Mapped[list[Any]] = mapped_column(server_default="[]")
    priority: Mapped[int | None]
    send_time: Mapped[time] = mapped_column(Time, server_default="10:00")
    enabled: Mapped[bool] = mapped_column(server_default="false")
    updated_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class CareTouch(Base):
    """One touch a rule planned for a customer: unique by ``(rule_key, customer_id,
    occurrence)``, so planning a day again (or on another instance) adds nothing."""

    __tablename__ = "care_touches"
    __table_args__ = (
        UniqueConstraint(
            "rule_key", "customer_id", "occurrence", name="uq_care_touches_occurrence"
        ),
        CheckConstraint(
            "outcome IN ('pending', 'emailed', 'called', 'suppressed', 'failed', 'skipped')",
            name="outcome",
        ),
        Index(
            "ix_care_touches_pending", "due_at", "id", postgresql_where=text("outcome = 'pending'")
        ),
        Index("ix_care_touches_customer", "customer_id", "id"),
        Index("ix_care_touches_day", "day", "rule_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_key: Mapped[str] = mapped_column(
        String(32), ForeignKey("care_rules.key", ondelete="CASCADE")
    )
    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    occurrence: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]
    context: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    outcome: Mapped[str] = mapped_column(String(16), server_default="pending")
    reason: Mapped[str | None] = mapped_column(String(64))
    rendered: Mapped[dict[str, Any] | None]
    contact_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    acted_at: Mapped[datetime | None]
