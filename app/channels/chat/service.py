"""Web chat: sessions, the transcript and how a chat ends.

Every message of a contact gets the next ``seq`` while the contact's row is locked, so two
writers (the visitor's socket, the agent's request) never take the same number, and the
visitor's resend of a ``client_id`` is found before a second copy is written. Pushes to the
visitor (topic ``chat:{contact_id}``) and to the agent (``agent:{agent_id}``) are queued
with ``after_commit``: nobody hears of a message that was not stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.chat.protocol import AgentTyping, Ended, MessageFrame
from app.channels.chat.schemas import SessionCreate
from app.channels.entry_points import entry_point
from app.channels.models import ChatSession, Message
from app.config import Settings
from app.contacts.access import authorize_contact
from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.matching import match_customer
from app.database import after_commit
from app.errors import AppError, Conflict, InvalidInput, NotFound
from app.events.bus import EventBus
from app.routing import inbox
from app.routing import service as routing
from app.surveys import service as surveys
from app.users.models import Role, User

log = structlog.get_logger(__name__)

WAITING_STATES = ("queued", "offered")
LIVE_STATES = (*WAITING_STATES, "assigned")
EndedBy = Literal["visitor", "agent", "system"]


class MessageTooLong(AppError):
    status_code = 422
    code = "message_too_long"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


class ChatEnded(Conflict):
    code = "chat_ended"


def chat_topic(contact_id: int) -> str:
    return f"chat:{contact_id}"


# ------------------------------------------------------------------ tokens


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(chat: ChatSession | None, token: str) -> bool:
    """A constant-time comparison; an unknown session and a wrong token look the same."""
    expected = chat.token_hash if chat is not None else "0" * 64
    return hmac.compare_digest(expected, hash_token(token)) and chat is not None


async def authenticate(
    session: AsyncSession, session_id: uuid.UUID, token: str
) -> ChatSession | None:
    chat = await session.get(ChatSession, session_id)
    return chat if token_matches(chat, token) else None


# ------------------------------------------------------------------ starting


@dataclass(frozen=True, slots=True)
class StartedChat:
    session_id: uuid.UUID
    token: str
    contact_id: int
    request_id: int | None
    closed_action: str | None


async def start_chat(
    session: AsyncSession, bus: EventBus, data: SessionCreate, settings: Settings
) -> StartedChat:
    """The visitor's chat: a contact in the widget's queue, its session and the greeting."""
    found = await entry_point(session, "chat", data.widget)
    if found is None:
        raise InvalidInput(
            "Unknown chat widget.", details={"widget": data.widget}, code="unknown_widget"
        )
    point, queue = found
    language = data.language or point.language
    match = await match_customer(
        session,
        email=data.email,
        name=data.name,
        language=language,
        region=settings.default_region,
        create=bool(data.email),
    )
    session_id = uuid.uuid4()
    enqueued = await routing.enqueue(
        session,
        routing.NewContact(
            channel="chat",
            queue=queue,
            customer_id=match.customer_id,
            customer_match=match.how,
            provider="webchat",
            provider_ref=str(session_id),
            from_address=data.email,
            to_address=data.widget,
            attributes={"widget": data.widget, "language": language},
        ),
    )
    token = secrets.token_urlsafe(32)
    chat = ChatSession(
        id=session_id,
        contact_id=enqueued.contact_id,
        token_hash=hash_token(token),
        visitor_name=data.name,
        visitor_email=data.email,
        language=language,
        page_url=data.page_url,
    )
    session.add(chat)
    await session.flush()
    if point.greeting:
        await _store_system(session, bus, enqueued.contact_id, point.greeting, "greeting")
    if enqueued.closed_action is not None:
        await _close_at_start(session, bus, chat, enqueued.closed_action)
    log.info(
        "chat_started",
        contact_id=enqueued.contact_id,
        customer_match=match.how,
        closed=enqueued.closed_action is not None,
    )
    return StartedChat(
        session_id, token, enqueued.contact_id, enqueued.request_id, enqueued.closed_action
    )


async def _close_at_start(
    session: AsyncSession, bus: EventBus, chat: ChatSession, action: str
) -> None:
    chat.ended_at = datetime.now(UTC)
    chat.ended_by = "system"
    text = "We are closed right now. Please come back during our opening hours."
    await _store_system(session, bus, chat.contact_id, text, "closed", {"action": action})


# ------------------------------------------------------------------ the transcript


async def _lock_contact(session: AsyncSession, contact_id: int) -> Contact:
    """The contact's row, locked: the per-contact ``seq`` and every decision made here are
    serialized with any other writer of this contact's messages."""
    contact = await session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    return contact


