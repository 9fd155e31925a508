"""What the email endpoints take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["created", "threaded", "reopened", "automatic", "loop", "duplicate"]


class InboundResult(BaseModel):
    """What became of an inbound message. A duplicate gets the same 200 and changes nothing."""

    outcome: Outcome
    contact_id: int | None
    message_id: int | None = Field(description="Our id of the stored message, if one was.")


class EmailReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=200_000)
    body_html: str | None = Field(default=None, max_length=1_000_000)
    cc: list[str] = Field(default_factory=list, max_length=20)


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    inline: bool
    content_id: str | None


class DeliveryOut(BaseModel):
    """Where an outbound email is: pending (with retries), sent, or failed for good."""

    model_config = ConfigDict(from_attributes=True)

    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


class EmailMessageOut(BaseModel):
    id: int
    contact_id: int
    seq: int
    direction: str
    author: str
    agent_id: int | None
    body: str
    body_html: str | None
    message_id: str | None = Field(description="The RFC 5322 Message-ID.")
    subject: str | None
    sender: str | None = Field(description="From address.")
    to: list[str]
    cc: list[str]
    automatic: str | None = Field(description="Why an inbound message counts as automatic.")
    created_at: datetime
    attachments: list[AttachmentOut]
    delivery: DeliveryOut | None = Field(description="Outbound messages only.")
