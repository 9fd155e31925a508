"""An email-ready contact center: the app with its SMTP listener and a fake relay, raw
messages in the charsets people send, and helpers to drive both SMTP directions."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib
import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import func, select

from app.channels.entry_points import add_entry_point
from app.channels.models import Attachment, Message, OutboundEmail, WebhookReceipt
from app.contacts.models import Contact
from app.main import create_app
from tests.conftest import UserFactory, make_settings
from tests.helpers import free_port
from tests.routing_service.conftest import Center

SECRET = "webhook-secret-for-tests"
DOMAIN = "contactd.test"
SUPPORT = "support@shop.example.cn"
WEBHOOK = "/webhooks/email/inbound"


def b64_word(text: str, charset: str) -> str:
    """An RFC 2047 encoded word as a client in ``charset`` would write it."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(_codec(charset))).decode()}?="


def _codec(charset: str) -> str:
    return {"gb2312": "gbk"}.get(charset.lower(), charset)


@dataclass
class Part:
    content_type: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)
    encoding: str = "base64"

    def render(self) -> bytes:
        lines = [f"Content-Type: {self.content_type}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.encoding == "base64":
            lines.append("Content-Transfer-Encoding: base64")
            body = base64.encodebytes(self.payload).replace(b"\n", b"\r\n")
        else:
            lines.append(f"Content-Transfer-Encoding: {self.encoding}")
            body = self.payload
        return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def text_part(text: str, charset: str = "utf-8", codec: str | None = None) -> Part:
    return Part(f"text/plain; charset={charset}", text.encode(codec or _codec(charset)))


def build_raw(
    *,
    sender: str = "=?UTF-8?B?5byg5LiJ?= <zhang.san@example.cn>",
    to: str = SUPPORT,
    subject: str = "Order question",
    message_id: str | None = "<first.1@mail.example.cn>",
    body: Part | None = None,
    parts: Sequence[Part] = (),
    multipart: str = "mixed",
    extra: dict[str, str] | None = None,
) -> bytes:
    """A raw RFC 5322 message with exactly the bytes a given mail client would send."""
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", "MIME-Version: 1.0"]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    headers += [f"{k}: {v}" for k, v in (extra or {}).items()]
    main = body or text_part("Hello, where is my order?")
    if not parts:
        rendered = main.render()
        return "\r\n".join(headers).encode() + b"\r\n" + rendered + b"\r\n"
    boundary = "=_boundary_42"
    headers.append(f'Content-Type: multipart/{multipart}; boundary="{boundary}"')
    chunks = [b"--" + boundary.encode() + b"\r\n" + p.render() for p in (main, *parts)]
    return (
        "\r\n".join(headers).encode()
        + b"\r\n\r\nThis is a MIME message.\r\n"
        + b"\r\n".join(chunks)
        + b"\r\n--"
        + boundary.encode()
        + b"--\r\n"
    )


class RecordingRelay:
    """The fake SMTP relay: keeps what it is given; can refuse the next N deliveries."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.fail_next = 0
        self.failure = "451 4.3.0 Relay busy, try later"
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.failure
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Queued"


@pytest.fixture
def relay() -> Iterator[RecordingRelay]:
    handler = RecordingRelay()
    handler.port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=handler.port, server_hostname="relay.test"
    )
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def email_settings(relay_port: int, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "smtp_port": 0,
        "email_webhook_secret": SECRET,
        "smtp_relay_host": "127.0.0.1",
        "smtp_relay_port": relay_port,
        "email_domain": DOMAIN,
    }
    values.update(overrides)
    return make_settings(**values)


def speed_up(application: FastAPI) -> None:
    """Retries in tens of milliseconds instead of minutes."""
    sender = application.state.email_sender
    sender.poll_seconds = 0.05
    sender.retry_base_seconds = 0.05
    sender.retry_max_seconds = 0.2


@pytest.fixture
async def app(clean_db: str, relay: RecordingRelay) -> AsyncIterator[FastAPI]:
    """Overrides the suite's app: this one listens for SMTP and mails through the relay."""
    application = create_app(email_settings(relay.port), database_url=clean_db)
    async with application.router.lifespan_context(application):
        speed_up(application)
        yield application


@pytest.fixture
async def center(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    """A support queue taking email, reached at SUPPORT."""
    found = Center(client, admin, make_user, {})
    await found.skill("support")
    await found.queue("support", [("support", 1)], channels=["email", "chat", "voice"])
    async with app.state.db.unit_of_work() as session:
        await add_entry_point(session, "email", SUPPORT, "support")
    return found


async def post_email(
    client: httpx.AsyncClient, raw: bytes, *, to: str | None = None, secret: str = SECRET
) -> httpx.Response:
    return await client.post(
        WEBHOOK,
        content=raw,
        params={"to": to} if to else None,
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {secret}"},
    )


async def smtp_send(
    app: FastAPI,
    raw: bytes,
    *,
    sender: str = "zhang.san@example.cn",
    to: Sequence[str] = (SUPPORT,),
) -> tuple[dict[str, Any], str]:
    """Deliver over SMTP to the app's listener, as an MTA would."""
    return await aiosmtplib.send(
        raw, sender=sender, recipients=list(to), hostname="127.0.0.1", port=app.state.smtp_port
    )


async def counts(app: FastAPI) -> dict[str, int]:
    async with app.state.db.unit_of_work() as session:
        result = {}
        for name, model in (
            ("contacts", Contact),
            ("messages", Message),
            ("attachments", Attachment),
            ("receipts", WebhookReceipt),
            ("outbound", OutboundEmail),
        ):
            result[name] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
        return result


async def event_kinds(app: FastAPI, contact_id: int | None) -> list[str]:
    from app.contacts.models import ContactEvent

    async with app.state.db.unit_of_work() as session:
        condition = (
            ContactEvent.contact_id.is_(None)
            if contact_id is None
            else ContactEvent.contact_id == contact_id
        )
        rows = await session.scalars(
            select(ContactEvent.kind).where(condition).order_by(ContactEvent.id)
        )
        return list(rows)
