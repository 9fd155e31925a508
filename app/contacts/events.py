"""Writing to the append-only event log. Every state change goes through ``record``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import ContactEvent


def record(
    session: AsyncSession,
    kind: str,
    *,
    contact_id: int | None = None,
    agent_id: int | None = None,
    actor_id: int | None = None,
    occurred_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> ContactEvent:
    """Add one event row to the session's transaction (it is written on the next flush)."""
    event = ContactEvent(
        kind=kind,
        contact_id=contact_id,
        agent_id=agent_id,
        actor_id=actor_id,
        payload=payload or {},
    )
    if occurred_at is not None:
        event.occurred_at = occurred_at
    session.add(event)
    return event
