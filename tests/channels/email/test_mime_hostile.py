"""Mail no server should choke on: NULs, a mailbox inside one encoded word, deep nesting."""

from __future__ import annotations

import base64

import pytest

from app.channels.email.mime import MalformedEmail, parse_email

LIMIT = 5 * 1024 * 1024


def _mail(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def test_nul_characters_are_removed_from_subject_name_and_body() -> None:
    raw = _mail(
        "From: =?utf-8?b?546L\x00?= <wang@example.cn>\nTo: support@shop.example\n"
        "Subject: =?utf-8?q?=E8=AE=A2=E5=8D=95=00?= 58213\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n",
        base64.b64encode("没到\x00货".encode()) + b"\r\n",
    )
    parsed = parse_email(raw, max_attachment_bytes=LIMIT)
    assert "\x00" not in parsed.subject
    assert parsed.subject.split() == ["订单", "58213"]
    assert parsed.text == "没到货"
    assert "\x00" not in (parsed.from_name or "")


def test_a_mailbox_inside_one_encoded_word_is_read_from_inside_it() -> None:
    word = base64.b64encode("王小明 <Wang.XM@example.cn>".encode()).decode()
    raw = _mail(
        f"From: =?utf-8?b?{word}?=\nTo: support@shop.example\nSubject: hi\n",
        b"hello\r\n",
    )
    parsed = parse_email(raw, max_attachment_bytes=LIMIT)
    assert (parsed.from_name, parsed.from_address) == ("王小明", "wang.xm@example.cn")


def test_thousands_of_nested_multiparts_are_malformed_not_a_crash() -> None:
    depth = 2000
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n' for n in range(depth)
    )
    tail = "".join(f"\r\n--b{n}--\r\n" for n in reversed(range(depth)))
    raw = (
        "From: a@example.cn\r\nTo: support@shop.example\r\nSubject: deep\r\n"
        + head
        + "Content-Type: text/plain\r\n\r\nx"
        + tail
    ).encode()
    with pytest.raises(MalformedEmail):
        parse_email(raw, max_attachment_bytes=LIMIT)
