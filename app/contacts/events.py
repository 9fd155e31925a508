"""Writing to the append-only event log. Every state change goes through ``record``.

Personal text never goes into a payload: pass it as ``text`` and it is stored beside the
event, in ``contact_event_texts``, where erasure can blank it (see docs/privacy.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.models import ContactEvent, ContactEventText


def record(
    session: AsyncSession,
    kind: str,
    *,
    contact_id: int | None = None,
    agent_id: int | None = None,
    actor_id: int | None = None,
    occurred_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    text: str | None = None,
) -> ContactEvent:
    """Add one event row to the session's transaction (it is written on the next flush),
    with ``text`` (what a person wrote or typed) in ``contact_event_texts``."""
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
    if text is not None:
        session.add(ContactEventText(event=event, contact_id=contact_id, body=text))
    return event
