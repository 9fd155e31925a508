from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin, TimestampMixin


class CannedReply(IdMixin, TimestampMixin, Base):
    """A reply an agent inserts by its shortcut. ``team`` None: for every team. One shortcut
    per team and language (the partial unique indexes treat "every team" as a team)."""

    __tablename__ = "canned_replies"
    __table_args__ = (
        CheckConstraint("language IN ('zh-CN', 'en')", name="language"),
        Index(
            "uq_canned_replies_team_shortcut",
            "team",
            "language",
            "shortcut",
            unique=True,
            postgresql_where=text("team IS NOT NULL"),
        ),
        Index(
            "uq_canned_replies_shortcut_every_team",
            "language",
            "shortcut",
            unique=True,
            postgresql_where=text("team IS NULL"),
        ),
    )

    team: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    shortcut: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
