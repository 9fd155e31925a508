"""Reading and writing email: bytes in, a parsed message out, and replies composed.

Pure code (no database, no network) so that every charset and MIME shape people really send
can be tested on its own. The stdlib parser does the structure; text is decoded here because
real mail is often mislabelled: GB2312 mail carries GBK characters, ISO-8859-1 mail carries
Windows-1252 quotes or plain UTF-8, Shift_JIS mail carries Windows (CP932) extensions, and
RFC 2047 words split one multibyte character across two words.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.message
import email.policy
import email.utils
import hashlib
import mimetypes
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email.headerregistry import Address
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import nh3

# ---------------------------------------------------------------- charsets

_SINGLE_BYTE = ("cp1252", "latin-1")
# Labels mapped to the codecs that decode what is really sent under them, best first.
_CHARSET_CANDIDATES: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "ms936": ("gb18030",),
    "windows-936": ("gb18030",),
    "euc-cn": ("gb18030",),
    "gb_2312-80": ("gb18030",),
    "csgb2312": ("gb18030",),
    "chinese": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "x-big5": ("cp950", "big5hkscs"),
    "cn-big5": ("cp950", "big5hkscs"),
    "csbig5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift-jis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932", "shift_jis_2004"),
    "x-sjis": ("cp932", "shift_jis_2004"),
    "ms_kanji": ("cp932",),
    "windows-31j": ("cp932",),
    "iso-2022-jp": ("iso2022_jp_2", "iso2022_jp_ext"),
    "csiso2022jp": ("iso2022_jp_2", "iso2022_jp_ext"),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "iso-8859-1": _SINGLE_BYTE,
    "latin1": _SINGLE_BYTE,
    "latin-1": _SINGLE_BYTE,
    "iso_8859-1": _SINGLE_BYTE,
    "l1": _SINGLE_BYTE,
    "cp819": _SINGLE_BYTE,
    "windows-1252": _SINGLE_BYTE,
    "us-ascii": ("ascii",),
    "ascii": ("ascii",),
    "utf8": ("utf-8",),
    "utf-8": ("utf-8",),
}
_ASCII_LIKE = {"ascii", "cp1252", "latin-1"}
_ISO_2022_JP_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I")


def _candidates(label: str | None, data: bytes) -> list[str]:
    name = (label or "").strip().strip("\"'").lower()
    if name in _CHARSET_CANDIDATES:
        found = list(_CHARSET_CANDIDATES[name])
    elif name:
        try:
            found = [codecs.lookup(name).name]
        except LookupError:
            found = []
    else:
        found = ["ascii"]
    if not name and any(escape in data for escape in _ISO_2022_JP_ESCAPES):
        found.insert(0, "iso2022_jp_2")
    if found and found[0] in _ASCII_LIKE and _is_utf8_text(data):
        found.insert(0, "utf-8")  # UTF-8 sent as "latin-1" or unlabelled: the usual mistake
    return [*found, "utf-8", "gb18030"]


def _is_utf8_text(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes, label: str | None) -> str:
    """Bytes labelled ``label`` as text: the label if it fits, else the likely charsets,
    else UTF-8 with replacement characters. Never raises."""
    for codec in _candidates(label, data):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


def _unescape_surrogates(value: str) -> str:
    """Headers with raw 8-bit bytes reach us as surrogate escapes: decode them for real."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_text(value.encode("ascii", errors="surrogateescape"), None)


# ---------------------------------------------------------------- RFC 2047 headers

_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # an encoded word may hide CR LF: never in a header


def _decode_word_bytes(encoding: str, payload: str) -> bytes:
    if encoding.lower() == "q":
        raw = payload.replace("_", " ").encode("ascii", errors="surrogateescape")
        return binascii.a2b_qp(raw)
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned)
    except (binascii.Error, ValueError):
        return b""


