"""Files in a chat and the transcript by email (docs/chat.md).

The visitor's endpoints take the session's token as ``Authorization: Bearer <token>`` (the
token the socket's ``hello`` carries); a wrong token and an unknown session are the same
401. The agent's upload follows the rules of the agent's messages; an agent downloads a
chat's file where email attachments are, ``GET /api/v1/attachments/{id}``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Header, Request, Response, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import AgentUser
from app.channels.chat import attachments, transcript_mail
from app.channels.chat.files import AcceptedFile, check_file
from app.channels.chat.router import message_out
from app.channels.chat.schemas import MessageOut, TranscriptQueued, TranscriptRequest
from app.channels.email.router import attachment_response
from app.channels.models import ChatSession
from app.config import Settings
from app.database import after_commit
from app.dependencies import SessionDep, SettingsDep
from app.events.bus import EventBus

router = APIRouter(tags=["chat"])

BearerHeader = Annotated[
    str | None,
    Header(description="`Bearer <token>`: the token `POST /api/v1/chat/sessions` gave."),
]
FileField = Annotated[UploadFile, File(description="One file, at most the configured size.")]

_Responses = dict[int | str, dict[str, Any]]
_VISITOR: _Responses = {401: {"description": "Unknown session or wrong token"}}
_UPLOAD: _Responses = {
    409: {"description": "The chat has ended (`chat_ended`), or is not assigned to the agent"},
    413: {"description": "The file is too large (`attachment_too_large`)"},
    415: {"description": "Not an allowed type of file (`attachment_type_refused`)"},
}
_DOWNLOAD: _Responses = {
    200: {"content": {"application/octet-stream": {}}},
    404: {"description": "No such file in this chat"},
}


def _bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _visitor(
    session: AsyncSession, session_id: uuid.UUID, authorization: str | None
) -> ChatSession:
    return await attachments.visitor_chat(session, session_id, _bearer(authorization))


async def _accepted(file: UploadFile, settings: Settings) -> AcceptedFile:
    """The upload, checked; a refusal raises before anything is stored."""
    max_bytes = settings.chat_attachment_max_bytes
    content = await file.read(max_bytes + 1)
    checked = check_file(file.filename, content, max_bytes, settings.chat_attachment_types)
    if isinstance(checked, AcceptedFile):
        return checked
    raise attachments.refusal_error(checked, max_bytes)


@router.post(
    "/api/v1/chat/sessions/{session_id}/attachments",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    summary="The visitor sends a file in the chat (multipart `file`)",
    responses={**_VISITOR, **_UPLOAD, 429: {"description": "Too many messages a minute"}},
)
async def visitor_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    session_id: uuid.UUID,
    file: FileField,
    authorization: BearerHeader = None,
) -> MessageOut:
    chat = await _visitor(session, session_id, authorization)
    accepted = await _accepted(file, settings)
    message = await attachments.visitor_upload(
        session, _bus(request), chat, accepted, settings.chat_messages_per_minute
    )
    return message_out(message)


@router.get(
    "/api/v1/chat/sessions/{session_id}/attachments/{attachment_id}",
    summary="The visitor downloads a file of their chat",
    response_class=Response,
    responses={**_VISITOR, **_DOWNLOAD},
)
async def visitor_download(
    session: SessionDep,
    session_id: uuid.UUID,
    attachment_id: int,
    authorization: BearerHeader = None,
) -> Response:
    chat = await _visitor(session, session_id, authorization)
    return attachment_response(await attachments.visitor_download(session, chat, attachment_id))


@router.post(
    "/api/v1/contacts/{contact_id}/attachments",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    summary="The agent sends a file in the chat (the assigned agent or a supervisor)",
    tags=["agent actions"],
    responses={**_UPLOAD, 403: {"description": "Not the agent of this contact"}},
)
async def agent_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    contact_id: int,
    file: FileField,
) -> MessageOut:
    accepted = await _accepted(file, settings)
    message = await attachments.agent_upload(session, _bus(request), contact_id, user, accepted)
    return message_out(message)


@router.post(
    "/api/v1/chat/sessions/{session_id}/transcript",
    response_model=TranscriptQueued,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Mail the chat's transcript to the visitor (once per address)",
    responses={
        **_VISITOR,
        200: {"description": "Asked before for this address: nothing new is sent"},
        429: {"description": "Too many addresses for this chat, or mails to this address"},
    },
)
async def transcript(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    session_id: uuid.UUID,
    data: TranscriptRequest,
    authorization: BearerHeader = None,
) -> TranscriptQueued:
    chat = await _visitor(session, session_id, authorization)
    zone = settings.zone if data.time_zone is None else ZoneInfo(data.time_zone)
    queued = await transcript_mail.queue_transcript(session, chat, data.email, zone, settings)
    if queued.duplicate:
        response.status_code = status.HTTP_200_OK
    else:
        sender = getattr(request.app.state, "email_sender", None)
        if sender is not None:
            after_commit(session, sender.wake)
    return TranscriptQueued(
        email=queued.mail.address,
        requested_at=queued.mail.requested_at,
        duplicate=queued.duplicate,
    )
