from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin, TimestampMixin

CHANNELS = ("voice", "email", "chat")
STRATEGIES = ("longest_idle", "least_occupied", "most_skilled", "round_robin")


class Queue(IdMixin, TimestampMixin, Base):
    __tablename__ = "queues"
    __table_args__ = (
        CheckConstraint("sl_target_percent BETWEEN 1 AND 100", name="sl_percent"),
        CheckConstraint("sl_target_seconds > 0", name="sl_seconds"),
        CheckConstraint(
            "strategy IN ('longest_idle', 'least_occupied', 'most_skilled', 'round_robin')",
            name="strategy",
        ),
        CheckConstraint("channels <@ ARRAY['voice', 'email', 'chat']::varchar[]", name="channels"),
    )

    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    sl_target_percent: Mapped[int] = mapped_column(SmallInteger, default=80, server_default="80")
    sl_target_seconds: Mapped[int] = mapped_column(default=20, server_default="20")
    default_priority: Mapped[int] = mapped_column(default=0, server_default="0")
    strategy: Mapped[str] = mapped_column(
        String(32), default="longest_idle", server_default="longest_idle"
    )


class QueueSkill(Base):
    """A skill every contact of the queue needs by default, at a minimum proficiency."""

    __tablename__ = "queue_skills"
    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 5", name="min_level"),)

    queue_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("skills.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    min_level: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
