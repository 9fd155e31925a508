"""Files in a chat and the transcript by email, through the running service: uploads within
limits, both sides hear of them, downloads only for the chat's visitor and agent, one mail
per address through the outbox, and the customer's export and erasure include them."""

from __future__ import annotations

import email
import email.policy
import urllib.parse
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.agent_console.conftest import Console, open_console, token_of
from tests.channels.chat.conftest import Desk, Visitor
from tests.channels.email.conftest import RecordingRelay, email_settings, relay, speed_up
from tests.helpers import eventually

__all__ = ["relay"]  # the fake SMTP relay fixture

MAX_BYTES = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
PNG_NAME = "发票 2026.png"
REASON = "data-subject request 4711"


@pytest.fixture
async def app(clean_db: str, relay: RecordingRelay) -> AsyncIterator[FastAPI]:
    settings = email_settings(relay.port, smtp_port=None, chat_attachment_max_bytes=MAX_BYTES)
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        speed_up(application)
        yield application


def bearer(started: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {started['token']}"}


async def visitor_upload(
    desk: Desk, started: dict[str, Any], name: str, content: bytes, as_session: str | None = None
) -> httpx.Response:
    session_id = as_session or started["session_id"]
    return await desk.client.post(
        f"/api/v1/chat/sessions/{session_id}/attachments",
        files={"file": (name, content, "application/octet-stream")},
        headers=bearer(started),
    )


async def agent_upload(
    desk: Desk, headers: dict[str, str], contact_id: int, name: str, content: bytes
) -> httpx.Response:
    return await desk.client.post(
        f"/api/v1/contacts/{contact_id}/attachments",
        files={"file": (name, content, "application/pdf")},
        headers=headers,
    )


async def greeted(visitor: Visitor, started: dict[str, Any]) -> None:
    await visitor.hello(started)
    assert (await visitor.next_of("message"))["event"] == "greeting"


async def agent_on_console(console: Console, desk: Desk, name: str) -> None:
    await console.hello(token_of(desk.headers(name)))
    await console.next_of("snapshot")
    ready = await console.ask({"type": "set_state", "state": "available"})
    assert ready["type"] == "result", ready


async def accepted_on_console(console: Console, contact_id: int) -> None:
    offer = await console.next_of("offer")
    assert offer["contact_id"] == contact_id
    accepted = await console.ask({"type": "accept", "contact_id": contact_id})
    assert (accepted["type"], accepted["status"]) == ("result", "applied"), accepted


async def assigned(
    desk: Desk, visitor: Visitor, agent: str = "li.na", **body: Any
) -> dict[str, Any]:
    started = await desk.start(**body)
    await greeted(visitor, started)
    await desk.accept(agent, started["contact_id"])
    await visitor.next_of("agent_joined")
    return started


# ------------------------------------------------------------------ uploads


async def test_a_file_reaches_the_agent_and_back_with_its_chinese_name(live_desk: Desk) -> None:
    await live_desk.agent("li.na", available=False)
    console_url = live_desk.ws_url.replace("/ws/chat", "/ws/agent")
    async with open_console(console_url) as console, live_desk.visitor() as visitor:
        await agent_on_console(console, live_desk, "li.na")
        started = await live_desk.start(name="王小明")
        contact_id = started["contact_id"]
        await greeted(visitor, started)
        await accepted_on_console(console, contact_id)
        await visitor.next_of("agent_joined")

        sent = await visitor_upload(live_desk, started, PNG_NAME, PNG)
        assert sent.status_code == 201, sent.text
        ref = sent.json()["attachment"]
        assert ref == ref | {
            "filename": PNG_NAME,
            "content_type": "image/png",
            "size_bytes": len(PNG),
        }
        echo = await visitor.next_of("message")
        assert (echo["author"], echo["text"], echo["attachment"]) == ("customer", PNG_NAME, ref)
        heard = await console.next_of("chat_message")
        assert (heard["contact_id"], heard["text"], heard["attachment"]) == (
            contact_id,
            PNG_NAME,
            ref,
        )

        mine = await live_desk.client.get(
            f"/api/v1/chat/sessions/{started['session_id']}/attachments/{ref['id']}",
            headers=bearer(started),
        )
        theirs = await live_desk.client.get(
            f"/api/v1/attachments/{ref['id']}", headers=live_desk.headers("li.na")
        )
        for download in (mine, theirs):
            assert download.status_code == 200, download.text
            assert download.content == PNG
            assert download.headers["content-type"] == "image/png"
            assert download.headers["x-content-type-options"] == "nosniff"
            disposition = download.headers["content-disposition"]
            assert disposition.startswith("attachment;")
            assert f"filename*=UTF-8''{urllib.parse.quote(PNG_NAME)}" in disposition

        answer = await agent_upload(
            live_desk, live_desk.headers("li.na"), contact_id, "报价单.pdf", PDF
        )
        assert answer.status_code == 201, answer.text
        reply = await visitor.next_of("message")
        assert (reply["author"], reply["agent_name"], reply["attachment"]["filename"]) == (
            "agent",
            "li.na",
            "报价单.pdf",
        )
        assert reply["attachment"]["content_type"] == "application/pdf"
    transcript = await live_desk.transcript(contact_id)
    assert [m["attachment"] and m["attachment"]["filename"] for m in transcript] == [
        None,
        PNG_NAME,
        "报价单.pdf",
    ]


async def test_too_large_or_refused_types_store_nothing(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await assigned(live_desk, visitor)
    refusals = [
        (
            visitor_upload(live_desk, started, "big.png", PNG + b"\x00" * MAX_BYTES),
            413,
            "attachment_too_large",
        ),
        # far over the limit: refused by the body limit before it is read
        (
            visitor_upload(live_desk, started, "huge.png", PNG + b"\x00" * 4 * MAX_BYTES),
            413,
            "attachment_too_large",
        ),
        (
            visitor_upload(live_desk, started, "photo.png", b"MZ\x90\x00" + b"\x00" * 100),
            415,
            "attachment_type_refused",
        ),
        (
            visitor_upload(live_desk, started, "notes.txt", b"<html><script>1</script>"),
            415,
            "attachment_type_refused",
        ),
        (
            agent_upload(
                live_desk,
                live_desk.headers("li.na"),
                started["contact_id"],
                "x.pdf",
                b"\x7fELF" + b"\x00" * 60,
            ),
            415,
            "attachment_type_refused",
        ),
    ]
    for call, status, code in refusals:
        response = await call
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    text = await visitor_upload(live_desk, started, "地址.txt", "北京市朝阳区\n".encode())
    assert text.status_code == 201, text.text
    assert text.json()["attachment"]["content_type"] == "text/plain"
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["attachment"]] == ["地址.txt"]


async def test_downloads_and_uploads_only_for_the_chat_and_its_agent(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    await live_desk.agent("bob", available=False)
    async with live_desk.visitor() as visitor:
        started = await assigned(live_desk, visitor)
    other = await live_desk.start(name="路人")
    ref = (await visitor_upload(live_desk, started, PNG_NAME, PNG)).json()["attachment"]
    own_url = f"/api/v1/chat/sessions/{started['session_id']}/attachments/{ref['id']}"

    wrong_token = await live_desk.client.get(own_url, headers=bearer(other))
    no_token = await live_desk.client.get(own_url)
    other_chat = await live_desk.client.get(
        f"/api/v1/chat/sessions/{other['session_id']}/attachments/{ref['id']}",
        headers=bearer(other),
    )
    upload_as_other = await visitor_upload(
        live_desk, other, "x.png", PNG, as_session=started["session_id"]
    )
    assert [r.status_code for r in (wrong_token, no_token, upload_as_other)] == [401, 401, 401]
    assert (other_chat.status_code, other_chat.json()["error"]["code"]) == (404, "not_found")

    bob = live_desk.headers("bob")
    read = await live_desk.client.get(f"/api/v1/attachments/{ref['id']}", headers=bob)
    write = await agent_upload(live_desk, bob, started["contact_id"], "x.pdf", PDF)
    assert (read.status_code, write.status_code) == (403, 403)
    bob_id = live_desk.agents["bob"][0]
    audit = await live_desk.client.get(
        "/api/v1/audit", params={"actor_id": bob_id, "allowed": "false"}, headers=live_desk.admin
    )
    actions = [(e["action"], e["contact_id"]) for e in audit.json()["items"]]
    assert actions == [
        ("contact_action", started["contact_id"]),
        ("attachment", started["contact_id"]),
    ]
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["attachment"]] == [PNG_NAME]


async def test_no_file_after_the_chat_ended(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await greeted(visitor, started)
        await visitor.send({"type": "end"})
        await visitor.next_of("ended", skip=("position", "typing", "message"))
    late = await visitor_upload(live_desk, started, "a.png", PNG)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "chat_ended")


# ------------------------------------------------------------------ the transcript by email


def read_mail(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def ask_transcript(
    desk: Desk, started: dict[str, Any], address: str, zone: str | None = "Asia/Shanghai"
) -> httpx.Response:
    body: dict[str, Any] = {"email": address}
    if zone is not None:
        body["time_zone"] = zone
    return await desk.client.post(
        f"/api/v1/chat/sessions/{started['session_id']}/transcript",
        json=body,
        headers=bearer(started),
    )


async def test_the_transcript_is_mailed_once_per_address(
    live_desk: Desk, relay: RecordingRelay
) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await assigned(
            live_desk, visitor, name="王小明", email="wang.xm@example.cn", language="zh-CN"
        )
        await visitor.send({"type": "message", "client_id": "c1", "text": "我的订单还没到"})
        await visitor.ack_and_echo()
        assert (await visitor_upload(live_desk, started, PNG_NAME, PNG)).status_code == 201
        await visitor.next_of("message")
        said = await live_desk.say("li.na", started["contact_id"], "我来查一下")
        assert said.status_code == 201
        assert (await visitor.next_of("message"))["text"] == "我来查一下"

        first = await ask_transcript(live_desk, started, "Wang.XM@example.cn")
        again = await ask_transcript(live_desk, started, "wang.xm@example.cn")
        assert (first.status_code, again.status_code) == (202, 200), first.text
        assert (first.json()["email"], again.json()["duplicate"]) == ("wang.xm@example.cn", True)

        # the mail is not a chat line: the socket and the transcript go on without it
        await visitor.send({"type": "message", "client_id": "c2", "text": "谢谢"})
        ack, echo = await visitor.ack_and_echo()
        assert echo["text"] == "谢谢"

    async def one_mail() -> bool:
        return len(relay.received) >= 1

    await eventually(one_mail)
    [(sender, recipients, raw)] = relay.received
    assert (sender, recipients) == ("noreply@contactd.test", ["wang.xm@example.cn"])
    mail = read_mail(raw)
    assert mail["Subject"].startswith(f"您的聊天记录（会话 #{started['contact_id']}）")
    assert mail["Auto-Submitted"].startswith("auto-")  # no person wrote it
    text = mail.get_content()
    assert text.startswith("聊天记录 · Chat transcript")
    assert "您好 王小明，以下是您与我们的聊天记录。" in text
    assert "时间：Asia/Shanghai" in text
    assert "您: 我的订单还没到" in text
    assert f"您: [文件] {PNG_NAME}" in text
    assert "li.na: 我来查一下" in text
    assert "谢谢" not in text  # written after the request
    transcript = await live_desk.transcript(started["contact_id"])
    assert all("聊天记录" not in m["text"] for m in transcript)
    assert [m["seq"] for m in transcript][-1] == ack["seq"]


async def test_transcript_requests_are_limited_and_need_the_token(live_desk: Desk) -> None:
    started = await live_desk.start(name="王小明")
    answers = [
        (await ask_transcript(live_desk, started, f"a{n}@example.cn", zone=None)).status_code
        for n in range(4)
    ]
    assert answers == [202, 202, 202, 429]
    other = await live_desk.start()
    wrong = await live_desk.client.post(
        f"/api/v1/chat/sessions/{started['session_id']}/transcript",
        json={"email": "x@example.cn"},
        headers=bearer(other),
    )
    bad_zone = await ask_transcript(live_desk, started, "a0@example.cn", zone="Mars/Olympus")
    bad_address = await ask_transcript(live_desk, started, "not an address")
    assert [wrong.status_code, bad_zone.status_code, bad_address.status_code] == [401, 422, 422]


# ------------------------------------------------------------------ privacy


async def test_chat_files_and_mails_are_exported_and_erased_with_the_customer(
    live_desk: Desk,
) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await assigned(live_desk, visitor, name="王小明", email="wang.xm@example.cn")
    ref = (await visitor_upload(live_desk, started, PNG_NAME, PNG)).json()["attachment"]
    assert (await ask_transcript(live_desk, started, "wang.xm@example.cn")).status_code == 202
    contact = await live_desk.contact(started["contact_id"])
    customer_id = contact["customer_id"]
    assert customer_id is not None

    exported = await live_desk.client.get(
        f"/api/v1/customers/{customer_id}/export",
        params={"reason": REASON},
        headers=live_desk.admin,
    )
    assert exported.status_code == 200, exported.text
    [chat] = [c for c in exported.json()["contacts"] if c["id"] == started["contact_id"]]
    files = [a for m in chat["messages"] for a in m["attachments"]]
    assert [(a["id"], a["filename"], a["href"]) for a in files] == [
        (ref["id"], PNG_NAME, f"/api/v1/attachments/{ref['id']}")
    ]
    assert [m["address"] for m in chat["chat_transcript_mails"]] == ["wang.xm@example.cn"]

    erased = await live_desk.client.post(
        f"/api/v1/customers/{customer_id}/erase", json={"reason": REASON}, headers=live_desk.admin
    )
    assert erased.status_code == 200, erased.text
    counts = erased.json()["erased"]
    assert (counts["attachments"], counts["chat_transcript_mails"]) == (1, 1)
    gone = await live_desk.client.get(
        f"/api/v1/chat/sessions/{started['session_id']}/attachments/{ref['id']}",
        headers=bearer(started),
    )
    assert gone.status_code == 404


async def test_one_address_gets_a_few_transcripts_an_hour_across_chats(live_desk: Desk) -> None:
    chats = [await live_desk.start() for _ in range(6)]
    answers = [
        (await ask_transcript(live_desk, chat, "same@example.cn")).status_code for chat in chats
    ]
    assert answers == [202, 202, 202, 202, 202, 429]  # CONTACTD_CHAT_TRANSCRIPTS_PER_ADDRESS_HOUR
