from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base


class RequestCounter(Base):
    """One key's current window (``app.ratelimit.core``). Keys that hold an address hold its
    SHA-256, never the address itself."""

    __tablename__ = "request_counters"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    window_started_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
