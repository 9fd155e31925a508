"""Tables of the routing shell: config versions, the router's lease, its inbox, presence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.orm import Base


class RoutingConfigVersion(Base):
    """One published routing document. The highest version is the one in force."""

    __tablename__ = "routing_config_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    author_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    rolled_back_from: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class RouterLease(Base):
    """Who routes. One row; ``epoch`` grows each time an instance takes over, and every
    write of the router checks it, so a router that lost its lease cannot write."""

    __tablename__ = "router_lease"
    __table_args__ = (CheckConstraint("id = 1", name="singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None]


class RoutingInbox(Base):
    """Events for the router, written in the same transaction as their cause.

    Any instance writes here; the one holding the lease applies unprocessed rows in id order
    and marks them processed in the same transaction as its decisions, so each row takes
    effect exactly once, across restarts and failovers. (Not "everything after the last id":
    ids are drawn at insert, not at commit, so a smaller id can commit later.)
    """

    __tablename__ = "routing_inbox"
    __table_args__ = (
        Index("ix_routing_inbox_unprocessed", "id", postgresql_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=text("clock_timestamp()"))
    processed_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None]


class AgentPresence(Base):
    """An agent's routing state, as the router last set it."""

    __tablename__ = "agent_presence"
    __table_args__ = (
        CheckConstraint(
            "state IN ('offline', 'available', 'not_ready', 'on_contact', 'wrap_up')", name="state"
        ),
    )

    agent_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), default="offline", server_default="offline")
    reason: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(server_default=text("now()"))
    wrap_up_until: Mapped[datetime | None]  # 'infinity' = until the agent says ready
