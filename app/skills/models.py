from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin, TimestampMixin


class Skill(IdMixin, TimestampMixin, Base):
    """A routing skill. Languages are skills too (kind "language", e.g. ``mandarin``)."""

    __tablename__ = "skills"
    __table_args__ = (CheckConstraint("kind IN ('general', 'language')", name="kind"),)

    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(16), default="general", server_default="general")
