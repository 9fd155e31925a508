"""Tables shared by the channels: where contacts come in, what was said, what was received."""

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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base


class EntryPoint(Base):
    """A phone number, support address or chat widget, and the queue its contacts enter."""

    __tablename__ = "entry_points"
    __table_args__ = (
        UniqueConstraint("channel", "address"),
        CheckConstraint("channel IN ('voice', 'email', 'chat')", name="channel"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(320))  # E.164, lower-case email, widget key
    queue_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("queues.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN", server_default="zh-CN")
    greeting: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class WebhookReceipt(Base):
    """Each provider event once: inserted in the same transaction as the event's effect."""

    __tablename__ = "webhook_receipts"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Message(Base):
    """One message of a contact: a chat line, an email, a system notice. ``seq`` orders a
    contact's messages and lets a reconnecting client ask for what it missed."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("contact_id", "seq"),
        CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
        CheckConstraint("author IN ('customer', 'agent', 'system')", name="author"),
        Index(
            "ix_messages_external_id",
            "external_id",
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    direction: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(8))
    agent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    body_html: Mapped[str | None] = mapped_column(Text)  # sanitized
    external_id: Mapped[str | None] = mapped_column(String(998))  # e.g. an email's Message-ID
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    inline: Mapped[bool] = mapped_column(default=False, server_default="false")
    content_id: Mapped[str | None] = mapped_column(String(998))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class OutboundEmail(Base):
    """A reply on its way out: retried with backoff until sent, never silently dropped."""

    __tablename__ = "outbound_emails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index(
            "ix_outbound_emails_due", "next_attempt_at", postgresql_where=text("status = 'pending'")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(8), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    contact_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the visitor's token
    visitor_name: Mapped[str | None] = mapped_column(String(200))
    visitor_email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(16))
    page_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(8))  # visitor | agent | system


class ChatTranscriptMail(Base):
    """A visitor's request for the chat's transcript by email: one per chat and address
    (asking again changes nothing), naming the outbound message that carries it."""

    __tablename__ = "chat_transcript_mails"
    __table_args__ = (
        UniqueConstraint("contact_id", "address"),
        Index("ix_chat_transcript_mails_address", "address", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="CASCADE")
    )
    address: Mapped[str] = mapped_column(String(320))
    time_zone: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="CASCADE")
    )
    requested_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
