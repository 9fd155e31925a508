"""The one seam through which a care touch becomes an outbound call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.care.models import CareRule, CareTouch
from app.routing.service import NewContact, enqueue
from app.skills.schemas import SkillLevel


async def place_care_call(
    session: AsyncSession, touch: CareTouch, rule: CareRule, now: datetime
) -> int | None:
    """Put the call in the rule's queue for an agent, the rendered script attached; the
    contact id (None: no contact was made). Raises what ``enqueue`` raises."""
    assert rule.queue is not None  # an enabled call rule has one (service.update_rule)
    enqueued = await enqueue(
        session,
        NewContact(
            channel="voice",
            queue=rule.queue,
            customer_id=touch.customer_id,
            customer_match="provided",
            priority=rule.priority,
            skills=[SkillLevel.model_validate(s) for s in rule.skills] or None,
            attributes={"care_touch_id": touch.id, "script": (touch.rendered or {}).get("body")},
            provider="care",
            provider_ref=f"care_touch:{touch.id}",
            arrived_at=now,
        ),
    )
    return enqueued.contact_id
