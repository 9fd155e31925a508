"""The demo's cases: SLA settings (a calendar per team, the default policies with a VIP
escalation) and a few open cases on customers who complained, made through the cases
services so they pass the same validation as live input."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases import service
from app.cases.core.states import State
from app.cases.schemas import CaseCreate, CaseUpdate, NoteIn
from app.cases.settings_schemas import (
    DEFAULT_POLICIES,
    WORKDAYS,
    Calendar,
    CasesSettings,
    EscalationIn,
)
from app.cases.settings_service import publish_settings
from app.contacts.models import Contact

LONG_DAYS = {d: [("08:00", "22:00")] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def demo_settings() -> CasesSettings:
    """Support and billing keep office hours; the VIP team works 08:00-22:00 every day
    but public holidays; a VIP complaint's breach goes to the VIP queue."""
    policies = [
        p.model_copy(update={"escalate_on_breach": EscalationIn(queue="vip", priority="urgent")})
        if p.name == "vip-complaint"
        else p
        for p in DEFAULT_POLICIES
    ]
    return CasesSettings(
        calendars={"default": Calendar(weekly=dict(WORKDAYS)), "vip": Calendar(weekly=LONG_DAYS)},
        queue_calendars={"vip": "vip"},
        policies=policies,
    )


@dataclass(frozen=True, slots=True)
class DemoCase:
    age: timedelta  # how long ago it was opened
    case_type: str
    subject: str
    state: State | None = None  # a state it moved to an hour after opening
    reply: str | None = None  # an agent's reply, half an hour after opening


DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        timedelta(hours=30),
        "complaint",
        "包裹破损 / parcel arrived damaged",
        "open",
        "已安排补发 / replacement sent",
    ),
    DemoCase(timedelta(hours=6), "complaint", "退款未到账 / refund not received"),
    DemoCase(
        timedelta(hours=3),
        "request",
        "修改收货地址 / change delivery address",
        "pending_customer",
        "请提供新地址 / please send the new address",
    ),
    DemoCase(timedelta(minutes=40), "inquiry", "会员积分 / membership points"),
    DemoCase(
        timedelta(days=2),
        "complaint",
        "发票抬头错误 / wrong invoice title",
        "resolved",
        "已重开发票 / invoice reissued",
    ),
)


async def add_demo_cases(session: AsyncSession, now: datetime, agent_ids: Sequence[int]) -> int:
    """Publish the demo's case settings and open ``DEMO_CASES`` on customers whose calls
    ended as complaints (each linked to that contact), owned by the agents in turn; how
    many cases."""
    await publish_settings(session, demo_settings(), None, "demo")
    complaints = (
        await session.execute(
            select(Contact.id, Contact.customer_id, Contact.queue_id)
            .where(Contact.disposition == "complaint", Contact.customer_id.is_not(None))
            .order_by(Contact.created_at.desc())
            .limit(len(DEMO_CASES))
        )
    ).all()
    for n, (complaint, spec) in enumerate(zip(complaints, DEMO_CASES, strict=False)):
        contact_id, customer_id, queue_id = complaint
        if customer_id is None:  # filtered out above; keeps the types honest
            continue
        owner = agent_ids[n % len(agent_ids)]
        queue = await service.queue_names_by_id(session, queue_id)
        await _open(session, spec, now, owner, customer_id, contact_id, queue)
    return min(len(complaints), len(DEMO_CASES))


async def _open(
    session: AsyncSession,
    spec: DemoCase,
    now: datetime,
    owner: int,
    customer_id: int,
    contact_id: int,
    queue: str | None,
) -> None:
    opened = now - spec.age
    data = CaseCreate(
        customer_id=customer_id,
        type=spec.case_type,
        subject=spec.subject,
        origin="voice",
        owner_id=owner,
        queue=queue,
        contact_ids=[contact_id],
    )
    case = await service.create_case(session, data, owner, now=opened)
    if spec.reply is not None:
        note = NoteIn(body=spec.reply, kind="reply")
        await service.add_note(session, case.id, note, owner, opened + timedelta(minutes=30))
    if spec.state is not None:
        change = CaseUpdate(state=spec.state)
        await service.update_case(session, case.id, change, owner, opened + timedelta(hours=1))
