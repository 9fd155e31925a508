"""Outbound calls: what was asked (``outbound_calls``) and each try at it
(``outbound_attempts``, one row per attempt number, each try one contact)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin

CALL_STATES = ("active", "done", "suppressed")
ATTEMPT_STATES = ("scheduled", "started", "done", "suppressed", "cancelled")


class OutboundCall(IdMixin, Base):
    """One request to call a customer: the queue and skills its tries are routed by, the
    purpose consent is checked for, the script the agent reads, and who asked (``origin``,
    ``ref``). ``state``: ``active`` while a try is live or scheduled, then ``done`` (with
    ``outcome``, the last disposition or ``exhausted``) or ``suppressed``."""

    __tablename__ = "outbound_calls"
    __table_args__ = (
        CheckConstraint("purpose IN ('service', 'marketing')", name="purpose"),
        CheckConstraint("state IN ('active', 'done', 'suppressed')", name="state"),
        Index("ix_outbound_calls_customer", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    queue: Mapped[str] = mapped_column(String(64))
    skills: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    priority: Mapped[int | None]
    purpose: Mapped[str] = mapped_column(String(16))
    script: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class OutboundAttempt(IdMixin, Base):
    """Try number ``attempt`` of a call. A retry is scheduled by inserting its row (unique
    per call and number: scheduled once however often the outcome arrives) and started by
    the claim that sets ``contact_id`` (``FOR UPDATE SKIP LOCKED``: started once)."""

    __tablename__ = "outbound_attempts"
    __table_args__ = (
        UniqueConstraint("call_id", "attempt"),
        CheckConstraint(
            "state IN ('scheduled', 'started', 'done', 'suppressed', 'cancelled')", name="state"
        ),
        Index(
            "ix_outbound_attempts_due",
            "due_at",
            postgresql_where=text("state = 'scheduled'"),
        ),
        Index("ix_outbound_attempts_contact", "contact_id", unique=True),
    )

    call_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("outbound_calls.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(SmallInteger)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(64))