def decode_header_text(raw: str | None) -> str:
    """An RFC 2047 header value as text. Adjacent encoded words in one charset are joined
    before decoding (clients split multibyte characters across words); whitespace between
    encoded words is dropped, as the RFC says."""
    if not raw:
        return ""
    value = _FOLD.sub("", raw)
    pieces: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            pieces.append(decode_text(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            pieces.append(_unescape_surrogates(between))
        charset = match.group(1).lower()
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending.append(_decode_word_bytes(match.group(2), match.group(3)))
        position = match.end()
    flush()
    pieces.append(_unescape_surrogates(value[position:]))
    return _CONTROL.sub(" ", "".join(pieces)).strip()


# ---------------------------------------------------------------- HTML

_CLEANER_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}  # inline images refer to their part


def sanitize_html(markup: str) -> str:
    """HTML safe to show in an agent's browser: no scripts, handlers, forms or styles that
    break out. ``cid:`` links stay so the console can show inline images."""
    return nh3.clean(markup, url_schemes=_CLEANER_SCHEMES)


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
    )
    _SKIPPED = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (
        re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip()
        for line in "".join(extractor.parts).split("\n")
    )
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---------------------------------------------------------------- language


_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TRADITIONAL = set("們這個說為會時來對國發貨訂單問題謝請現還沒麼與從後開關寫聯繫")
_SIMPLIFIED = set("们这个说为会时来对国发货订单问题谢请现还没么与从后开关写联系")


def guess_language(text: str) -> str | None:
    """A customer's language from what they wrote, for CJK scripts only (cheap and reliable
    there; anything else is left to the agent)."""
    if len(_KANA.findall(text)) >= 2:
        return "ja"
    if len(_HANGUL.findall(text)) >= 2:
        return "ko"
    if len(_HAN.findall(text)) < 2:
        return None
    traditional = sum(1 for ch in text if ch in _TRADITIONAL)
    simplified = sum(1 for ch in text if ch in _SIMPLIFIED)
    return "zh-TW" if traditional > simplified else "zh-CN"


# ---------------------------------------------------------------- parsing


class MalformedEmail(ValueError):
    """Not a message we can read: no headers, no sender, or multipart without boundaries."""


class AttachmentTooLarge(ValueError):
    def __init__(self, filename: str, size: int, limit: int) -> None:
        super().__init__(f"attachment {filename!r} is {size} bytes, over {limit}")
        self.filename = filename
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    inline: bool = False
    content_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    message_id: str  # as in the header, with angle brackets; derived when missing
    message_id_derived: bool
    in_reply_to: list[str]
    references: list[str]
    subject: str
    from_address: str | None
    from_name: str | None
    reply_to: str | None
    to: list[str]
    cc: list[str]
    delivered_to: list[str]
    date: datetime | None
    text: str
    html: str | None  # sanitized
    attachments: list[ParsedAttachment]
    automatic: str | None  # why this is an auto-reply or a bounce; None for a person's mail
    loop_marks: list[str]  # values of our loop header: set on mail we sent ourselves
    embedded_message_ids: list[str] = field(default_factory=list)  # originals in a bounce

    @property
    def ticket_id(self) -> int | None:
        return ticket_token(self.subject)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, the nearest first."""
        found = [*self.in_reply_to, *reversed(self.references), *self.embedded_message_ids]
        return list(dict.fromkeys(found))


LOOP_HEADER = "X-Contactd-Loop"
_TICKET = re.compile(r"\[#(\d{1,18})\]")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_MAX_DEPTH = 30


def ticket_token(subject: str) -> int | None:
    found = _TICKET.findall(subject)
    return int(found[-1]) if found else None


def derived_message_id(raw: bytes) -> str:
    return f"<{hashlib.sha256(raw).hexdigest()}@derived.contactd.invalid>"


def _raw_headers(message: email.message.Message, name: str) -> list[str]:
    wanted = name.lower()
    return [str(value) for key, value in message.raw_items() if key.lower() == wanted]


def _first_raw(message: email.message.Message, name: str) -> str | None:
    found = _raw_headers(message, name)
    return found[0] if found else None


def message_ids(raw: str | None) -> list[str]:
    if not raw:
        return []
    found = [f"<{token}>" for token in _MESSAGE_ID.findall(raw)]
    if not found and raw.strip() and " " not in raw.strip():
        found = [f"<{raw.strip().strip('<>')}>"]
    return [value[:998] for value in found]


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs; unparsable entries are skipped. A value
    that is one encoded word holding the whole mailbox (``=?utf-8?b?...?=``, as Python's
    email package writes a From with a non-ASCII name) is read from inside the word."""
    result = []
    for value in values:
        unfolded = _FOLD.sub("", value)
        found = _mailboxes(unfolded) or _mailboxes(decode_header_text(unfolded), decoded=True)
        result.extend(found)
    return result


