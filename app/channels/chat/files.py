"""What a chat attachment may be, decided from its bytes (pure: no I/O).

The media type is sniffed from the content (``filetype`` reads the magic numbers; plain
text is recognised here), never taken from the name or the browser's ``Content-Type``, so a
page or a program renamed ``photo.png`` is refused. The stored type is the sniffed one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

import filetype  # type: ignore[import-untyped]

TEXT_PLAIN = "text/plain"
MAX_FILENAME_CHARS = 255
_TEXT_SAMPLE_BYTES = 64 * 1024
_MARKUP = re.compile(rb"^\s*<(!doctype|html|svg|script|\?xml|head|body|iframe)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a file is not taken: ``too_large`` or ``type_refused`` (with what was found)."""

    reason: str
    detected: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptedFile:
    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes


def sniff(content: bytes) -> str | None:
    """The media type the bytes are, or None when they are none we recognise."""
    kind = filetype.guess(content)
    if kind is not None:
        return str(kind.mime)
    return TEXT_PLAIN if _is_plain_text(content) else None


def _is_plain_text(content: bytes) -> bool:
    """UTF-8 (a BOM allowed) or BOM-marked UTF-16 text without control characters, and
    not markup (HTML, SVG, XML), which a browser would run rather than show."""
    if not content or _MARKUP.match(content[:256]):
        return False
    sample = content[:_TEXT_SAMPLE_BYTES]
    encoding = "utf-16" if sample[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError as exc:  # a character cut by the sample's end is fine
        if len(content) <= _TEXT_SAMPLE_BYTES or exc.start < len(sample) - 4:
            return False
        text = sample[: exc.start].decode(encoding)
    return _CONTROL.search(text) is None


def clean_filename(name: str | None) -> str:
    """The name to store and show: no path, no control characters, at most 255 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable()).strip()
    return base[:MAX_FILENAME_CHARS] or "attachment"


def check_file(
    filename: str | None, content: bytes, max_bytes: int, allowed: Collection[str]
) -> AcceptedFile | Refusal:
    """Accept ``content`` when it is at most ``max_bytes`` and of an ``allowed`` type."""
    if len(content) > max_bytes:
        return Refusal("too_large")
    detected = sniff(content)
    if detected is None or detected not in allowed:
        return Refusal("type_refused", detected)
    return AcceptedFile(
        filename=clean_filename(filename),
        content_type=detected,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
