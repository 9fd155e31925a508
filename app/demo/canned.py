"""The demo's canned replies: greetings for every team in both languages, and a few per
team, stored through the service as the admin would."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.canned.schemas import CannedReplyCreate
from app.canned.service import create_reply
from app.users.models import User

# (team or None for every team, language, shortcut, title, body)
DEMO_REPLIES: tuple[tuple[str | None, str, str, str, str], ...] = (
    (None, "zh-CN", "hello", "问候", "您好，很高兴为您服务，请问有什么可以帮您？"),
    (None, "en", "hello", "Greeting", "Hello, thank you for contacting us. How can I help?"),
    (None, "zh-CN", "bye", "结束语", "感谢您的耐心，祝您生活愉快，再见！"),
    (None, "en", "bye", "Closing", "Thank you for your patience. Have a nice day!"),
    ("support-cn", "zh-CN", "tracking", "物流查询", "您的包裹已发出，物流单号是："),
    (
        "support-intl",
        "en",
        "tracking",
        "Tracking",
        "Your parcel is on its way; tracking number: ",
    ),
    ("billing-cn", "zh-CN", "invoice", "发票", "电子发票会在订单完成后 24 小时内发送到您的邮箱。"),
    ("sales-cn", "zh-CN", "offer", "本周优惠", "本周真皮系列全场八折，欢迎选购。"),
)


async def add_demo_canned_replies(session: AsyncSession, admin_username: str) -> int:
    admin = await session.scalar(select(User).where(User.username == admin_username))
    assert admin is not None, "the demo's admin is added first"
    for team, language, shortcut, title, body in DEMO_REPLIES:
        await create_reply(
            session,
            admin,
            CannedReplyCreate(
                team=team, language=language, shortcut=shortcut, title=title, body=body
            ),
        )
    return len(DEMO_REPLIES)
