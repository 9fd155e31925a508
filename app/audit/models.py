"""Who looked at which customer's data, when, and through what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base


class AuditEntry(Base):
    """One view (or refused attempt) of customer data. ``customer_id`` and ``contact_id`` are
    plain numbers, not foreign keys: the record outlives a merged or deleted customer."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_customer_time", "customer_id", "occurred_at"),
        Index("ix_audit_log_actor_time", "actor_id", "occurred_at"),
        Index("ix_audit_log_time", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(32))  # see app.audit.service.View
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(16))  # contact | team | search | admin | none
    allowed: Mapped[bool]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
