"""Twilio's signature (with Twilio's published test vector) and the CTI signature."""

from __future__ import annotations

import pytest

from app.channels.voice.cti_signature import (
    SignatureRefused,
    parse_header,
    sign,
    signature_header,
    verify,
)
from app.channels.voice.twilio_signature import compute_signature, signature_matches

TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_published_vector() -> None:
    assert compute_signature("12345", TWILIO_URL, TWILIO_PARAMS.items()) == TWILIO_EXPECTED


def test_twilio_parameter_order_does_not_matter() -> None:
    shuffled = list(reversed(list(TWILIO_PARAMS.items())))
    assert signature_matches("12345", TWILIO_URL, shuffled, TWILIO_EXPECTED)


@pytest.mark.parametrize(
    ("token", "url", "changes", "signature"),
    [
        ("12345", TWILIO_URL, {"Digits": "1235"}, TWILIO_EXPECTED),
        ("12345", TWILIO_URL, {"Extra": ""}, TWILIO_EXPECTED),
        ("12346", TWILIO_URL, {}, TWILIO_EXPECTED),
        ("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", {}, TWILIO_EXPECTED),
        ("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", {}, TWILIO_EXPECTED),
        ("12345", TWILIO_URL, {}, TWILIO_EXPECTED[:-2] + "A="),
        ("12345", TWILIO_URL, {}, ""),
        ("12345", TWILIO_URL, {}, None),
    ],
)
def test_twilio_any_change_breaks_the_signature(
    token: str, url: str, changes: dict[str, str], signature: str | None
) -> None:
    params = {**TWILIO_PARAMS, **changes}
    assert not signature_matches(token, url, params.items(), signature)


def test_cti_round_trip_and_rotation() -> None:
    body = b'{"id":"e1"}'
    header = signature_header("s3cret", 1_700_000_000, body)
    assert verify("s3cret", header, body, now=1_700_000_100) == 1_700_000_000
    rotating = f"{header},v1={sign('old-secret', 1_700_000_000, body)}"
    assert verify("old-secret", rotating, body, now=1_700_000_000) == 1_700_000_000


@pytest.mark.parametrize(
    ("header", "now", "code"),
    [
        (None, 1_700_000_000, "missing_signature"),
        ("v1=abc", 1_700_000_000, "malformed_signature"),
        ("t=1700000000", 1_700_000_000, "malformed_signature"),
        ("t=soon,v1=abc", 1_700_000_000, "malformed_signature"),
        ("t=1700000000,v1=abc", 1_700_000_000, "invalid_signature"),
        ("GOOD", 1_700_000_301, "stale_signature"),
        ("GOOD", 1_699_999_699, "stale_signature"),
    ],
)
def test_cti_refusals(header: str | None, now: int, code: str) -> None:
    body = b"{}"
    if header == "GOOD":
        header = signature_header("s3cret", 1_700_000_000, body)
    with pytest.raises(SignatureRefused) as refused:
        verify("s3cret", header, body, now=now)
    assert refused.value.code == code


def test_cti_signature_covers_the_body() -> None:
    header = signature_header("s3cret", 1_700_000_000, b'{"a":1}')
    with pytest.raises(SignatureRefused):
        verify("s3cret", header, b'{"a":2}', now=1_700_000_000)
    assert parse_header(header).timestamp == 1_700_000_000