async def _chat_of(session: AsyncSession, contact_id: int) -> ChatSession | None:
    return await session.scalar(
        select(ChatSession)
        .where(ChatSession.contact_id == contact_id)
        .execution_options(populate_existing=True)
    )


async def _next_seq(session: AsyncSession, contact_id: int) -> int:
    """Call with the contact locked."""
    last = await session.scalar(
        select(func.coalesce(func.max(Message.seq), 0)).where(Message.contact_id == contact_id)
    )
    return int(last or 0) + 1


async def _store(
    session: AsyncSession,
    contact_id: int,
    *,
    author: str,
    text: str,
    meta: dict[str, Any],
    agent_id: int | None = None,
) -> Message:
    message = Message(
        contact_id=contact_id,
        seq=await _next_seq(session, contact_id),
        direction="inbound" if author == "customer" else "outbound",
        author=author,
        agent_id=agent_id,
        body=text,
        meta=meta,
        created_at=datetime.now(UTC),
    )
    session.add(message)
    await session.flush()
    return message


def message_frame(message: Message) -> MessageFrame:
    is_customer = message.author == "customer"
    return MessageFrame(
        seq=message.seq,
        author=message.author,
        text=message.body,
        created_at=message.created_at,
        agent_name=message.meta.get("agent_name"),
        client_id=message.meta.get("client_id") if is_customer else None,
        event=message.meta.get("event"),
        attachment=message.meta.get("attachment"),
    )


def _publish_after_commit(
    session: AsyncSession, bus: EventBus, topic: str, message: dict[str, Any]
) -> None:
    async def publish() -> None:
        await bus.publish(topic, message)

    after_commit(session, publish)


async def _store_system(
    session: AsyncSession,
    bus: EventBus,
    contact_id: int,
    text: str,
    event: str,
    extra: dict[str, Any] | None = None,
) -> Message:
    message = await _store(
        session, contact_id, author="system", text=text, meta={"event": event, **(extra or {})}
    )
    _publish_after_commit(session, bus, chat_topic(contact_id), message_frame(message).frame())
    return message


MAILED_TRANSCRIPT = "chat_transcript"
"""``meta.automatic`` of the mail that carries a chat's transcript (``transcript_mail``)."""


async def messages_after(
    session: AsyncSession, contact_id: int, after_seq: int, limit: int = 1000
) -> list[Message]:
    """The contact's messages after ``after_seq``, in order: a chat's lines, an email
    contact's mails; never the mail of a chat's transcript (it is not a line of it)."""
    automatic = func.coalesce(Message.meta["automatic"].astext, "")
    query = (
        select(Message)
        .where(
            Message.contact_id == contact_id,
            Message.seq > after_seq,
            automatic != MAILED_TRANSCRIPT,
        )
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def _by_client_id(
    session: AsyncSession, contact_id: int, author: str, client_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.contact_id == contact_id,
            Message.author == author,
            Message.meta["client_id"].astext == client_id,
        )
    )


# ------------------------------------------------------------------ the visitor


@dataclass(frozen=True, slots=True)
class Posted:
    seq: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Limits:
    max_chars: int
    per_minute: int


