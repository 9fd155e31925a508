"""Inbound email by SMTP, through the real listener the app starts."""

from __future__ import annotations

import aiosmtplib
import pytest
from fastapi import FastAPI

from app.channels.entry_points import add_entry_point
from app.database import Database, create_engine
from app.main import create_app
from app.queues.schemas import QueueCreate
from app.queues.service import create_queue
from tests.channels.email.conftest import (
    SUPPORT,
    Part,
    RecordingRelay,
    b64_word,
    build_raw,
    counts,
    email_settings,
    smtp_send,
    text_part,
)
from tests.routing_service.conftest import Center


async def test_listener_port_is_exposed(app: FastAPI) -> None:
    assert isinstance(app.state.smtp_port, int)
    assert app.state.smtp_port > 0


async def test_mail_for_an_unknown_mailbox_is_refused_at_rcpt(app: FastAPI, center: Center) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await smtp_send(app, build_raw(to="nobody@shop.example.cn"), to=["nobody@shop.example.cn"])
    assert refused.value.recipients[0].code == 550
    assert (await counts(app))["contacts"] == 0


async def test_accepted_mail_is_stored_before_the_250(app: FastAPI, center: Center) -> None:
    raw = build_raw(
        subject=b64_word("订单问题", "GB2312"), body=text_part("您好，我的订单还没有发货", "gb2312")
    )
    errors, reply = await smtp_send(app, raw, to=[SUPPORT, "nobody@shop.example.cn"])
    assert reply.startswith("2.0.0")
    assert list(errors) == ["nobody@shop.example.cn"]  # refused, the rest delivered
    found = await counts(app)
    assert (found["contacts"], found["messages"], found["receipts"]) == (1, 1, 1)


async def test_oversized_mail_and_attachments_get_552_and_nothing_is_stored(
    clean_db: str, relay: RecordingRelay
) -> None:
    settings = email_settings(relay.port, max_email_bytes=4096, max_attachment_bytes=1024)
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        async with application.state.db.unit_of_work() as session:
            data = QueueCreate(name="support", display_name="Support", channels=["email"])
            await create_queue(session, data, None)
            await add_entry_point(session, "email", SUPPORT, "support")
        big = build_raw(body=text_part("x" * 8000))
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as declared:
            await smtp_send(application, big)  # the client declares SIZE: refused at MAIL
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=application.state.smtp_port) as smtp:
            await smtp.mail("zhang.san@example.cn")  # no SIZE: refused after DATA
            await smtp.rcpt(SUPPORT)
            with pytest.raises(aiosmtplib.SMTPDataError) as too_big:
                await smtp.data(big)
        assert declared.value.code == 552
        attached = build_raw(
            parts=[Part("application/zip", b"z" * 2000, {"Content-Disposition": "attachment"})]
        )
        with pytest.raises(aiosmtplib.SMTPDataError) as attachment_too_big:
            await smtp_send(application, attached)
        assert (too_big.value.code, attachment_too_big.value.code) == (552, 552)
        assert (await counts(application))["contacts"] == 0
        _, accepted = await smtp_send(application, build_raw())
        assert accepted.startswith("2.0.0")


async def test_unreadable_mail_is_refused_permanently(app: FastAPI, center: Center) -> None:
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await smtp_send(
            app, b"To: support@shop.example.cn\r\nSubject: who sent this?\r\n\r\nbody\r\n"
        )
    assert refused.value.code == 554
    assert (await counts(app))["contacts"] == 0


async def test_database_down_gives_451_and_the_retry_is_stored(
    app: FastAPI, center: Center
) -> None:
    raw = build_raw()
    working: Database = app.state.db
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=app.state.smtp_port) as smtp:
        await smtp.mail("zhang.san@example.cn")
        await smtp.rcpt(SUPPORT)
        down = Database(create_engine("postgresql://nobody@127.0.0.1:1/none"))
        app.state.db = down
        try:
            with pytest.raises(aiosmtplib.SMTPDataError) as refused:
                await smtp.data(raw)
        finally:
            app.state.db = working
            await down.dispose()
    assert refused.value.code == 451
    assert (await counts(app))["contacts"] == 0
    _, reply = await smtp_send(app, raw)  # the sending MTA tries again later
    assert reply.startswith("2.0.0")
    assert (await counts(app))["contacts"] == 1


async def test_null_envelope_sender_is_a_bounce(app: FastAPI, center: Center) -> None:
    first = build_raw()
    await smtp_send(app, first)
    bounce = build_raw(
        sender="Mail System <system@mx.example.cn>",
        message_id="<dsn.1@mx.example.cn>",
        body=text_part("Your message could not be delivered."),
        extra={"In-Reply-To": "<first.1@mail.example.cn>"},
    )
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=app.state.smtp_port) as smtp:
        await smtp.mail("")  # MAIL FROM:<>
        await smtp.rcpt(SUPPORT)
        await smtp.data(bounce)
    found = await counts(app)
    assert (found["contacts"], found["messages"]) == (1, 2)
    async with app.state.db.unit_of_work() as session:
        from sqlalchemy import select

        from app.channels.models import Message

        last = await session.scalar(select(Message).order_by(Message.id.desc()).limit(1))
        assert last is not None
        assert (last.author, last.meta["automatic"]) == ("system", "null_sender")
