"""Who may start a chat: the limits that keep an unauthenticated endpoint from filling the
queues with spam.

* per client address and per widget, at most ``CONTACTD_CHAT_SESSIONS_PER_ADDRESS`` /
  ``CONTACTD_CHAT_SESSIONS_PER_WIDGET`` starts in each ``CONTACTD_CHAT_SESSION_WINDOW_SECONDS``
  window (429 ``rate_limited`` with ``Retry-After``; counted in PostgreSQL, shared by every
  instance; refused starts count too);
* per widget, at most ``CONTACTD_CHAT_MAX_ANONYMOUS_WAITING`` waiting chats from visitors
  who gave no email (429 ``too_many_waiting``); a visitor who gives one is still let in.

Nothing is stored for a refused start but its count. What got in anyway a supervisor
takes out of line with ``purge_waiting``: each chat ends as if the system closed it (the
visitor is told), leaves routing as abandoned, and its contact records ``chat.purged``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.chat import service
from app.channels.chat.schemas import PurgeRequest, SessionCreate
from app.config import Settings
from app.contacts.events import record
from app.contacts.models import Contact
from app.database import Database
from app.errors import TooManyRequests
from app.events.bus import EventBus
from app.ratelimit.core import Limit
from app.ratelimit.service import address_key, take
from app.users.models import User

WAITING = ("new", "queued")
WAITING_RETRY_SECONDS = 30.0


async def admit(db: Database, widget: str, address: str, settings: Settings) -> None:
    """Count this start against the address's and the widget's limits (429 when over)."""
    window, now = settings.chat_session_window_seconds, datetime.now(UTC)
    per_address = Limit(settings.chat_sessions_per_address, window)
    per_widget = Limit(settings.chat_sessions_per_widget, window)
    await take(db, "chat_start_address", address_key(address), per_address, now)
    await take(db, "chat_start_widget", widget, per_widget, now)


async def check_waiting(session: AsyncSession, data: SessionCreate, settings: Settings) -> None:
    """Refuse an anonymous visitor while the widget already holds the most waiting
    anonymous chats it may."""
    if data.email:
        return
    waiting = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(
            Contact.channel == "chat",
            Contact.to_address == data.widget,
            Contact.state.in_(WAITING),
            Contact.from_address.is_(None),
        )
    )
    if (waiting or 0) >= settings.chat_max_anonymous_waiting:
        raise TooManyRequests(
            "Too many visitors are waiting; please try again shortly.",
            retry_after=WAITING_RETRY_SECONDS,
            code="too_many_waiting",
        )


async def purge_waiting(
    session: AsyncSession, bus: EventBus, purge: PurgeRequest, user: User
) -> list[int]:
    """End the widget's waiting chats that ``purge`` selects; their contact ids."""
    query = (
        select(Contact.id)
        .where(
            Contact.channel == "chat",
            Contact.to_address == purge.widget,
            Contact.state.in_(WAITING),
        )
        .order_by(Contact.id)
    )
    if purge.anonymous_only:
        query = query.where(Contact.from_address.is_(None))
    if purge.started_after is not None:
        query = query.where(Contact.created_at >= purge.started_after)
    ended = []
    for contact_id in await session.scalars(query):
        outcome = await service.end_chat(
            session, bus, contact_id, "system", only_while_waiting=True
        )
        if outcome is not None and not outcome.already:
            record(session, "chat.purged", contact_id=contact_id, actor_id=user.id)
            ended.append(contact_id)
    return ended
