"""The one seam through which a care touch becomes an outbound call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.care.models import CareRule, CareTouch
from app.outbound.service import OutboundCallRequest, OutboundCallResult, request_outbound_call
from app.skills.schemas import SkillLevel


async def place_care_call(
    session: AsyncSession, touch: CareTouch, rule: CareRule, now: datetime
) -> OutboundCallResult:
    """An outbound call to the customer in the rule's queue, its rendered script shown to
    the agent (``app.outbound``: consent is asked there, just before, and recorded with
    the touch as its reference). Raises what ``request_outbound_call`` raises."""
    assert rule.queue is not None  # an enabled call rule has one (service.update_rule)
    return await request_outbound_call(
        session,
        OutboundCallRequest(
            customer_id=touch.customer_id,
            queue=rule.queue,
            purpose=rule.purpose,  # type: ignore[arg-type]  # checked on save
            origin="care",
            ref=f"care_touch:{touch.id}",
            now=now,
            script=(touch.rendered or {}).get("body"),
            priority=rule.priority,
            skills=[SkillLevel.model_validate(s) for s in rule.skills] or None,
        ),
    )
