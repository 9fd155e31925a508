"""Twilio's webhook signature (``X-Twilio-Signature``), exactly as Twilio specifies it.

Take the full URL Twilio requested (scheme, host, path and query string, as configured on
the number), append every POST parameter sorted by name (Unicode code point order), each as
name then value with no delimiter, HMAC-SHA1 the string with the account's auth token and
base64 the digest. Pure code: no request, no settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature Twilio sends for a POST of ``params`` to ``url``.

    Parameters that repeat a name are ordered by value too, as Twilio's own libraries do.
    """
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_matches(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    """Whether ``signature`` is Twilio's for this request, compared in constant time."""
    if not signature:
        return False
    expected = compute_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.encode())
