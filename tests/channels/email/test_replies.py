"""Replies out: stored with the message, mailed through the relay, retried, threaded back."""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.channels.email.schemas import EmailReplyIn
from app.channels.email.sender import EmailSender, RelayTransport
from app.channels.email.service import queue_reply, receive_email
from app.channels.entry_points import add_entry_point, entry_point
from app.channels.models import OutboundEmail
from app.main import create_app
from app.queues.schemas import QueueCreate
from app.queues.service import create_queue
from app.users.schemas import UserCreate
from app.users.service import create_user
from tests.channels.email.conftest import (
    DOMAIN,
    SUPPORT,
    RecordingRelay,
    b64_word,
    build_raw,
    counts,
    email_settings,
    event_kinds,
    post_email,
    smtp_send,
    text_part,
)
from tests.routing_service.conftest import Center, eventually


def read(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def assigned_contact(center: Center, client: httpx.AsyncClient, raw: bytes) -> int:
    """An email contact accepted by agent li.na."""
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    response = await post_email(client, raw)
    assert response.status_code == 200, response.text
    contact_id: int = response.json()["contact_id"]
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    return contact_id


async def reply(center: Center, contact_id: int, body: Any, who: str = "li.na") -> httpx.Response:
    headers = center.headers(who) if who in center.agents else center.admin
    return await center.client.post(
        f"/api/v1/contacts/{contact_id}/email-replies", json=body, headers=headers
    )


async def delivered(relay: RecordingRelay, count: int = 1) -> list[tuple[str, list[str], bytes]]:
    async def enough() -> bool:
        return len(relay.received) >= count

    await eventually(enough)
    return relay.received


async def outbound_row(app: FastAPI) -> OutboundEmail:
    async with app.state.db.unit_of_work() as session:
        row: OutboundEmail | None = await session.scalar(
            select(OutboundEmail).order_by(OutboundEmail.id.desc())
        )
        assert row is not None
        return row


async def test_gbk_email_in_by_smtp_reply_out_and_the_answer_threads_back(
    app: FastAPI, center: Center, client: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    """The whole journey: a GBK email with a Chinese RFC 2047 subject arrives over SMTP, an
    agent reads it, accepts and replies; the relay gets a threaded UTF-8 reply; the
    customer's answer to it reopens the same contact after it had ended."""
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    original = build_raw(
        sender=f"{b64_word('张三', 'GB2312')} <zhang.san@example.cn>",
        subject=b64_word("订单还没有发货", "GB2312"),
        message_id="<order.1@mail.example.cn>",
        body=text_part("您好，我的订单还没有发货，订单号 88231。", "gb2312"),
    )
    _, accepted = await smtp_send(app, original)
    assert accepted.startswith("2.0.0")

    contacts = await client.get("/api/v1/contacts?channel=email", headers=center.admin)
    [contact] = contacts.json()["items"]
    contact_id = contact["id"]
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    conversation = await client.get(
        f"/api/v1/contacts/{contact_id}/email-messages", headers=center.headers("li.na")
    )
    [first] = conversation.json()
    assert first["body"] == "您好，我的订单还没有发货，订单号 88231。"
    assert first["subject"] == "订单还没有发货"

    answer = await reply(center, contact_id, {"body": "您好，您的订单今天已经发货。"})
    assert answer.status_code == 202, answer.text
    ours = answer.json()
    assert ours["direction"] == "outbound"
    assert ours["delivery"]["status"] == "pending"
    assert ours["message_id"].endswith(f"@{DOMAIN}>")

    [(envelope_from, recipients, raw)] = await delivered(relay)
    assert (envelope_from, recipients) == (SUPPORT, ["zhang.san@example.cn"])
    mail = read(raw)
    assert mail["From"] == SUPPORT
    assert mail["To"] == "zhang.san@example.cn"
    assert mail["Subject"] == f"Re: 订单还没有发货 [#{contact_id}]"
    assert mail["Message-ID"] == ours["message_id"]
    assert mail["In-Reply-To"] == "<order.1@mail.example.cn>"
    assert mail["References"] == "<order.1@mail.example.cn>"
    assert mail["X-Contactd-Loop"] == DOMAIN
    assert mail["Auto-Submitted"] is None  # a person wrote it
    body = mail.get_body(("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert body["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
    assert body.get_content().strip() == "您好，您的订单今天已经发货。"

    async def sent() -> bool:
        return (await outbound_row(app)).status == "sent"

    await eventually(sent)

    assert (await center.act("li.na", contact_id, "end")).status_code == 200
    done = await client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers("li.na"))
    assert done.status_code == 200
    assert (await center.get(contact_id))["state"] == "ended"

    answer_back = build_raw(
        sender=f"{b64_word('张三', 'GB2312')} <zhang.san@example.cn>",
        subject=b64_word(f"回复: 订单还没有发货 [#{contact_id}]", "GB2312"),
        message_id="<order.2@mail.example.cn>",
        body=text_part("收到了，谢谢！但是少了一件。", "gb2312"),
        extra={
            "In-Reply-To": ours["message_id"],
            "References": f"<order.1@mail.example.cn> {ours['message_id']}",
        },
    )
    await smtp_send(app, answer_back)
    reopened = await center.wait_state(contact_id, "offered", "li.na")
    assert "contact.reopened" in [e["kind"] for e in reopened["events"]]
    assert (await counts(app))["contacts"] == 1
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    thread = await client.get(
        f"/api/v1/contacts/{contact_id}/email-messages", headers=center.headers("li.na")
    )
    assert [(m["direction"], m["automatic"] or m["body"]) for m in thread.json()] == [
        ("inbound", "您好，我的订单还没有发货，订单号 88231。"),
        ("outbound", "您好，您的订单今天已经发货。"),
        ("outbound", "csat_survey"),  # the survey link, mailed when the contact ended
        ("inbound", "收到了，谢谢！但是少了一件。"),
    ]

    second = await reply(center, contact_id, {"body": "We will send the missing item."})
    assert second.status_code == 202
    _, _, raw_second = (await delivered(relay, 3))[2]
    threaded = read(raw_second)
    assert threaded["In-Reply-To"] == "<order.2@mail.example.cn>"
    assert threaded["References"].split() == [
        "<order.1@mail.example.cn>",
        ours["message_id"],
        "<order.2@mail.example.cn>",
    ]
    assert threaded["Subject"] == f"Re: 订单还没有发货 [#{contact_id}]"


async def test_failed_sends_are_retried_with_backoff_until_sent(
    app: FastAPI, center: Center, client: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    contact_id = await assigned_contact(center, client, build_raw())
    relay.fail_next = 2
    response = await reply(center, contact_id, {"body": "On its way.", "cc": ["Boss@Example.cn"]})
    assert response.status_code == 202

    [(_, recipients, _)] = await delivered(relay)
    assert recipients == ["zhang.san@example.cn", "boss@example.cn"]

    async def sent() -> OutboundEmail | None:
        row = await outbound_row(app)
        return row if row.status == "sent" else None

    row = await eventually(sent)
    assert row.attempts == 3
    assert row.sent_at is not None
    assert row.last_error is not None
    assert row.last_error.startswith("451")
    kinds = await event_kinds(app, contact_id)
    assert kinds.count("email.send_failed") == 2
    assert kinds.count("email.sent") == 1
    listing = await client.get(
        f"/api/v1/contacts/{contact_id}/email-messages", headers=center.headers("li.na")
    )
    delivery = listing.json()[-1]["delivery"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 3)


async def test_after_max_attempts_the_mail_is_failed_and_visible(
    app: FastAPI, center: Center, client: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    app.state.email_sender.max_attempts = 3
    contact_id = await assigned_contact(center, client, build_raw())
    relay.fail_next = 100
    assert (await reply(center, contact_id, {"body": "Hello"})).status_code == 202

    async def failed() -> OutboundEmail | None:
        row = await outbound_row(app)
        return row if row.status == "failed" else None

    row = await eventually(failed)
    assert row.attempts == 3
    assert relay.received == []
    assert (await event_kinds(app, contact_id)).count("email.send_failed") == 3


async def test_a_permanent_refusal_fails_at_once(
    app: FastAPI, center: Center, client: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    contact_id = await assigned_contact(center, client, build_raw())
    relay.fail_next = 1
    relay.failure = "550 5.1.1 No such user"
    assert (await reply(center, contact_id, {"body": "Hello"})).status_code == 202

    async def failed() -> OutboundEmail | None:
        row = await outbound_row(app)
        return row if row.status == "failed" else None

    row = await eventually(failed)
    assert row.attempts == 1
    assert row.last_error is not None
    assert "550" in row.last_error


async def test_reply_goes_to_reply_to_and_keeps_html_sanitized(
    app: FastAPI, center: Center, client: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    raw = build_raw(extra={"Reply-To": "orders@example.cn"})
    contact_id = await assigned_contact(center, client, raw)
    response = await reply(
        center,
        contact_id,
        {"body": "Shipped.", "body_html": "<p>Shipped.</p><script>alert(1)</script>"},
    )
    assert response.status_code == 202
    assert "script" not in response.json()["body_html"]
    [(_, recipients, sent)] = await delivered(relay)
    assert recipients == ["orders@example.cn"]
    html = read(sent).get_body(("html",))
    assert html is not None
    assert "<p>Shipped.</p>" in html.get_content()
    assert "script" not in html.get_content()


async def test_who_may_reply(
    app: FastAPI, center: Center, client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    contact_id = await assigned_contact(center, client, build_raw())
    await center.agent("tom", {"support": 3})
    assert (await reply(center, contact_id, {"body": "Hi"}, who="tom")).status_code == 403
    by_supervisor = await client.post(
        f"/api/v1/contacts/{contact_id}/email-replies", json={"body": "Hi"}, headers=supervisor
    )
    assert by_supervisor.status_code == 202
    assert (await reply(center, contact_id, {"body": ""})).status_code == 422
    assert (
        await reply(center, contact_id, {"body": "x", "cc": ["not an address"]})
    ).status_code == 422
    assert (await reply(center, 999_999, {"body": "Hi"})).status_code == 404
    voice = await center.contact("support", "voice")
    assert (await reply(center, voice, {"body": "Hi"}, who="admin")).status_code == 404
    assert (await counts(app))["outbound"] == 1


async def test_two_senders_never_send_the_same_mail_twice(
    clean_db: str, relay: RecordingRelay
) -> None:
    """Instances claim with SKIP LOCKED: three senders racing over twelve due replies
    deliver each exactly once."""
    settings = email_settings(relay.port, smtp_port=None, smtp_relay_host=None)
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        assert application.state.email_sender is None  # no relay: no background sender
        db = application.state.db
        async with db.unit_of_work() as session:
            queue = QueueCreate(name="support", display_name="Support", channels=["email"])
            await create_queue(session, queue, None)
            await add_entry_point(session, "email", SUPPORT, "support")
            boss = await create_user(
                session,
                UserCreate(
                    username="boss", display_name="Boss", role="supervisor", password="pw-12345678"
                ),
            )
        async with db.unit_of_work() as session:
            received = await receive_email(session, build_raw(), settings)
        assert received.contact_id is not None
        for number in range(12):
            async with db.unit_of_work() as session:
                await queue_reply(
                    session,
                    received.contact_id,
                    boss,
                    EmailReplyIn(body=f"Reply {number}"),
                    settings,
                )
        relaying = settings.model_copy(update={"smtp_relay_host": "127.0.0.1"})
        senders = [
            EmailSender(db, relaying, RelayTransport(relaying), batch_size=2) for _ in range(3)
        ]

        async def drain(sender: EmailSender) -> None:
            while await sender.send_due():
                pass

        await asyncio.gather(*(drain(s) for s in senders))
        bodies = []
        for _, _, raw in relay.received:
            part = read(raw).get_body(("plain",))
            assert part is not None
            bodies.append(part.get_content().strip())
        assert sorted(bodies) == sorted(f"Reply {n}" for n in range(12))
        async with db.unit_of_work() as session:
            rows = list(await session.scalars(select(OutboundEmail)))
        assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


async def test_greeting_acknowledges_a_new_conversation_once_and_never_a_robot(
    app: FastAPI, center: Center, client: httpx.AsyncClient, relay: RecordingRelay
) -> None:
    async with app.state.db.unit_of_work() as session:
        found = await entry_point(session, "email", SUPPORT)
        assert found is not None
        found[0].greeting = "We have your message, ticket {contact_id}. 我们已收到您的邮件。"
    created = (await post_email(client, build_raw())).json()
    [(_, recipients, raw)] = await delivered(relay)
    ack = read(raw)
    assert recipients == ["zhang.san@example.cn"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<first.1@mail.example.cn>"
    assert ack["Subject"] == f"Re: Order question [#{created['contact_id']}]"
    plain = ack.get_body(("plain",))
    assert plain is not None
    assert f"ticket {created['contact_id']}. 我们已收到您的邮件。" in plain.get_content()
    assert (await counts(app))["outbound"] == 1

    again = build_raw(subject="Another question", message_id="<other.2@mail.example.cn>")
    assert (await post_email(client, again)).json()["outcome"] == "created"
    assert (await counts(app))["outbound"] == 1  # one acknowledgement per sender per hour

    bulk = build_raw(
        sender="news@shop-news.example",
        message_id="<news.1@shop-news.example>",
        extra={"Precedence": "bulk"},
    )
    assert (await post_email(client, bulk)).json()["outcome"] == "automatic"
    out_of_office = build_raw(
        sender="zhang.san@example.cn",
        message_id="<ooo.7@mail.example.cn>",
        extra={"Auto-Submitted": "auto-replied", "In-Reply-To": ack["Message-ID"]},
    )
    answered = (await post_email(client, out_of_office)).json()
    assert (answered["outcome"], answered["contact_id"]) == ("automatic", created["contact_id"])
    assert (await counts(app))["outbound"] == 1

    stranger = build_raw(sender="li.si@example.cn", message_id="<li.1@example.cn>")
    assert (await post_email(client, stranger)).json()["outcome"] == "created"
    assert (await counts(app))["outbound"] == 2
