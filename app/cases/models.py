"""Tables of cases: the case, its linked contacts, notes, the append-only event log, the SLA
timers the runner fires, and the versioned settings document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin, TimestampMixin

ORIGINS = ("agent", "csat", "email", "chat", "voice", "api", "system")


class Case(IdMixin, TimestampMixin, Base):
    """One matter of one customer, across any number of contacts.

    ``policy`` is the SLA policy chosen at creation, copied (a later change of the policies
    does not move the targets of existing cases); null: no policy matched, no SLA."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(
            "state IN ('new', 'open', 'pending_customer', 'resolved', 'closed', 'reopened')",
            name="state",
        ),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
        CheckConstraint(
            "origin IN ('agent', 'csat', 'email', 'chat', 'voice', 'api', 'system')",
            name="origin",
        ),
        Index("ix_cases_customer", "customer_id", "id"),
        Index("ix_cases_state", "state", "id"),
        Index("ix_cases_owner_state", "owner_id", "state"),
        Index("ix_cases_queue_state", "queue_id", "state"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="new", server_default="new")
    priority: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    origin: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    queue_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("queues.id", ondelete="SET NULL")
    )
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    settings_version: Mapped[int] = mapped_column(default=0, server_default="0")
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class CaseContact(Base):
    """A contact (any channel) linked to a case."""

    __tablename__ = "case_contacts"

    case_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(server_default=func.now())
    linked_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )


class CaseNote(IdMixin, Base):
    """An agent's note on a case; ``reply`` notes record a response to the customer."""

    __tablename__ = "case_notes"
    __table_args__ = (
        CheckConstraint("kind IN ('internal', 'reply')", name="kind"),
        Index("ix_case_notes_case", "case_id", "id"),
    )

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(8), default="internal", server_default="internal")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CaseEvent(Base):
    """One step in a case's life (the timeline). Appended, never changed; payloads hold ids
    and codes, no personal data."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class CaseSlaTimer(Base):
    """The instant a case's SLA clock reaches a warning or a breach. ``fired_at`` is set
    once, in the transaction that records the event; ``notified_at`` once the alarm is
    published (a fired timer not yet notified is published again)."""

    __tablename__ = "case_sla_timers"
    __table_args__ = (
        CheckConstraint(
            "target IN ('first_response', 'next_response', 'resolution')", name="target"
        ),
        CheckConstraint("level IN ('warning', 'breach')", name="level"),
        Index("ix_case_sla_timers_due", "due_at", postgresql_where=text("fired_at IS NULL")),
        Index(
            "ix_case_sla_timers_unnotified",
            "fired_at",
            postgresql_where=text("fired_at IS NOT NULL AND notified_at IS NULL"),
        ),
    )

    case_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(16), primary_key=True)
    cycle: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    level: Mapped[str] = mapped_column(String(8), primary_key=True)
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    fired_by: Mapped[str | None] = mapped_column(String(128))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    notified_at: Mapped[datetime | None]


class CaseSettingsVersion(Base):
    """One published cases settings document; the highest version is in force."""

    __tablename__ = "case_settings_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    author_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
