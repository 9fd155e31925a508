"""HTTP endpoints of the email channel: the inbound webhook, replies, the conversation."""

from __future__ import annotations

import hmac

import structlog
from fastapi import APIRouter, Request, Response, status

from app.auth.dependencies import AgentUser
from app.channels.email import service
from app.channels.email.mime import quote_filename
from app.channels.email.schemas import (
    AttachmentOut,
    DeliveryOut,
    EmailMessageOut,
    EmailReplyIn,
    InboundResult,
)
from app.channels.models import Attachment, Message, OutboundEmail
from app.config import Settings
from app.database import after_commit
from app.dependencies import SessionDep, SettingsDep
from app.errors import AppError, Forbidden, PayloadTooLarge, Unauthorized

router = APIRouter(tags=["email"])
log = structlog.get_logger(__name__)

RFC822 = "message/rfc822"


class UnsupportedMediaType(AppError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


def _authenticate(request: Request, settings: Settings) -> None:
    """Shared-secret bearer token, compared in constant time; no secret set: nobody."""
    if settings.email_webhook_secret is None:
        raise Forbidden("The email webhook is disabled: no secret is configured.")
    expected = settings.email_webhook_secret.get_secret_value().encode()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Unauthorized("Send the webhook secret as 'Authorization: Bearer <secret>'.")


def _check_media_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != RFC822:
        raise UnsupportedMediaType(
            f"Send the raw message as {RFC822}.", details={"content_type": media_type or None}
        )


@router.post(
    "/webhooks/email/inbound",
    response_model=InboundResult,
    summary="Receive one raw email (message/rfc822) from a mail provider",
    responses={
        401: {"description": "Wrong or missing secret"},
        403: {"description": "Webhook disabled (no secret configured)"},
        404: {"description": "No email entry point among the recipients"},
        413: {"description": "Message or attachment too large"},
        415: {"description": "Not message/rfc822"},
        422: {"description": "Not a readable email"},
    },
)
async def inbound(
    request: Request, session: SessionDep, settings: SettingsDep, to: str | None = None
) -> InboundResult:
    _authenticate(request, settings)
    _check_media_type(request)
    raw = await request.body()
    if len(raw) > settings.max_email_bytes:
        raise PayloadTooLarge(
            f"The message is larger than {settings.max_email_bytes} bytes.",
            details={"max_bytes": settings.max_email_bytes},
        )
    received = await service.receive_email(
        session,
        raw,
        settings,
        recipients=[to] if to else (),
        bus=getattr(request.app.state, "bus", None),
    )
    log.info("email_received", via="webhook", outcome=received.outcome, contact=received.contact_id)
    return InboundResult(
        outcome=received.outcome, contact_id=received.contact_id, message_id=received.message_id
    )


def _message_out(
    message: Message, attachments: list[Attachment], delivery: OutboundEmail | None
) -> EmailMessageOut:
    meta = message.meta
    return EmailMessageOut(
        id=message.id,
        contact_id=message.contact_id,
        seq=message.seq,
        direction=message.direction,
        author=message.author,
        agent_id=message.agent_id,
        body=message.body,
        body_html=message.body_html,
        message_id=message.external_id,
        subject=meta.get("subject"),
        sender=meta.get("from"),
        to=list(meta.get("to") or []),
        cc=list(meta.get("cc") or []),
        automatic=meta.get("automatic"),
        created_at=message.created_at,
        attachments=[AttachmentOut.model_validate(a) for a in attachments],
        delivery=None if delivery is None else DeliveryOut.model_validate(delivery),
    )


@router.post(
    "/api/v1/contacts/{contact_id}/email-replies",
    response_model=EmailMessageOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Reply to the customer by email (sent in the background, retried on failure)",
    tags=["agent actions"],
)
async def reply(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    contact_id: int,
    data: EmailReplyIn,
) -> EmailMessageOut:
    message, outbound = await service.queue_reply(
        session,
        contact_id,
        user,
        data,
        settings,
        bus=getattr(request.app.state, "bus", None),
    )
    sender = getattr(request.app.state, "email_sender", None)
    if sender is not None:
        after_commit(session, sender.wake)
    return _message_out(message, [], outbound)


@router.get(
    "/api/v1/contacts/{contact_id}/email-messages",
    response_model=list[EmailMessageOut],
    summary="The email conversation, with attachments and delivery status",
    tags=["contacts"],
)
async def email_messages(
    session: SessionDep, user: AgentUser, contact_id: int
) -> list[EmailMessageOut]:
    await service.conversation(session, contact_id, user)
    rows = await service.messages_of(session, contact_id)
    return [_message_out(m, attachments, delivery) for m, attachments, delivery in rows]


@router.get(
    "/api/v1/attachments/{attachment_id}",
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
    tags=["contacts"],
)
async def download_attachment(session: SessionDep, user: AgentUser, attachment_id: int) -> Response:
    return attachment_response(await service.attachment_for(session, attachment_id, user))


def attachment_response(attachment: Attachment) -> Response:
    """A download that browsers save rather than show or sniff (any file name survives)."""
    return Response(
        content=attachment.content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": quote_filename(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "X-Checksum-Sha256": attachment.sha256,
        },
    )
