"""Consent tables: an append-only history, the current state derived from it, the
customer's contact preferences, and the log of outbound touches made or suppressed.

``consent_history`` is written once per change and never updated (the service only
inserts); ``customer_consents`` holds the latest row of each (customer, channel, purpose)
and is what decisions read. A (customer, channel, purpose) without a row is ``unknown``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin

CHANNEL_CHECK = "channel IN ('voice', 'sms', 'email')"
PURPOSE_CHECK = (
    "purpose IN ('service', 'marketing') OR (channel = 'voice' AND purpose = 'call_recording')"
)


class ConsentHistory(IdMixin, Base):
    """One change: a consent set (``kind='consent'``: channel, purpose, status) or the
    do-not-contact flag set or cleared (``kind='do_not_contact'``: status ``on``/``off``),
    with its source and evidence. ``contact_id`` is a plain number: the evidence outlives
    the contact."""

    __tablename__ = "consent_history"
    __table_args__ = (
        CheckConstraint("kind IN ('consent', 'do_not_contact')", name="kind"),
        CheckConstraint(
            "(kind = 'consent' AND channel IS NOT NULL AND purpose IS NOT NULL"
            f" AND ({CHANNEL_CHECK}) AND ({PURPOSE_CHECK})"
            " AND status IN ('granted', 'refused', 'unknown'))"
            " OR (kind = 'do_not_contact' AND channel IS NULL AND purpose IS NULL"
            " AND status IN ('on', 'off'))",
            name="shape",
        ),
        Index("ix_consent_history_customer", "customer_id", "id"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(8))
    purpose: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    form: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CustomerConsent(Base):
    """The current status of one (customer, channel, purpose): the latest history row."""

    __tablename__ = "customer_consents"
    __table_args__ = (
        PrimaryKeyConstraint("customer_id", "channel", "purpose"),
        CheckConstraint(CHANNEL_CHECK, name="channel"),
        CheckConstraint(PURPOSE_CHECK, name="purpose"),
        CheckConstraint("status IN ('granted', 'refused')", name="status"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    history_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("consent_history.id", ondelete="CASCADE")
    )


class ContactPreferences(Base):
    """Per customer: do-not-contact, and the time zone quiet hours are read in (None:
    the first phone's zone, else ``CONTACTD_TIMEZONE``). No row: contactable, no zone."""

    __tablename__ = "contact_preferences"

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    do_not_contact: Mapped[bool] = mapped_column(default=False, server_default="false")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class TouchLog(IdMixin, Base):
    """One outbound touch made (``outcome='made'``: the frequency cap counts these) or
    suppressed by the rules (``outcome='suppressed'`` with its ``reason`` and when it
    would be allowed). ``origin`` names the outbound path (care, campaign, callback,
    vip_notice, ...), ``ref`` what it was about (``care_touch:12``)."""

    __tablename__ = "touch_log"
    __table_args__ = (
        CheckConstraint("outcome IN ('made', 'suppressed')", name="outcome"),
        CheckConstraint(CHANNEL_CHECK, name="channel"),
        CheckConstraint("purpose IN ('service', 'marketing')", name="purpose"),
        CheckConstraint("(outcome = 'made') = (reason IS NULL)", name="reason"),
        Index("ix_touch_log_customer_time", "customer_id", "occurred_at"),
        Index("ix_touch_log_outcome_time", "outcome", "occurred_at"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(32))
    next_allowed_at: Mapped[datetime | None]
    origin: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime]
