from __future__ import annotations

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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.orm import Base, IdMixin, TimestampMixin

CONTACT_STATES = (
    "new",
    "ivr",
    "queued",
    "offered",
    "assigned",
    "wrap_up",
    "ended",
    "abandoned",
    "transferred_out",
)


class Contact(IdMixin, TimestampMixin, Base):
    """One customer interaction on one channel, from arrival to wrap-up.

    ``created_at`` is the arrival time; each lifecycle step has its own timestamp so
    reports read durations without replaying events.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint("channel IN ('voice', 'email', 'chat')", name="channel"),
        CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
        CheckConstraint(
            "state IN ('new', 'ivr', 'queued', 'offered', 'assigned', 'wrap_up', 'ended', "
            "'abandoned', 'transferred_out')",
            name="state",
        ),
        Index("ix_contacts_created", text("created_at DESC")),
        Index("ix_contacts_queue_state", "queue_id", "state"),
        Index("ix_contacts_agent_state", "agent_id", "state"),
        Index(
            "uq_contacts_provider_ref",
            "provider",
            "provider_ref",
            unique=True,
            postgresql_where=text("provider_ref IS NOT NULL"),
        ),
    )

    channel: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8), default="inbound", server_default="inbound")
    state: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="SET NULL")
    )
    customer_match: Mapped[str] = mapped_column(
        String(16), default="unknown", server_default="unknown"
    )  # exact_phone | email | several | unknown | created
    queue_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("queues.id", ondelete="SET NULL")
    )
    agent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    required_skills: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    routing_step: Mapped[int] = mapped_column(default=0, server_default="0")  # steps taken
    provider: Mapped[str | None] = mapped_column(String(32))  # twilio, cti, smtp, webchat, ...
    provider_ref: Mapped[str | None] = mapped_column(String(255))  # CallSid, Message-ID, ...
    from_address: Mapped[str | None] = mapped_column(String(320))
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # the customer's value when the contact arrived (grade:P, vip, class:key, segment:...),
    # as routing weighed it and reports break it down; NULL: no customer or never evaluated
    value_tags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    disposition: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    offer_deadline: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wrap_up_ended_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None]


class ContactEvent(Base):
    """Append-only record of every state change of a contact or an agent.

    Payloads hold ids, codes and figures. What a person wrote or typed (a consult's text,
    digits pressed, a relay's error quoting an address) is in ``contact_event_texts``,
    keyed by the event's id, where erasure can blank it.

    History, reports and audit all read from here; a database trigger refuses UPDATE and
    DELETE so the record cannot be rewritten.
    """

    __tablename__ = "contact_events"
    __table_args__ = (
        Index("ix_contact_events_contact", "contact_id", "id"),
        Index("ix_contact_events_agent_time", "agent_id", "occurred_at"),
        Index("ix_contact_events_time", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="RESTRICT")
    )
    agent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT")
    )
    actor_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class ContactEventText(Base):
    """The free text of one event, kept out of the append-only log: mutable, so erasing a
    customer blanks it (``body`` emptied, ``erased_at`` set) while the event stays."""

    __tablename__ = "contact_event_texts"
    __table_args__ = (Index("ix_contact_event_texts_contact", "contact_id"),)

    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contact_events.id", ondelete="RESTRICT"), primary_key=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="RESTRICT")
    )
    body: Mapped[str] = mapped_column(Text)
    erased_at: Mapped[datetime | None]

    event: Mapped[ContactEvent] = relationship()
