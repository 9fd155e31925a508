"""Signed survey links (``/csat/{token}``): the token carries the contact id and its expiry,
signed with HMAC-SHA256 under a server secret. Pure: the time is passed in."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LINK_LIFETIME = timedelta(days=14)


class TokenError(ValueError):
    """The token cannot be used; ``code`` is ``invalid_token`` or ``token_expired``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class SurveyToken:
    contact_id: int
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signature(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def sign(contact_id: int, expires_at: datetime, secret: bytes) -> str:
    """``{contact_id}.{expiry unix seconds}.{signature}``: URL-safe, no padding."""
    payload = f"{contact_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(payload, secret)}"


def link_token(contact_id: int, now: datetime, secret: bytes) -> str:
    """A token for the contact, valid ``LINK_LIFETIME`` from ``now``."""
    return sign(contact_id, now + LINK_LIFETIME, secret)


def verify(token: str, secret: bytes, now: datetime) -> SurveyToken:
    """The token's contact and expiry; ``TokenError`` when forged, malformed (non-ASCII
    included) or expired (the signature is checked first, in constant time)."""
    parts = token.split(".")
    if not token.isascii() or len(parts) != 3 or not all(parts):
        raise TokenError("invalid_token", "This survey link is not valid.")
    contact, expiry, signature = parts
    payload = f"{contact}.{expiry}"
    if not hmac.compare_digest(signature, _signature(payload, secret)):
        raise TokenError("invalid_token", "This survey link is not valid.")
    if not (contact.isdigit() and expiry.isdigit()):
        raise TokenError("invalid_token", "This survey link is not valid.")
    expires_at = datetime.fromtimestamp(int(expiry), UTC)
    if now >= expires_at:
        raise TokenError("token_expired", "This survey link has expired.")
    return SurveyToken(int(contact), expires_at)
