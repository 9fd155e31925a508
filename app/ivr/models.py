"""IVR tables: flows and their versions, which number runs which flow, and one run per call."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base

RUN_STATUSES = ("active", "completed", "hung_up")


class IvrFlow(Base):
    __tablename__ = "ivr_flows"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    published_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IvrFlowVersion(Base):
    """Every saved document of a flow; publishing points the flow at one of them."""

    __tablename__ = "ivr_flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    flow_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ivr_flows.id", ondelete="CASCADE"))
    version: Mapped[int]
    document: Mapped[dict[str, Any]]
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    published_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime | None]


class IvrNumber(Base):
    """A phone number (E.164) and the flow its calls run."""

    __tablename__ = "ivr_numbers"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    flow_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ivr_flows.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IvrRun(Base):
    """One call's walk through one flow version, kept between webhooks."""

    __tablename__ = "ivr_runs"
    __table_args__ = (
        UniqueConstraint("provider", "call_ref"),
        CheckConstraint("status IN ('active', 'completed', 'hung_up')", name="status"),
        Index("ix_ivr_runs_flow_created", "flow_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    flow_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ivr_flows.id", ondelete="CASCADE"))
    version: Mapped[int]
    provider: Mapped[str] = mapped_column(String(32))
    call_ref: Mapped[str] = mapped_column(String(255))
    caller: Mapped[str | None] = mapped_column(String(320))
    dialled: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="SET NULL")
    )
    customer_match: Mapped[str] = mapped_column(String(16), default="unknown")
    contact_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    state: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
