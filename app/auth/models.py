"""Failed sign-ins per user and per client address (see ``app.auth.throttle``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base


class SignInThrottle(Base):
    """One key's failed sign-ins: ``kind`` is ``user`` (the username as typed, lower-case)
    or ``address`` (the client's IP address)."""

    __tablename__ = "sign_in_throttle"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
