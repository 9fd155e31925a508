"""Signing of the generic CTI API, both ways (events from the PBX, commands to it).

Header ``X-CTI-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256(secret, ``"<t>." + raw body``). Several ``v1`` entries may be sent while a
secret is being rotated; one matching is enough. A ``t`` more than ``tolerance`` seconds away
from now (past or future) is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

HEADER = "X-CTI-Signature"
TOLERANCE_SECONDS = 300


class SignatureRefused(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ParsedHeader:
    timestamp: int
    signatures: tuple[str, ...]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def parse_header(value: str | None) -> ParsedHeader:
    if not value:
        raise SignatureRefused(f"Missing {HEADER} header.", "missing_signature")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and item:
            signatures.append(item)
    if timestamp is None or not signatures:
        raise SignatureRefused(
            f"{HEADER} must look like t=<unix seconds>,v1=<hex>.", "malformed_signature"
        )
    return ParsedHeader(timestamp, tuple(signatures))


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check the header against the body; return its timestamp or raise SignatureRefused."""
    parsed = parse_header(header)
    if abs(now - parsed.timestamp) > tolerance:
        raise SignatureRefused(
            f"The signature's timestamp is more than {tolerance} s from now.",
            "stale_signature",
        )
    expected = sign(secret, parsed.timestamp, body).encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in parsed.signatures):
        raise SignatureRefused("The signature does not match the body.", "invalid_signature")
    return parsed.timestamp
