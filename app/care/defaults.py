"""The care rules every installation starts with, all switched off: an admin (or the demo)
gives the call rules a queue and switches on the ones wanted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.care.models import CareRule


def _texts(zh: tuple[str | None, str], en: tuple[str | None, str]) -> dict[str, Any]:
    return {
        "zh-CN": {"subject": zh[0], "body": zh[1]},
        "en": {"subject": en[0], "body": en[1]},
    }


DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "key": "birthday",
        "trigger": "birthday",
        "offset_days": 0,
        "channel": "email",
        "purpose": "marketing",
        "templates": _texts(
            ("生日快乐，{{ customer.name }}！", "{{ customer.name }}，祝您生日快乐，万事如意！"),
            ("Happy birthday, {{ customer.name }}!", "Dear {{ customer.name }}, happy birthday!"),
        ),
    },
    {
        "key": "day7",
        "trigger": "after_sale",
        "offset_days": 7,
        "channel": "call",
        "purpose": "service",
        "templates": _texts(
            (None, "您好{{ customer.name }}，订单 {{ order }} 一周前已送达，请问收货是否顺利？"),
            (
                None,
                "Hello {{ customer.name }}, your order {{ order }} arrived a week ago:"
                " did everything arrive well?",
            ),
        ),
    },
    {
        "key": "day28",
        "trigger": "after_sale",
        "offset_days": 28,
        "channel": "email",
        "purpose": "service",
        "templates": _texts(
            (
                "订单 {{ order }} 使用如何？",
                "{{ customer.name }}，您好！订单 {{ order }} 使用一段时间了，欢迎分享您的评价。",
            ),
            (
                "How is order {{ order }} holding up?",
                "Dear {{ customer.name }}, how is your order {{ order }} holding up?"
                " We would love a review.",
            ),
        ),
    },
    {
        "key": "vip_expiry",
        "trigger": "vip_expiry",
        "offset_days": -30,
        "channel": "email",
        "purpose": "service",
        "templates": _texts(
            (
                "您的 VIP 将于 {{ vip_until }} 到期",
                "{{ customer.name }}，您的 VIP 资格将于 {{ vip_until }} 到期。",
            ),
            (
                "Your VIP status ends on {{ vip_until }}",
                "Dear {{ customer.name }}, your VIP status ends on {{ vip_until }}.",
            ),
        ),
    },
    {
        "key": "vip_welcome",
        "trigger": "vip_granted",
        "offset_days": 1,
        "channel": "call",
        "purpose": "service",
        "templates": _texts(
            (None, "欢迎{{ customer.name }}成为 VIP：介绍专属服务与专线。"),
            (None, "Welcome {{ customer.name }} as a VIP: present the dedicated service line."),
        ),
    },
    {
        "key": "win_back",
        "trigger": "dormant",
        "offset_days": 120,
        "audience": {"grades": ["P", "G"]},
        "channel": "call",
        "purpose": "marketing",
        "templates": _texts(
            (None, "{{ customer.name }}自 {{ last_sale_at }} 起未再下单：了解原因，介绍新品。"),
            (
                None,
                "{{ customer.name }} has not ordered since {{ last_sale_at }}:"
                " ask why, present what is new.",
            ),
        ),
    },
    {
        "key": "holiday",
        "trigger": "holiday",
        "offset_days": 0,
        "audience": {"vip_only": True},
        "channel": "email",
        "purpose": "marketing",
        "templates": _texts(
            ("{{ holiday }}快乐", "{{ customer.name }}，祝您{{ holiday }}快乐！"),
            ("Happy {{ holiday }}", "Dear {{ customer.name }}, happy {{ holiday }}!"),
        ),
    },
]


async def ensure_default_rules(session: AsyncSession) -> None:
    """Add the default rules that are missing; a rule already there is left as it is."""
    await session.execute(
        insert(CareRule)
        .values([{"audience": {}, **rule} for rule in DEFAULT_RULES])
        .on_conflict_do_nothing(index_elements=["key"])
    )
