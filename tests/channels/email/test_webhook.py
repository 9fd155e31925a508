"""Inbound email by HTTP: authentication, limits, storage, threading, reopening, loops."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from fastapi import FastAPI

from app.customers.models import Customer
from app.main import create_app
from tests.channels.email.conftest import (
    SECRET,
    SUPPORT,
    WEBHOOK,
    Part,
    b64_word,
    build_raw,
    counts,
    email_settings,
    event_kinds,
    post_email,
    text_part,
)
from tests.conftest import make_settings
from tests.routing_service.conftest import Center

NOTHING = {"contacts": 0, "messages": 0, "attachments": 0, "receipts": 0, "outbound": 0}


async def messages(center: Center, contact_id: int) -> list[dict[str, Any]]:
    response = await center.client.get(
        f"/api/v1/contacts/{contact_id}/email-messages", headers=center.admin
    )
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


# ---------------------------------------------------------------- refusals


async def test_webhook_without_configured_secret_is_closed(clean_db: str) -> None:
    application = create_app(make_settings(), database_url=clean_db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await post_email(client, build_raw(), secret="")
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "forbidden"
        assert await counts(application) == NOTHING


async def test_webhook_needs_the_right_secret(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    wrong = await post_email(client, build_raw(), secret="not-it")
    assert wrong.status_code == 401
    missing = await client.post(
        WEBHOOK, content=build_raw(), headers={"Content-Type": "message/rfc822"}
    )
    assert missing.status_code == 401
    assert await counts(app) == NOTHING


async def test_webhook_refuses_other_media_types(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        WEBHOOK,
        content=build_raw(),
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert await counts(app) == NOTHING


async def test_oversized_message_is_refused_and_nothing_stored(
    clean_db: str, relay: object
) -> None:
    application = create_app(
        email_settings(25, max_email_bytes=4096, smtp_port=None), database_url=clean_db
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            big = build_raw(body=text_part("x" * 8000))
            response = await post_email(client, big)
            assert response.status_code == 413
        assert await counts(application) == NOTHING


async def test_attachment_over_the_limit_is_413_and_nothing_stored(
    clean_db: str, relay: object
) -> None:
    application = create_app(
        email_settings(25, max_attachment_bytes=1024, smtp_port=None), database_url=clean_db
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            raw = build_raw(
                parts=[
                    Part(
                        "application/pdf",
                        b"%" * 5000,
                        {"Content-Disposition": "attachment; filename=big.pdf"},
                    )
                ]
            )
            response = await post_email(client, raw)
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "attachment_too_large"
        assert await counts(application) == NOTHING


async def test_broken_mime_is_422_and_nothing_stored(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    broken = (
        b"From: a@example.com\r\nTo: support@shop.example.cn\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nx"
    )
    response = await post_email(client, broken)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_email"
    assert await counts(app) == NOTHING


async def test_mail_for_an_unknown_address_is_refused(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    response = await post_email(client, build_raw(to="sales@shop.example.cn"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_recipient"
    assert await counts(app) == NOTHING


# ---------------------------------------------------------------- a new conversation


async def test_new_email_becomes_a_queued_email_contact(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    pdf = b"%PDF-1.4 invoice bytes"
    raw = build_raw(
        sender=f"{b64_word('张三', 'GB2312')} <Zhang.San@Example.cn>",
        to=f"Support <{SUPPORT.upper()}>",
        subject=b64_word("订单还没有发货", "GB2312"),
        body=text_part("您好，我的订单还没有发货", "gb2312"),
        parts=[
            Part(
                "application/pdf",
                pdf,
                {"Content-Disposition": "attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf"},
            )
        ],
    )
    response = await post_email(client, raw)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["outcome"] == "created"
    contact_id = result["contact_id"]

    contact = await center.get(contact_id)
    assert contact["channel"] == "email"
    assert contact["state"] == "queued"
    assert contact["provider"] == "email"
    assert contact["provider_ref"] == "<first.1@mail.example.cn>"
    assert contact["subject"] == "订单还没有发货"
    assert contact["customer_match"] == "created"
    async with app.state.db.unit_of_work() as session:
        customer = await session.get(Customer, contact["customer_id"])
        assert customer is not None
        assert (customer.name, customer.language) == ("张三", "zh-CN")

    [message] = await messages(center, contact_id)
    assert message["body"] == "您好，我的订单还没有发货"
    assert message["direction"] == "inbound"
    assert message["author"] == "customer"
    assert message["message_id"] == "<first.1@mail.example.cn>"
    assert message["sender"] == "zhang.san@example.cn"
    [attachment] = message["attachments"]
    assert attachment["filename"] == "发票.pdf"
    assert attachment["size_bytes"] == len(pdf)
    assert attachment["sha256"] == hashlib.sha256(pdf).hexdigest()

    download = await client.get(f"/api/v1/attachments/{attachment['id']}", headers=center.admin)
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf" in download.headers["content-disposition"]
    assert "contact.message_received" in await event_kinds(app, contact_id)


async def test_the_same_message_delivered_twice_is_stored_once(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    raw = build_raw()
    first = await post_email(client, raw)
    again = await post_email(client, raw)
    assert first.status_code == again.status_code == 200
    assert again.json() == {
        "outcome": "duplicate",
        "contact_id": first.json()["contact_id"],
        "message_id": None,
    }
    assert (await counts(app))["contacts"] == 1
    assert (await counts(app))["messages"] == 1


async def test_recipient_from_query_or_delivered_to(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    alias = build_raw(to="everyone@shop.example.cn", message_id="<alias.1@example.cn>")
    assert (await post_email(client, alias)).status_code == 404
    assert (await post_email(client, alias, to=SUPPORT)).json()["outcome"] == "created"
    forwarded = build_raw(
        to="help@shop.example.cn", message_id="<fwd.1@example.cn>", extra={"Delivered-To": SUPPORT}
    )
    assert (await post_email(client, forwarded)).json()["outcome"] == "created"


async def test_message_without_message_id_gets_a_derived_one(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    raw = build_raw(message_id=None)
    first = (await post_email(client, raw)).json()
    assert first["outcome"] == "created"
    assert (await post_email(client, raw)).json()["outcome"] == "duplicate"
    contact = await center.get(first["contact_id"])
    assert contact["provider_ref"].endswith("@derived.contactd.invalid>")


# ---------------------------------------------------------------- threading


async def test_reply_to_an_open_conversation_adds_a_message(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    contact_id = (await post_email(client, build_raw())).json()["contact_id"]
    reply = build_raw(
        subject="Re: Order question",
        message_id="<second.2@mail.example.cn>",
        body=text_part("Any news?"),
        extra={"In-Reply-To": "<first.1@mail.example.cn>"},
    )
    result = (await post_email(client, reply)).json()
    assert result["outcome"] == "threaded"
    assert result["contact_id"] == contact_id
    assert (await counts(app))["contacts"] == 1
    bodies = [m["body"] for m in await messages(center, contact_id)]
    assert bodies == ["Hello, where is my order?", "Any news?"]
    assert (await center.get(contact_id))["state"] == "queued"
    assert (await event_kinds(app, contact_id)).count("contact.message_received") == 2


async def test_ticket_token_threads_only_for_the_same_sender(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    contact_id = (await post_email(client, build_raw())).json()["contact_id"]
    same = build_raw(subject=f"More about my order [#{contact_id}]", message_id="<t.2@example.cn>")
    threaded = (await post_email(client, same)).json()
    assert (threaded["outcome"], threaded["contact_id"]) == ("threaded", contact_id)
    stranger = build_raw(
        sender="mallory@evil.example",
        subject=f"Re: [#{contact_id}]",
        message_id="<t.3@evil.example>",
    )
    other = (await post_email(client, stranger)).json()
    assert other["outcome"] == "created"
    assert other["contact_id"] != contact_id


async def test_reply_to_an_ended_conversation_reopens_it(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.available("li.na")
    contact_id = (await post_email(client, build_raw())).json()["contact_id"]
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200
    assert (await center.act("li.na", contact_id, "end")).status_code == 200
    done = await client.post("/api/v1/agents/me/wrap-up/end", headers=center.headers("li.na"))
    assert done.status_code == 200
    assert (await center.get(contact_id))["state"] == "ended"

    reply = build_raw(
        message_id="<later.9@mail.example.cn>",
        body=text_part("It still has not arrived."),
        extra={"References": "<first.1@mail.example.cn>"},
    )
    result = (await post_email(client, reply)).json()
    # message 2 is the CSAT survey link, mailed when the contact ended
    assert result == {"outcome": "reopened", "contact_id": contact_id, "message_id": 3}
    assert (await counts(app))["contacts"] == 1
    reopened = await center.wait_state(contact_id, "offered", "li.na")
    kinds = [e["kind"] for e in reopened["events"] if not e["kind"].startswith("email.")]
    assert kinds.index("contact.reopened") > kinds.index("contact.ended")
    assert kinds[-1] == "contact.offered"  # the survey mail's delivery may come in between


# ---------------------------------------------------------------- automatic mail and loops


async def test_auto_reply_is_recorded_on_its_conversation_but_never_routed(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    contact_id = (await post_email(client, build_raw())).json()["contact_id"]
    out_of_office = build_raw(
        subject="Automatic reply: Order question",
        message_id="<ooo.1@mail.example.cn>",
        body=text_part("I am out of the office until Monday."),
        extra={"Auto-Submitted": "auto-replied", "In-Reply-To": "<first.1@mail.example.cn>"},
    )
    result = (await post_email(client, out_of_office)).json()
    assert result["outcome"] == "automatic"
    assert result["contact_id"] == contact_id
    last = (await messages(center, contact_id))[-1]
    assert (last["author"], last["automatic"]) == ("system", "auto_submitted")
    kinds = await event_kinds(app, contact_id)
    assert "email.automatic_received" in kinds
    assert kinds.count("contact.message_received") == 1
    assert (await counts(app))["outbound"] == 0


async def test_auto_reply_to_an_ended_conversation_does_not_reopen_it(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    contact_id = (await post_email(client, build_raw())).json()["contact_id"]
    async with app.state.db.unit_of_work() as session:
        from app.contacts.models import Contact

        contact = await session.get(Contact, contact_id)
        assert contact is not None
        contact.state = "ended"
    bounce = build_raw(
        sender="MAILER-DAEMON@mx.example.cn",
        message_id="<bounce.1@mx.example.cn>",
        extra={"In-Reply-To": "<first.1@mail.example.cn>"},
    )
    assert (await post_email(client, bounce)).json()["outcome"] == "automatic"
    assert (await center.get(contact_id))["state"] == "ended"
    assert "contact.reopened" not in await event_kinds(app, contact_id)


async def test_automatic_mail_without_a_conversation_creates_nothing(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    newsletter = build_raw(sender="news@shop-news.example", extra={"Precedence": "bulk"})
    result = (await post_email(client, newsletter)).json()
    assert result == {"outcome": "automatic", "contact_id": None, "message_id": None}
    assert (await counts(app))["contacts"] == 0
    assert "email.automatic_ignored" in await event_kinds(app, None)


async def test_our_own_mail_coming_back_is_dropped_as_a_loop(
    app: FastAPI, center: Center, client: httpx.AsyncClient
) -> None:
    contact_id = (await post_email(client, build_raw())).json()["contact_id"]
    echo = build_raw(
        sender=SUPPORT,
        message_id="<echo.1@contactd.test>",
        extra={"X-Contactd-Loop": "contactd.test", "In-Reply-To": "<first.1@mail.example.cn>"},
    )
    result = (await post_email(client, echo)).json()
    assert result == {"outcome": "loop", "contact_id": contact_id, "message_id": None}
    assert (await counts(app))["messages"] == 1
    assert "email.loop_dropped" in await event_kinds(app, contact_id)


# ---------------------------------------------------------------- access


async def test_only_the_assigned_agent_or_a_supervisor_reads_the_conversation(
    app: FastAPI, center: Center, client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    await center.agent("li.na", {"support": 3})
    await center.agent("tom", {"support": 3})
    raw = build_raw(
        parts=[Part("image/png", b"png", {"Content-Disposition": "attachment; filename=a.png"})]
    )
    contact_id = (await post_email(client, raw)).json()["contact_id"]
    await center.available("li.na")
    await center.wait_state(contact_id, "offered", "li.na")
    assert (await center.act("li.na", contact_id, "accept")).status_code == 200

    path = f"/api/v1/contacts/{contact_id}/email-messages"
    mine = await client.get(path, headers=center.headers("li.na"))
    assert mine.status_code == 200
    attachment_id = mine.json()[0]["attachments"][0]["id"]
    assert (await client.get(path, headers=center.headers("tom"))).status_code == 403
    assert (await client.get(path, headers=supervisor)).status_code == 200
    download = f"/api/v1/attachments/{attachment_id}"
    assert (await client.get(download, headers=center.headers("tom"))).status_code == 403
    assert (await client.get(download, headers=center.headers("li.na"))).status_code == 200
    assert (await client.get(path)).status_code == 401
