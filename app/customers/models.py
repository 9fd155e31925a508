from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base, IdMixin, TimestampMixin


class Customer(IdMixin, TimestampMixin, Base):
    """A person or business we serve. What they are worth lives in ``customer_values``."""

    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))  # BCP 47, e.g. zh-CN, en-US
    tags: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    consent: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    # set once by erasure (app.privacy): the row stays so counts hold, its personal data gone
    erased_at: Mapped[datetime | None]
    birthday: Mapped[date | None]  # the care rules' birthday greeting (app.care)


# an agent's lookup by exact name (app.customers.lookup), case-insensitive
Index("ix_customers_lower_name", func.lower(Customer.name))


class CustomerPhone(IdMixin, Base):
    """A phone number in E.164. Several customers may share one (a family, a front desk)."""

    __tablename__ = "customer_phones"
    __table_args__ = (UniqueConstraint("customer_id", "e164"),)

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    e164: Mapped[str] = mapped_column(String(20), index=True)
    extension: Mapped[str | None] = mapped_column(String(10))
    label: Mapped[str | None] = mapped_column(String(32))


class CustomerEmail(IdMixin, Base):
    __tablename__ = "customer_emails"
    __table_args__ = (UniqueConstraint("customer_id", "email"),)

    customer_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), index=True)  # normalized, lower-case
