"""Pure rules of chat files and transcript mails: sniffing, names, limits, rendering."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.channels.chat.files import AcceptedFile, Refusal, check_file, clean_filename, sniff
from app.channels.chat.transcript_mail import Line, render
from app.config import DEFAULT_CHAT_ATTACHMENT_TYPES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03" + b"\x00" * 200


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def zip_of_nothing() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("run.sh", "echo hi")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("订单号 58213\n地址：北京".encode(), "text/plain"),
        ("\ufeffcsv,行\n".encode(), "text/plain"),
        ("中文".encode("utf-16"), "text/plain"),
        (b"<!DOCTYPE html><script>alert(1)</script>", None),
        (b"  <svg onload=alert(1)>", None),
        (b"text with a \x00 NUL", None),
        (b"\xc3\x28 not UTF-8", None),
        (EXE, "application/x-msdownload"),
        (zip_of_nothing(), "application/zip"),
    ],
)
def test_the_type_comes_from_the_content(content: bytes, expected: str | None) -> None:
    assert sniff(content) == expected


def test_a_file_is_refused_for_its_size_or_type_whatever_its_name() -> None:
    allowed = DEFAULT_CHAT_ATTACHMENT_TYPES
    assert check_file("a.png", PNG, len(PNG) - 1, allowed) == Refusal("too_large")
    assert check_file("photo.png", EXE, 10_000, allowed) == Refusal(
        "type_refused", "application/x-msdownload"
    )
    assert check_file("notes.txt", b"<html></html>", 10_000, allowed) == Refusal("type_refused")
    accepted = check_file("scan.bin", PDF, len(PDF), allowed)
    assert isinstance(accepted, AcceptedFile)
    assert (accepted.content_type, accepted.size, accepted.filename) == (
        "application/pdf",
        len(PDF),
        "scan.bin",
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("发票 2026.pdf", "发票 2026.pdf"),
        ("C:\\Users\\王\\报价单.xlsx", "报价单.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("bad\x00\x1fname.txt", "badname.txt"),
        ("", "attachment"),
        (None, "attachment"),
        ("长" * 300, "长" * 255),
    ],
)
def test_file_names_keep_their_characters_but_no_path(given: str | None, kept: str) -> None:
    assert clean_filename(given) == kept


def test_the_transcript_has_a_bilingual_header_and_local_times() -> None:
    at = datetime(2026, 12, 7, 15, 58, tzinfo=UTC)  # 23:58 in Shanghai
    lines = [
        Line("system", "您好！欢迎咨询。", at),
        Line("customer", "我的订单还没到", at),
        Line("agent", "我来查一下", at, agent_name="李娜"),
        Line("customer", "发票.png", at, filename="发票.png"),
    ]
    mail = render(
        lines, contact_id=42, language="zh-CN", zone=ZoneInfo("Asia/Shanghai"), visitor_name="王"
    )
    assert mail.subject == "您的聊天记录（会话 #42） · Your chat transcript (chat #42)"
    header, *_ = mail.text.splitlines()
    assert header == "聊天记录 · Chat transcript — #42 2026-12-07"
    assert "[23:58] 系统: 您好！欢迎咨询。" in mail.text
    assert "[23:58] 您: 我的订单还没到" in mail.text
    assert "[23:58] 李娜: 我来查一下" in mail.text
    assert "[23:58] 您: [文件] 发票.png" in mail.text
    assert "时间：Asia/Shanghai · Times: Asia/Shanghai" in mail.text
    english = render(
        lines[:2], contact_id=42, language="en", zone=ZoneInfo("Europe/London"), visitor_name=None
    )
    assert english.text.startswith("Chat transcript · 聊天记录 — #42 2026-12-07\nHello, here")
    assert "[15:58] You: 我的订单还没到" in english.text
