"""Parsing and composing email, with the encodings real customers' mail clients produce."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
from datetime import UTC, datetime

import pytest

from app.channels.email.mime import (
    AttachmentTooLarge,
    MalformedEmail,
    OutgoingEmail,
    build_email,
    decode_header_text,
    decode_text,
    guess_language,
    parse_email,
    reply_subject,
)
from tests.channels.email.conftest import Part, b64_word, build_raw, text_part

LIMIT = 1_000_000


def parse(raw: bytes, limit: int = LIMIT):
    return parse_email(raw, max_attachment_bytes=limit)


# ---------------------------------------------------------------- charsets


def test_gb2312_label_with_gbk_characters_and_gb2312_subject() -> None:
    # 镕 is in GBK but not in GB2312: mail labelled gb2312 carries it all the time.
    body = "您好，我的订单还没有发货。朱镕基"
    raw = build_raw(
        sender=f"{b64_word('张三', 'GB2312')} <Zhang.San@Example.CN>",
        subject=b64_word("订单问题（镕）", "GB2312"),
        body=text_part(body, "gb2312"),
    )
    parsed = parse(raw)
    assert parsed.text == body
    assert parsed.subject == "订单问题（镕）"
    assert parsed.from_name == "张三"
    assert parsed.from_address == "zhang.san@example.cn"
    assert guess_language(parsed.text) == "zh-CN"


def test_gb18030_and_gbk_labels_and_quoted_printable() -> None:
    body = "退款申请：订单号 20240501"
    quoted = Part(
        "text/plain; charset=GBK",
        "".join(f"={b:02X}" for b in body.encode("gbk")).encode(),
        encoding="quoted-printable",
    )
    assert parse(build_raw(body=quoted)).text == body
    assert parse(build_raw(body=text_part(body, "gb18030"))).text == body


def test_big5_traditional_chinese() -> None:
    body = "您好，我們的訂單還沒有收到，請問什麼時候發貨？"
    raw = build_raw(subject=b64_word("訂單問題", "Big5"), body=text_part(body, "big5"))
    parsed = parse(raw)
    assert parsed.text == body
    assert parsed.subject == "訂單問題"
    assert guess_language(parsed.text) == "zh-TW"


def test_shift_jis_with_windows_extensions() -> None:
    body = "ご注文の商品がまだ届いていません。①番の件です。"  # ① is a CP932 extension
    raw = build_raw(
        subject=b64_word("注文について", "Shift_JIS"),
        body=text_part(body, "shift_jis", codec="cp932"),
    )
    parsed = parse(raw)
    assert parsed.text == body
    assert parsed.subject == "注文について"
    assert guess_language(parsed.text) == "ja"


def test_iso_2022_jp_body_and_subject() -> None:
    body = "お世話になっております。返品の手続きを教えてください。"
    raw = build_raw(
        subject=b64_word("返品について", "ISO-2022-JP"),
        body=Part("text/plain; charset=ISO-2022-JP", body.encode("iso2022_jp"), encoding="7bit"),
    )
    parsed = parse(raw)
    assert parsed.text == body
    assert parsed.subject == "返品について"


def test_latin1_body_and_q_encoded_subject() -> None:
    body = "Bonjour, ma commande n'est pas arrivée. Merci d'avance — François"
    raw = build_raw(
        sender="=?ISO-8859-1?Q?Fran=E7ois_M=FCller?= <francois@example.fr>",
        subject="=?iso-8859-1?q?Commande_non_re=E7ue?=",
        body=text_part(body, "iso-8859-1", codec="cp1252"),  # the dash is a cp1252 byte
    )
    parsed = parse(raw)
    assert parsed.text == body
    assert parsed.subject == "Commande non reçue"
    assert parsed.from_name == "François Müller"
    assert guess_language(parsed.text) is None


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        ("订单".encode(), "iso-8859-1", "订单"),  # UTF-8 sent as latin-1
        ("订单已发货".encode("gbk"), "utf-8", "订单已发货"),  # GBK sent as UTF-8
        ("订单已发货".encode("gbk"), "x-unknown-charset", "订单已发货"),
        ("订单已发货".encode("gbk"), None, "订单已发货"),
        (b"plain", "", "plain"),
    ],
)
def test_wrong_or_unknown_labels_fall_back(data: bytes, label: str | None, expected: str) -> None:
    assert decode_text(data, label) == expected


def test_undecodable_bytes_become_replacement_characters() -> None:
    text = decode_text(b"ok \xff\xfe\xff end", "utf-8")
    assert text.startswith("ok ")
    assert text.endswith(" end")


def test_multibyte_character_split_across_encoded_words() -> None:
    data = "订单问题".encode()
    words = " ".join(
        f"=?UTF-8?B?{base64.b64encode(chunk).decode()}?=" for chunk in (data[:4], data[4:])
    )
    assert decode_header_text(words + " (urgent)") == "订单问题 (urgent)"


def test_raw_eight_bit_utf8_subject() -> None:
    raw = build_raw(subject="placeholder").replace(b"placeholder", "退款".encode())
    assert parse(raw).subject == "退款"


# ---------------------------------------------------------------- structure


def test_alternative_keeps_text_and_sanitized_html() -> None:
    html = '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
    raw = build_raw(
        body=text_part("Hello there"),
        parts=[Part("text/html; charset=utf-8", html.encode())],
        multipart="alternative",
    )
    parsed = parse(raw)
    assert parsed.text == "Hello there"
    assert parsed.html is not None
    assert "<b>there</b>" in parsed.html
    assert "script" not in parsed.html
    assert "onclick" not in parsed.html
    assert parsed.attachments == []


def test_html_only_gives_derived_text() -> None:
    html = (
        "<html><head><style>p{}</style></head>"
        "<body><p>第一行</p><p>Second&nbsp;line &amp; more</p></body></html>"
    )
    raw = build_raw(body=Part("text/html; charset=gb2312", html.encode("gbk")))
    parsed = parse(raw)
    assert parsed.text == "第一行\n\nSecond line & more"
    assert parsed.html is not None
    assert "第一行" in parsed.html


def test_attachments_inline_images_and_encoded_filenames() -> None:
    pdf = b"%PDF-1.4 invoice"
    png = b"\x89PNG\r\n\x1a\nfake"
    gb_name = "".join(f"%{b:02X}" for b in "合同.doc".encode("gbk"))
    parts = [
        Part(
            "application/pdf",
            pdf,
            {"Content-Disposition": "attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf"},
        ),
        Part(
            "image/png",
            png,
            {"Content-ID": "<logo@mail>", "Content-Disposition": 'inline; filename="logo.png"'},
        ),
        Part(
            "application/msword",
            b"doc",
            {"Content-Disposition": f"attachment; filename*=gb2312''{gb_name}"},
        ),
        Part(
            "application/octet-stream",
            b"zip",
            {
                "Content-Disposition": "attachment;\r\n filename*0*=UTF-8''%E6%B8%85; "
                "filename*1*=%E5%8D%95.zip"
            },
        ),
        Part(f'text/plain; name="{b64_word("说明.txt", "GB2312")}"', b"notes", {}),
        Part(
            "application/vnd.ms-excel",
            b"x",
            {"Content-Disposition": 'attachment; filename="../../etc/passwd"'},
        ),
    ]
    parsed = parse(build_raw(parts=parts))
    found = {a.filename: a for a in parsed.attachments}
    assert set(found) == {"发票.pdf", "logo.png", "合同.doc", "清单.zip", "说明.txt", "passwd"}
    invoice = found["发票.pdf"]
    assert (invoice.content_type, invoice.size, invoice.inline) == (
        "application/pdf",
        len(pdf),
        False,
    )
    assert invoice.sha256 == hashlib.sha256(pdf).hexdigest()
    logo = found["logo.png"]
    assert (logo.inline, logo.content_id, logo.content) == (True, "logo@mail", png)
    assert parsed.text == "Hello, where is my order?"


def test_attachment_over_the_limit_is_refused() -> None:
    raw = build_raw(
        parts=[
            Part(
                "application/pdf",
                b"x" * 2048,
                {"Content-Disposition": "attachment; filename=a.pdf"},
            )
        ]
    )
    with pytest.raises(AttachmentTooLarge) as caught:
        parse(raw, limit=1024)
    assert caught.value.filename == "a.pdf"
    assert parse(raw, limit=4096).attachments[0].size == 2048


@pytest.mark.parametrize(
    "raw",
    [
        b"just some text, no headers at all\r\n",
        b"To: support@shop.test\r\nSubject: no sender\r\n\r\nbody\r\n",
        b"From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="zz"\r\n'
        b"\r\nnever starts\r\n",
    ],
)
def test_broken_messages_are_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedEmail):
        parse(raw)


# ---------------------------------------------------------------- identity and threading


def test_threading_headers_and_ticket_token() -> None:
    raw = build_raw(
        subject="Re: 订单问题 [#1234]",
        extra={
            "In-Reply-To": "<reply.2@contactd.test>",
            "References": "<first.1@mail.example.cn>\r\n <reply.2@contactd.test>",
        },
    )
    parsed = parse(raw)
    assert parsed.message_id == "<first.1@mail.example.cn>"
    assert parsed.in_reply_to == ["<reply.2@contactd.test>"]
    assert parsed.thread_ids == ["<reply.2@contactd.test>", "<first.1@mail.example.cn>"]
    assert parsed.ticket_id == 1234


def test_missing_message_id_is_derived_from_the_bytes() -> None:
    raw = build_raw(message_id=None)
    first, again = parse(raw), parse(raw)
    assert first.message_id_derived
    assert first.message_id == again.message_id
    assert first.message_id != parse(raw + b"more").message_id


@pytest.mark.parametrize(
    ("extra", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "a@example.com", "auto_submitted"),
        ({"Auto-Submitted": "no"}, "a@example.com", None),
        ({"Precedence": "bulk"}, "a@example.com", "precedence_bulk"),
        ({"Precedence": "junk"}, "a@example.com", "precedence_junk"),
        ({"X-Autoreply": "yes"}, "a@example.com", "auto_reply_header"),
        ({"X-Autorespond": "Out of office"}, "a@example.com", "auto_reply_header"),
        ({}, "MAILER-DAEMON@mx.example.com", "bounce"),
        ({}, "postmaster@example.com", "bounce"),
        ({"Return-Path": "<>"}, "a@example.com", "null_sender"),
        ({}, "a@example.com", None),
    ],
)
def test_automatic_messages_are_recognized(
    extra: dict[str, str], sender: str, reason: str | None
) -> None:
    assert parse(build_raw(sender=sender, extra=extra)).automatic == reason


def test_delivery_status_notification_points_at_the_original() -> None:
    report = Part(
        "message/delivery-status",
        b"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; x@example.cn\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n",
        encoding="7bit",
    )
    original = Part(
        "text/rfc822-headers",
        b"From: support@shop.test\r\nMessage-ID: <ours.1@contactd.test>\r\n",
        encoding="7bit",
    )
    raw = build_raw(
        sender="Mail Delivery System <mailer-daemon@mx.example.com>",
        body=text_part("Delivery failed."),
        parts=[report, original],
        multipart='report; report-type="delivery-status"',
    )
    parsed = parse(raw)
    assert parsed.automatic == "delivery_report"
    assert parsed.embedded_message_ids == ["<ours.1@contactd.test>"]
    assert "<ours.1@contactd.test>" in parsed.thread_ids
    assert parsed.text == "Delivery failed."


def test_loop_header_is_read() -> None:
    parsed = parse(build_raw(extra={"X-Contactd-Loop": "Contactd.Test"}))
    assert parsed.loop_marks == ["contactd.test"]


# ---------------------------------------------------------------- composing


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("订单问题", "Re: 订单问题 [#7]"),
        ("Re: RE: 订单问题 [#7]", "Re: 订单问题 [#7]"),
        ("回复：订单问题", "Re: 订单问题 [#7]"),
        ("", "Re: [#7]"),
        (None, "Re: [#7]"),
    ],
)
def test_reply_subject(original: str | None, expected: str) -> None:
    assert reply_subject(original, 7) == expected


def _outgoing(automatic: bool = False, html: str | None = None) -> OutgoingEmail:
    return OutgoingEmail(
        sender=SUPPORT_ADDRESS,
        to=["zhang.san@example.cn"],
        cc=["boss@example.cn"],
        subject="Re: 订单问题 [#7]",
        message_id="<7.abc@contactd.test>",
        in_reply_to="<first.1@mail.example.cn>",
        references=["<first.1@mail.example.cn>"],
        text="您好，您的订单已经发货。",
        html=html,
        loop_domain="contactd.test",
        date=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        automatic=automatic,
    )


SUPPORT_ADDRESS = "support@shop.test"


def test_built_reply_round_trips_through_a_mail_reader() -> None:
    built = build_email(_outgoing(html="<p>您好</p>")).as_bytes()
    assert built.isascii()  # 7-bit safe for any relay
    reread = email.message_from_bytes(built, policy=email.policy.default)
    assert reread["Subject"] == "Re: 订单问题 [#7]"
    assert reread["In-Reply-To"] == "<first.1@mail.example.cn>"
    assert reread["References"] == "<first.1@mail.example.cn>"
    assert reread["Message-ID"] == "<7.abc@contactd.test>"
    assert reread["X-Contactd-Loop"] == "contactd.test"
    assert reread["Auto-Submitted"] is None
    assert reread["Cc"] == "boss@example.cn"
    plain, rich = reread.get_body(("plain",)), reread.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert plain.get_content().strip() == "您好，您的订单已经发货。"
    assert "您好" in rich.get_content()
    ours = parse(built)
    assert ours.text == "您好，您的订单已经发货。"
    assert ours.loop_marks == ["contactd.test"]


def test_automatic_mail_is_marked_auto_submitted() -> None:
    reread = email.message_from_bytes(
        build_email(_outgoing(automatic=True)).as_bytes(), policy=email.policy.default
    )
    assert reread["Auto-Submitted"] == "auto-replied"
    assert parse(build_email(_outgoing(automatic=True)).as_bytes()).automatic == "auto_submitted"
