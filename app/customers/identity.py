"""Normalizing how customers are reached: phone numbers to E.164, emails to one form.

Pure functions: the same number typed as ``138 0013 8000``, ``+86 138-0013-8000`` or
``0086 13800138000`` must find the same customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidPhone(ValueError):
    pass


class InvalidEmail(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Phone:
    e164: str
    extension: str | None = None


def normalize_phone(raw: str, default_region: str = "CN") -> Phone:
    """Parse a phone number as people write it; national numbers use ``default_region``."""
    text = raw.strip()
    if not text or len(text) > 64:
        raise InvalidPhone("not a phone number")
    try:
        parsed = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid number for its region")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, extension=parsed.extension or None)


def normalize_email(raw: str) -> str:
    """Validate syntax (no DNS lookup) and lower-case the whole address.

    The local part is case-sensitive by the RFC, but no mail provider our customers use
    treats it so, and matching ``Li.Na@`` to ``li.na@`` is what operators expect.
    """
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized.lower()
