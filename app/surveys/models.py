"""The CSAT survey of a contact: offered when the contact ends, answered at most once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin

SURVEY_CHANNELS = ("voice", "email", "chat")


class CsatSurvey(IdMixin, Base):
    """One row per contact (``contact_id`` is unique): who served it, in which queue, the
    customer's grade when the survey was offered, and the answer once given.

    ``score`` and ``answered_at`` are NULL until the customer answers; ``expires_at`` ends
    the survey (a chat's lifetime, an email link's 14 days, the voice call). Erasure blanks
    ``comment`` and sets ``comment_erased_at``; the score stays for the reports.
    """

    __tablename__ = "csat_surveys"
    __table_args__ = (
        CheckConstraint("channel IN ('voice', 'email', 'chat')", name="channel"),
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score"),
        CheckConstraint("(score IS NULL) = (answered_at IS NULL)", name="answered"),
        Index("ix_csat_surveys_offered", "offered_at"),
        Index("ix_csat_surveys_customer", "customer_id"),
    )

    contact_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="SET NULL")
    )
    agent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    queue_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("queues.id", ondelete="SET NULL")
    )
    grade: Mapped[str | None] = mapped_column(String(1))  # customer_values.grade at offer
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    offered_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    comment_erased_at: Mapped[datetime | None]
    case_id: Mapped[int | None] = mapped_column(  # the complaint case a low score opened
        BigInteger, ForeignKey("cases.id", ondelete="SET NULL")
    )
