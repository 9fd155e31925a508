"""The chat's transcript by email, on the visitor's request.

``render`` is pure: the transcript's text, its header in the chat's language with the other
language beside it, times in the visitor's time zone. ``queue_transcript`` stores the mail
as an outbound message of the chat's contact with its ``outbound_emails`` row, so the email
sender delivers it with its retries; the chat transcript (``messages_after``) leaves such
messages out. One mail per chat and address: asking again returns the first.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.chat import service
from app.channels.email import mime
from app.channels.email.service import _NewMessage, add_message
from app.channels.models import ChatSession, ChatTranscriptMail, Message, OutboundEmail
from app.config import Settings
from app.contacts.events import record

AUTOMATIC = service.MAILED_TRANSCRIPT

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "subject": "您的聊天记录（会话 #{contact_id}）",
        "heading": "聊天记录",
        "intro": "您好{name}，以下是您与我们的聊天记录。",
        "times": "时间：{zone}",
        "you": "您",
        "agent": "客服",
        "system": "系统",
        "file": "[文件] {name}",
        "closing": "感谢您的咨询。",
    },
    "en": {
        "subject": "Your chat transcript (chat #{contact_id})",
        "heading": "Chat transcript",
        "intro": "Hello{name}, here is the transcript of your chat with us.",
        "times": "Times: {zone}",
        "you": "You",
        "agent": "Agent",
        "system": "System",
        "file": "[file] {name}",
        "closing": "Thank you for contacting us.",
    },
}


@dataclass(frozen=True, slots=True)
class Line:
    author: str  # customer | agent | system
    text: str
    at: datetime
    agent_name: str | None = None
    filename: str | None = None  # the line is a file


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str


def words_for(language: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The chat's language's words, then the other language's (for the bilingual header)."""
    if (language or "").lower().startswith("zh"):
        return _WORDS["zh"], _WORDS["en"]
    return _WORDS["en"], _WORDS["zh"]


def render(
    lines: Sequence[Line],
    *,
    contact_id: int,
    language: str | None,
    zone: ZoneInfo,
    visitor_name: str | None,
) -> Rendered:
    """The transcript mail: a two-language header, then one line per message."""
    main, other = words_for(language)
    name = f" {visitor_name}" if visitor_name else ""
    day = lines[0].at.astimezone(zone).date().isoformat() if lines else ""
    header = [
        f"{main['heading']} · {other['heading']} — #{contact_id} {day}".rstrip(),
        main["intro"].format(name=name),
        other["intro"].format(name=name),
        f"{main['times']} · {other['times']}".format(zone=zone.key),
        "",
    ]
    body = [_line(line, main, zone) for line in lines]
    subject = f"{main['subject']} · {other['subject']}".format(contact_id=contact_id)
    text = "\n".join([*header, *body, "", main["closing"], other["closing"]]) + "\n"
    return Rendered(subject=subject, text=text)


def _line(line: Line, words: dict[str, str], zone: ZoneInfo) -> str:
    at = line.at.astimezone(zone).strftime("%H:%M")
    who = {"customer": words["you"], "system": words["system"]}.get(
        line.author, line.agent_name or words["agent"]
    )
    text = words["file"].format(name=line.filename) if line.filename else line.text
    return f"[{at}] {who}: {text}"


def line_of(message: Message) -> Line:
    attachment = message.meta.get("attachment") or {}
    return Line(
        author=message.author,
        text=message.body,
        at=message.created_at,
        agent_name=message.meta.get("agent_name"),
        filename=attachment.get("filename"),
    )


# ------------------------------------------------------------------ queueing


@dataclass(frozen=True, slots=True)
class Queued:
    mail: ChatTranscriptMail
    duplicate: bool


def sender_address(settings: Settings) -> str:
    return settings.chat_transcript_sender or f"noreply@{settings.email_domain}"


async def queue_transcript(
    session: AsyncSession,
    chat: ChatSession,
    address: str,
    zone: ZoneInfo,
    settings: Settings,
) -> Queued:
    """Queue the transcript to ``address`` once; 429 past the per-chat or per-address
    limits. The contact's row is locked, so two requests for one chat queue one mail."""
    contact = await service._lock_contact(session, chat.contact_id)
    earlier = await session.scalar(
        select(ChatTranscriptMail).where(
            ChatTranscriptMail.contact_id == contact.id, ChatTranscriptMail.address == address
        )
    )
    if earlier is not None:
        return Queued(earlier, duplicate=True)
    await _check_limits(session, contact.id, address, settings)
    lines = [line_of(m) for m in await service.messages_after(session, contact.id, 0)]
    rendered = render(
        lines,
        contact_id=contact.id,
        language=chat.language,
        zone=zone,
        visitor_name=chat.visitor_name,
    )
    message = await add_message(
        session,
        contact.id,
        _NewMessage(
            direction="outbound",
            author="system",
            body=rendered.text,
            external_id=mime.new_message_id(
                f"{contact.id}.t{secrets.token_hex(12)}", settings.email_domain
            ),
            meta={
                "from": sender_address(settings),
                "to": [address],
                "cc": [],
                "subject": rendered.subject,
                "automatic": AUTOMATIC,
            },
        ),
    )
    outbound = OutboundEmail(message_id=message.id)
    mail = ChatTranscriptMail(
        contact_id=contact.id, address=address, time_zone=zone.key, message_id=message.id
    )
    session.add_all([outbound, mail])
    await session.flush()
    await session.refresh(mail)
    record(
        session,
        "chat.transcript_queued",
        contact_id=contact.id,
        payload={"message_id": message.id, "outbound_id": outbound.id},
    )
    return Queued(mail, duplicate=False)


async def _check_limits(
    session: AsyncSession, contact_id: int, address: str, settings: Settings
) -> None:
    per_chat = await session.scalar(
        select(func.count())
        .select_from(ChatTranscriptMail)
        .where(ChatTranscriptMail.contact_id == contact_id)
    )
    if (per_chat or 0) >= settings.chat_transcripts_per_session:
        raise service.RateLimited(
            f"A chat's transcript goes to at most {settings.chat_transcripts_per_session}"
            " addresses.",
            details={"per_session": settings.chat_transcripts_per_session},
        )
    since = datetime.now(UTC) - timedelta(hours=1)
    to_address = await session.scalar(
        select(func.count())
        .select_from(ChatTranscriptMail)
        .where(ChatTranscriptMail.address == address, ChatTranscriptMail.requested_at > since)
    )
    if (to_address or 0) >= settings.chat_transcripts_per_address_hour:
        raise service.RateLimited(
            "Too many transcripts to this address lately; try again later.",
            details={"per_address_hour": settings.chat_transcripts_per_address_hour},
        )