def _mailboxes(value: str, *, decoded: bool = False) -> list[tuple[str, str]]:
    found = []
    for name, address in email.utils.getaddresses([value]):
        address = _no_nul(_unescape_surrogates(address)).strip().lower()
        if "@" in address and " " not in address:
            found.append((_no_nul(name if decoded else decode_header_text(name)), address))
    return found


def _no_nul(text: str) -> str:
    """NUL characters removed: PostgreSQL cannot store them, and no mail means them."""
    return text.replace("\x00", "")


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None


def _automatic_reason(message: email.message.Message, sender: str | None) -> str | None:
    """RFC 3834 and what mail systems really send when nobody typed the message."""
    auto_submitted = (_first_raw(message, "Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_submitted"
    precedence = (_first_raw(message, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"precedence_{precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-AutoReply-From"):
        if _first_raw(message, header) is not None:
            return "auto_reply_header"
    if message.get_content_type() == "multipart/report":
        return "delivery_report"
    if sender is not None and sender.split("@")[0] in ("mailer-daemon", "postmaster"):
        return "bounce"
    return_path = _first_raw(message, "Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "null_sender"
    return None


def _param(part: email.message.Message, name: str, header: str) -> str | None:
    """A MIME parameter decoded the way clients write it: RFC 2231 (any charset, with
    continuations) or, against the RFC but common, an RFC 2047 encoded word."""
    raw = _first_raw(part, header)
    if raw is None:
        return None
    holder = email.message.Message()  # compat32 keeps RFC 2231 parts undecoded for us
    holder[header] = _FOLD.sub("", raw)
    value: Any = holder.get_param(name, header=header)
    if value is None:
        return None
    if isinstance(value, tuple):
        charset, _language, text = value
        data = bytes(text, "raw-unicode-escape") if isinstance(text, str) else bytes(text)
        return decode_text(data, charset or "utf-8")
    return decode_header_text(email.utils.unquote(str(value)))


def _safe_filename(name: str | None, content_type: str, index: int) -> str:
    cleaned = ""
    if name:
        cleaned = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/").split("/")[-1]
        cleaned = cleaned.strip().lstrip(".")[:255]
    if cleaned:
        return cleaned
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{index}{extension}"


def _content_id(part: email.message.Message) -> str | None:
    raw = _first_raw(part, "Content-ID")
    if not raw:
        return None
    return raw.strip().strip("<>").strip()[:998] or None


def _message_bytes(part: email.message.Message) -> bytes:
    payload = part.get_payload()
    chunks = payload if isinstance(payload, list) else [payload]
    result = []
    for chunk in chunks:
        try:
            if isinstance(chunk, email.message.Message):
                result.append(chunk.as_bytes(policy=email.policy.SMTP))
            elif isinstance(chunk, str):
                result.append(chunk.encode("utf-8", errors="replace"))
        except (ValueError, TypeError, LookupError, email_errors.MessageError):
            continue
    return b"\r\n".join(result)


def _decoded_payload(part: email.message.Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


class _Collector:
    def __init__(self, max_attachment_bytes: int) -> None:
        self.max_attachment_bytes = max_attachment_bytes
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.embedded_ids: list[str] = []

    def attach(self, part: email.message.Message, content: bytes, default_name: str) -> None:
        content_type = part.get_content_type()
        filename = _param(part, "filename", "Content-Disposition") or _param(
            part, "name", "Content-Type"
        )
        name = _safe_filename(filename or default_name, content_type, len(self.attachments) + 1)
        if len(content) > self.max_attachment_bytes:
            raise AttachmentTooLarge(name, len(content), self.max_attachment_bytes)
        content_id = _content_id(part)
        disposition = part.get_content_disposition()
        inline = (content_id is not None and disposition != "attachment") or (
            disposition == "inline" and part.get_content_maintype() == "image"
        )
        self.attachments.append(
            ParsedAttachment(name, content_type, content, inline=inline, content_id=content_id)
        )

    def walk(self, part: email.message.Message, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            raise MalformedEmail("MIME parts are nested too deep")
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            self._embedded(part)
        elif content_type in ("message/delivery-status", "message/disposition-notification"):
            self.attach(part, _message_bytes(part), content_type.split("/")[1] + ".txt")
        elif part.is_multipart():
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else []:
                if isinstance(child, email.message.Message):
                    self.walk(child, depth + 1)
        else:
            self._leaf(part)

    def _embedded(self, part: email.message.Message) -> None:
        payload = part.get_payload()
        for inner in payload if isinstance(payload, list) else []:
            if isinstance(inner, email.message.Message):
                self.embedded_ids.extend(message_ids(_first_raw(inner, "Message-ID")))
        self.attach(part, _message_bytes(part), "message.eml")

    def _leaf(self, part: email.message.Message) -> None:
        content_type = part.get_content_type()
        content = _decoded_payload(part)
        is_attachment = (
            part.get_content_disposition() == "attachment"
            or _param(part, "filename", "Content-Disposition") is not None
            or _param(part, "name", "Content-Type") is not None
        )
        if content_type == "text/rfc822-headers":
            headers = email.message_from_bytes(content, policy=email.policy.default)
            self.embedded_ids.extend(message_ids(_first_raw(headers, "Message-ID")))
            self.attach(part, content, "original-headers.txt")
        elif content_type in ("text/plain", "text/html") and not is_attachment:
            text = decode_text(content, part.get_content_charset())
            (self.texts if content_type == "text/plain" else self.htmls).append(text)
        else:
            self.attach(part, content, "")


_BROKEN = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
)


def _check_structure(message: email.message.Message) -> None:
    if not message.keys():
        raise MalformedEmail("no header section")
    for part in message.walk():
        if any(isinstance(defect, _BROKEN) for defect in part.defects):
            raise MalformedEmail("multipart without its boundary")


def _normalize_newlines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


_MAX_MULTIPARTS = 200
_MULTIPART_HEADER = re.compile(rb"^content-type:[ \t]*multipart/", re.IGNORECASE | re.MULTILINE)


def parse_email(raw: bytes, *, max_attachment_bytes: int) -> ParsedEmail:
    """Parse an RFC 5322 message. Raises MalformedEmail or AttachmentTooLarge.

    NUL characters are removed from every text the message yields (stored cleaned, not
    refused). A message of more than ``_MAX_MULTIPARTS`` multipart sections, or nested
    deeper than the parser can follow, is malformed: counted before parsing, since the
    standard library's parser recurses once a level."""
    if len(_MULTIPART_HEADER.findall(raw)) > _MAX_MULTIPARTS:
        raise MalformedEmail("too many multipart sections")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        _check_structure(message)
    except (ValueError, TypeError, IndexError, RecursionError, email_errors.MessageError) as exc:
        if isinstance(exc, MalformedEmail):
            raise
        raise MalformedEmail(type(exc).__name__) from exc
    return _parsed(raw, message, max_attachment_bytes)


def _parsed(raw: bytes, message: email.message.Message, max_attachment_bytes: int) -> ParsedEmail:
    senders = _addresses(_raw_headers(message, "From"))
    if not senders:
        raise MalformedEmail("no sender address")
    from_name, from_address = senders[0]
    collector = _Collector(max_attachment_bytes)
    try:
        collector.walk(message)
    except (ValueError, TypeError, LookupError, RecursionError, email_errors.MessageError) as exc:
        if isinstance(exc, (MalformedEmail, AttachmentTooLarge)):
            raise
        raise MalformedEmail(str(exc)) from exc
    html_body = "\n".join(collector.htmls) or None
    text = "\n\n".join(collector.texts)
    if not text.strip() and html_body:
        text = html_to_text(html_body)
    own_id = message_ids(_first_raw(message, "Message-ID"))
    reply_to = _addresses(_raw_headers(message, "Reply-To"))
    return ParsedEmail(
        message_id=own_id[0] if own_id else derived_message_id(raw),
        message_id_derived=not own_id,
        in_reply_to=message_ids(_first_raw(message, "In-Reply-To")),
        references=message_ids(" ".join(_raw_headers(message, "References"))),
        subject=_no_nul(decode_header_text(_first_raw(message, "Subject"))),
        from_address=from_address,
        from_name=from_name or None,
        reply_to=reply_to[0][1] if reply_to else None,
        to=[a for _, a in _addresses(_raw_headers(message, "To"))],
        cc=[a for _, a in _addresses(_raw_headers(message, "Cc"))],
        delivered_to=[a for _, a in _addresses(_raw_headers(message, "Delivered-To"))],
        date=_date(_first_raw(message, "Date")),
        text=_no_nul(_normalize_newlines(text)),
        html=None if html_body is None else _no_nul(sanitize_html(html_body)),
        attachments=collector.attachments,
        automatic=_automatic_reason(message, from_address),
        loop_marks=[v.strip().lower() for v in _raw_headers(message, LOOP_HEADER)],
        embedded_message_ids=list(dict.fromkeys(collector.embedded_ids)),
    )


# ---------------------------------------------------------------- composing


_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|fw|fwd|回复|答复|回覆|轉寄|转发)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def reply_subject(original: str | None, contact_id: int) -> str:
    """``Re: <subject> [#<contact id>]``, without stacking prefixes or tokens."""
    subject = _TICKET.sub("", original or "")
    subject = _REPLY_PREFIX.sub("", subject)
    subject = re.sub(r"\s+", " ", subject).strip()
    return f"Re: {subject} [#{contact_id}]" if subject else f"Re: [#{contact_id}]"


def new_message_id(token: str, domain: str) -> str:
    return f"<{token}@{domain}>"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    sender: str
    to: list[str]
    cc: list[str]
    subject: str
    message_id: str
    in_reply_to: str | None
    references: list[str]
    text: str
    html: str | None
    loop_domain: str
    date: datetime
    sender_name: str | None = None
    automatic: bool = False


def _transfer_encoding(text: str) -> str:
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return "base64" if non_ascii * 3 > len(text) else "quoted-printable"


def build_email(outgoing: OutgoingEmail) -> EmailMessage:
    """The MIME message of a reply: UTF-8, 7-bit safe, threading and loop headers set.
    ``Auto-Submitted`` marks only mail no person wrote (RFC 3834)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = Address(display_name=outgoing.sender_name or "", addr_spec=outgoing.sender)
    message["To"] = ", ".join(outgoing.to)
    if outgoing.cc:
        message["Cc"] = ", ".join(outgoing.cc)
    message["Subject"] = outgoing.subject
    message["Date"] = email.utils.format_datetime(outgoing.date)
    message["Message-ID"] = outgoing.message_id
    if outgoing.in_reply_to:
        message["In-Reply-To"] = outgoing.in_reply_to
    if outgoing.references:
        message["References"] = " ".join(outgoing.references)
    message[LOOP_HEADER] = outgoing.loop_domain
    if outgoing.automatic:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    text = outgoing.text if outgoing.text.endswith("\n") else outgoing.text + "\n"
    message.set_content(text, charset="utf-8", cte=_transfer_encoding(text))
    if outgoing.html:
        message.add_alternative(
            outgoing.html, subtype="html", charset="utf-8", cte=_transfer_encoding(outgoing.html)
        )
    return message


def quote_filename(name: str) -> str:
    """A Content-Disposition value any browser reads, for any file name (RFC 6266)."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", name) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name)}"
