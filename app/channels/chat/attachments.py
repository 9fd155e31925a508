"""Files in a chat: stored in ``attachments`` (the table email attachments use), each on a
message of the transcript whose ``meta.attachment`` names it, so the visitor's socket, the
agent's console, the privacy export and the erasure see them like any other message.

The caller has checked the file (``files.check_file``); nothing is stored otherwise.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.chat import service
from app.channels.chat.files import AcceptedFile, Refusal
from app.channels.chat.protocol import AttachmentRef
from app.channels.models import Attachment, ChatSession, Message
from app.errors import AppError, NotFound, PayloadTooLarge, Unauthorized
from app.events.bus import EventBus
from app.users.models import User


class AttachmentTooLarge(PayloadTooLarge):
    code = "attachment_too_large"


class AttachmentTypeRefused(AppError):
    status_code = 415
    code = "attachment_type_refused"


def refusal_error(refusal: Refusal, max_bytes: int) -> AppError:
    """The 413 or 415 a refused file gets."""
    if refusal.reason == "too_large":
        return AttachmentTooLarge(
            f"A file has at most {max_bytes} bytes.", details={"max_bytes": max_bytes}
        )
    return AttachmentTypeRefused(
        "Send an image, a PDF, a text file or an office document.",
        details={"detected": refusal.detected},
    )


async def visitor_chat(session: AsyncSession, session_id: uuid.UUID, token: str) -> ChatSession:
    """The chat whose token the visitor holds; 401 for a wrong token or unknown session."""
    chat = await service.authenticate(session, session_id, token)
    if chat is None:
        raise Unauthorized("Unknown session or wrong token.")
    return chat


async def _store_file(
    session: AsyncSession,
    contact_id: int,
    file: AcceptedFile,
    *,
    author: str,
    meta: dict[str, Any],
    agent_id: int | None = None,
) -> Message:
    """A message whose text is the file's name, and the file; call with the contact locked."""
    message = await service._store(
        session, contact_id, author=author, text=file.filename, meta=meta, agent_id=agent_id
    )
    attachment = Attachment(
        message_id=message.id,
        filename=file.filename,
        content_type=file.content_type,
        size_bytes=file.size,
        sha256=file.sha256,
        content=file.content,
    )
    session.add(attachment)
    await session.flush()
    ref = AttachmentRef(
        id=attachment.id,
        filename=file.filename,
        content_type=file.content_type,
        size_bytes=file.size,
    )
    message.meta = {**meta, "attachment": ref.model_dump()}
    await session.flush()
    return message


async def visitor_upload(
    session: AsyncSession, bus: EventBus, chat: ChatSession, file: AcceptedFile, max_per_minute: int
) -> Message:
    """The visitor's file, while the chat is live; counts against the message rate."""
    contact = await service._lock_contact(session, chat.contact_id)
    service._check_live(await service._chat_of(session, chat.contact_id), contact)
    await service._check_rate(session, contact.id, max_per_minute)
    message = await _store_file(session, contact.id, file, author="customer", meta={})
    service._publish_visitor_message(session, bus, contact, message)
    return message


async def agent_upload(
    session: AsyncSession, bus: EventBus, contact_id: int, user: User, file: AcceptedFile
) -> Message:
    """The agent's file to the visitor: the chat's assigned agent or a supervisor."""
    contact = await service._lock_contact(session, contact_id)
    await service._may_see_chat(session, contact, user, "contact_action")
    service._check_live(await service._chat_of(session, contact_id), contact)
    await service._may_act(session, contact, user)
    message = await _store_file(
        session,
        contact_id,
        file,
        author="agent",
        meta={"agent_name": user.display_name},
        agent_id=user.id,
    )
    frame = service.message_frame(message).frame()
    service._publish_after_commit(session, bus, service.chat_topic(contact_id), frame)
    return message


async def visitor_download(
    session: AsyncSession, chat: ChatSession, attachment_id: int
) -> Attachment:
    """A file of the visitor's own chat; any other is a 404, as if it did not exist."""
    attachment = await session.scalar(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.id == attachment_id, Message.contact_id == chat.contact_id)
    )
    if attachment is None:
        raise NotFound(f"No attachment {attachment_id}.", details={"attachment_id": attachment_id})
    return attachment