def check_length(text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise MessageTooLong(
            f"A message has at most {max_chars} characters.", details={"max_chars": max_chars}
        )


async def post_visitor_message(
    session: AsyncSession,
    bus: EventBus,
    contact_id: int,
    client_id: str,
    text: str,
    limits: Limits,
) -> Posted:
    """Store the visitor's message once per ``client_id``; a resend gets the first seq."""
    check_length(text, limits.max_chars)
    if not text.strip():
        raise InvalidInput("The message is empty.", code="invalid_message")
    contact = await _lock_contact(session, contact_id)
    earlier = await _by_client_id(session, contact_id, "customer", client_id)
    if earlier is not None:
        return Posted(earlier.seq, duplicate=True)
    chat = await _chat_of(session, contact_id)
    _check_live(chat, contact)
    await _check_rate(session, contact_id, limits.per_minute)
    message = await _store(
        session, contact_id, author="customer", text=text, meta={"client_id": client_id}
    )
    _publish_visitor_message(session, bus, contact, message)
    return Posted(message.seq, duplicate=False)


def _publish_visitor_message(
    session: AsyncSession, bus: EventBus, contact: Contact, message: Message
) -> None:
    """To the visitor's sockets, and to the agent's console while the chat is assigned."""
    _publish_after_commit(session, bus, chat_topic(contact.id), message_frame(message).frame())
    if contact.state == "assigned" and contact.agent_id is not None:
        to_agent: dict[str, Any] = {
            "type": "chat_message",
            "contact_id": contact.id,
            "seq": message.seq,
            "text": message.body,
        }
        if "attachment" in message.meta:
            to_agent["attachment"] = message.meta["attachment"]
        _publish_after_commit(session, bus, f"agent:{contact.agent_id}", to_agent)


def _check_live(chat: ChatSession | None, contact: Contact) -> None:
    """409 ``chat_ended`` unless the chat is open and its contact still in line or assigned."""
    if chat is None or chat.ended_at is not None or contact.state not in LIVE_STATES:
        raise ChatEnded("This chat has ended.")


async def _check_rate(session: AsyncSession, contact_id: int, per_minute: int) -> None:
    """Counted in the database, so reconnecting or a second tab does not reset it."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    recent = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.contact_id == contact_id,
            Message.author == "customer",
            Message.created_at > since,
        )
    )
    if (recent or 0) >= per_minute:
        raise RateLimited(
            f"At most {per_minute} messages a minute; wait a little.",
            details={"per_minute": per_minute},
        )


# ------------------------------------------------------------------ the agent


def _is_supervisor(user: User) -> bool:
    return Role(user.role).at_least(Role.SUPERVISOR)


async def _may_see_chat(session: AsyncSession, contact: Contact, user: User, action: str) -> None:
    if contact.channel != "chat":
        raise Conflict(f"Contact {contact.id} is not a chat.", code="not_a_chat")
    await authorize_contact(session, user, contact, action)


async def _may_act(session: AsyncSession, contact: Contact, user: User) -> None:
    """The agent assigned to the chat, or a supervisor, may write to it and end it."""
    await _may_see_chat(session, contact, user, "contact_action")
    if not _is_supervisor(user) and contact.state != "assigned":
        raise Conflict(
            f"Contact {contact.id} is {contact.state}, not assigned.",
            details={"state": contact.state},
            code="not_assigned",
        )


async def transcript(
    session: AsyncSession, contact_id: int, user: User, after_seq: int, limit: int
) -> list[Message]:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    await authorize_contact(session, user, contact, "transcript")
    return await messages_after(session, contact_id, after_seq, limit)


async def post_agent_message(
    session: AsyncSession,
    bus: EventBus,
    contact_id: int,
    user: User,
    text: str,
    client_id: str | None,
    max_chars: int,
) -> tuple[Message, bool]:
    """The agent's message, pushed to the visitor once stored; (message, was a duplicate)."""
    check_length(text, max_chars)
    contact = await _lock_contact(session, contact_id)
    await _may_see_chat(session, contact, user, "contact_action")
    if client_id is not None:
        earlier = await _by_client_id(session, contact_id, "agent", client_id)
        if earlier is not None:
            return earlier, True
    chat = await _chat_of(session, contact_id)
    _check_live(chat, contact)
    await _may_act(session, contact, user)
    meta: dict[str, Any] = {"agent_name": user.display_name}
    if client_id is not None:
        meta["client_id"] = client_id
    message = await _store(
        session, contact_id, author="agent", text=text, meta=meta, agent_id=user.id
    )
    _publish_after_commit(session, bus, chat_topic(contact_id), message_frame(message).frame())
    return message, False


async def agent_typing(
    session: AsyncSession, bus: EventBus, contact_id: int, user: User, is_typing: bool
) -> None:
    """Nothing is stored, so the push goes out at once."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    await _may_act(session, contact, user)
    await bus.publish(chat_topic(contact_id), AgentTyping(is_typing=is_typing).frame())


async def agent_name(session: AsyncSession, agent_id: int) -> str:
    name = await session.scalar(select(User.display_name).where(User.id == agent_id))
    return name or "Agent"


# ------------------------------------------------------------------ ending


@dataclass(frozen=True, slots=True)
class EndOutcome:
    contact_id: int
    ended_at: datetime
    ended_by: EndedBy
    routing: Literal["end", "abandon", "none"]
    already: bool = False  # it had ended before: nothing was done now


_END_TEXT: dict[str, str] = {
    "visitor": "The visitor ended the chat.",
    "agent": "The agent ended the chat.",
    "system": "The chat was closed.",
}


async def end_chat(
    session: AsyncSession,
    bus: EventBus,
    contact_id: int,
    by: EndedBy,
    *,
    user: User | None = None,
    only_while_waiting: bool = False,
) -> EndOutcome | None:
    """End the chat and take the contact out of routing; ending twice changes nothing.

    ``only_while_waiting``: for a visitor who left before an agent answered; a chat already
    with an agent stays open for the agent to end. None when nothing was done for that.
    """
    contact = await _lock_contact(session, contact_id)
    if user is not None:
        await _may_see_chat(session, contact, user, "contact_action")
    chat = await _chat_of(session, contact_id)
    if chat is None:
        raise Conflict(f"Contact {contact_id} is not a web chat.", code="not_a_chat")
    if chat.ended_at is not None:
        return EndOutcome(contact_id, chat.ended_at, _ended_by(chat), "none", already=True)
    if user is not None:
        await _may_act(session, contact, user)
    if only_while_waiting and contact.state not in WAITING_STATES:
        return None
    routed = await _leave_routing(session, contact, None if user is None else user.id)
    await _mark_ended(session, bus, contact, chat, by, user)
    assert chat.ended_at is not None
    return EndOutcome(contact_id, chat.ended_at, by, routed)


async def _leave_routing(
    session: AsyncSession, contact: Contact, actor_id: int | None
) -> Literal["end", "abandon", "none"]:
    if contact.state in WAITING_STATES:
        await routing.abandon(session, contact.id, actor_id=actor_id)
        return "abandon"
    if contact.state == "assigned":
        await inbox.submit(session, "contact.end", {"contact_id": contact.id}, actor_id=actor_id)
        return "end"
    return "none"


async def _mark_ended(
    session: AsyncSession,
    bus: EventBus,
    contact: Contact,
    chat: ChatSession,
    by: EndedBy,
    user: User | None,
) -> None:
    chat.ended_at = datetime.now(UTC)
    chat.ended_by = by
    await _store_system(session, bus, contact.id, _END_TEXT[by], "ended", {"by": by})
    record(
        session,
        "chat.ended",
        contact_id=contact.id,
        actor_id=None if user is None else user.id,
        payload={"by": by},
    )
    _publish_after_commit(session, bus, chat_topic(contact.id), Ended(by=by).frame())
    if by == "agent":  # the visitor may rate the chat (``csat_request`` on the socket)
        await surveys.offer_chat(session, contact)
    if contact.agent_id is not None and contact.state in ("offered", "assigned"):
        notice = {"type": "chat_ended", "contact_id": contact.id, "by": by}
        _publish_after_commit(session, bus, f"agent:{contact.agent_id}", notice)
    log.info("chat_ended", contact_id=contact.id, by=by, state=contact.state)


def _ended_by(chat: ChatSession) -> EndedBy:
    if chat.ended_by == "visitor":
        return "visitor"
    return "agent" if chat.ended_by == "agent" else "system"


@dataclass(frozen=True, slots=True)
class ChatStatus:
    ended: bool
    ended_now: bool = False  # the ``ended`` push is on its way
    by: EndedBy = "system"


async def close_if_over(session: AsyncSession, bus: EventBus, contact_id: int) -> ChatStatus:
    """Routing is done with the contact (the agent ended it with the generic end, it was
    abandoned...) but its chat is still open: end the chat too."""
    contact = await _lock_contact(session, contact_id)
    chat = await _chat_of(session, contact_id)
    if chat is None:
        raise NotFound(f"No chat for contact {contact_id}.")
    if chat.ended_at is not None:
        return ChatStatus(ended=True, by=_ended_by(chat))
    if contact.state in LIVE_STATES:
        return ChatStatus(ended=False)
    by: EndedBy = "agent" if contact.state in ("wrap_up", "ended") else "system"
    await _mark_ended(session, bus, contact, chat, by, None)
    return ChatStatus(ended=True, ended_now=True, by=by)


async def end_if_visitor_gone(session: AsyncSession, contact_id: int) -> bool:
    """An agent got a chat whose visitor had already left (the visitor ended while the
    agent's accept was on its way): end the contact so the agent is not left waiting."""
    contact = await _lock_contact(session, contact_id)
    chat = await _chat_of(session, contact_id)
    if chat is None or chat.ended_at is None or contact.state != "assigned":
        return False
    await inbox.submit(session, "contact.end", {"contact_id": contact_id})
    return True


async def last_seq(session: AsyncSession, contact_id: int) -> int:
    last = await session.scalar(
        select(func.max(Message.seq)).where(Message.contact_id == contact_id)
    )
    return int(last or 0)


async def assigned_agent(session: AsyncSession, contact_id: int) -> int | None:
    contact = await session.get(Contact, contact_id, populate_existing=True)
    if contact is None or contact.state != "assigned":
        return None
    return contact.agent_id
