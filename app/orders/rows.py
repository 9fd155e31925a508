"""The shop's order export, row by row, the pure core of ``contactd import orders``.

A row becomes an ``ImportRow`` (every field checked and normalized, the amount in CNY) or a
``Rejection`` (line, column, reason). Time, rates, time zone and phone region are passed
in; phones and emails are normalized by the same rules as contacts (``identity``), with the
answers remembered: an export names the same customers over and over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import NamedTuple

import phonenumbers

from app.customers.identity import InvalidEmail, InvalidPhone, normalize_email, normalize_phone
from app.orders.core import CENT, OrderRuleError, amount_in_cny, check_amount, check_placed_at

COLUMNS = (
    "order_id",
    "customer_id",
    "customer_phone",
    "customer_email",
    "customer_name",
    "placed_at",
    "status",
    "items",
    "amount",
    "currency",
)
MAX_CUSTOMER_ID = 2**63 - 1
MEMO_SIZE = 1_000_000
"""Distinct phones (and emails) whose normalization a parser remembers; when full it starts
over, so memory stays flat whatever the file."""
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_PLAIN_PHONE = re.compile(r"^\+?[\d\s\-().]+$")
_PLAIN_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
"""Amounts written plainly: at most 12 digits, at most two decimals. Every one of them
passes ``check_amount``; anything else is checked by it."""
_STATUSES = frozenset(("paid", "completed", "cancelled", "refunded"))
_UNSEEN = object()


class BadFile(ValueError):
    """The file as a whole cannot be imported (not CSV, header columns missing, …)."""


class ImportRow(NamedTuple):
    """A checked row, in the staging table's column order."""

    line: int
    external_id: str
    customer_id: int | None
    phone: str | None
    email: str | None
    name: str
    placed_at: datetime
    status: str
    items: int
    amount: Decimal
    currency: str
    amount_cny: Decimal

    def record(self) -> tuple[object, ...]:
        """The row for the staging table: the amounts as their decimal text."""
        return (*self[:9], str(self.amount), self.currency, str(self.amount_cny))


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    column: str
    reason: str


def header_positions(header: Sequence[str]) -> dict[str, int]:
    """Where each of ``COLUMNS`` is (names trimmed, case-insensitive, a BOM ignored; other
    columns are allowed and ignored). BadFile names the missing ones."""
    names = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise BadFile(f"the header row lacks the column(s): {', '.join(missing)}")
    return {column: names.index(column) for column in COLUMNS}


class _Reject(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        self.reason = reason


def _e164(raw: str, region: str) -> str | None:
    try:
        return normalize_phone(raw, region).e164
    except InvalidPhone:
        return None


def _international_prefix(region: str) -> re.Pattern[str] | None:
    """The pattern of ``region``'s international dialling prefix, from phonenumbers."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    prefix = metadata.international_prefix if metadata is not None else None
    return re.compile(prefix) if prefix else None


def _email_address(raw: str) -> str | None:
    try:
        return normalize_email(raw)
    except InvalidEmail:
        return None


def _code(currency: str) -> bool:
    return len(currency) == 3 and currency.isalpha() and currency.isascii()


def _customer_id(raw: str) -> int:
    if not raw.isdecimal() or not 0 < int(raw) <= MAX_CUSTOMER_ID:
        raise _Reject("customer_id", "not a customer id (a positive whole number)")
    return int(raw)


class _Memo:
    """Answers by input, at most ``size`` of them: a full memo starts over."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.answers: dict[str, str | None] = {}

    def get(self, key: str) -> object:
        return self.answers.get(key, _UNSEEN)

    def put(self, key: str, answer: str | None) -> None:
        if len(self.answers) >= self.size:
            self.answers.clear()
        self.answers[key] = answer


class RowParser:
    """Checks rows against the rules in force at ``now``.

    Phones and emails are normalized once per distinct value (an export names the same
    customers over and over): a number's E.164 form is remembered as normalizing to itself
    and one dialled with the international prefix is looked up as its "+" form, so a
    customer written as ``138 0013 8000``, ``+8613800138000`` and ``0086 13800138000``
    costs at most two parses. Midnights of date-only ``placed_at`` are remembered by date."""

    def __init__(
        self,
        positions: Mapping[str, int],
        *,
        now: datetime,
        rates: Mapping[str, Decimal],
        zone: tzinfo,
        region: str,
        memo_size: int = MEMO_SIZE,
    ) -> None:
        self.index = tuple(positions[column] for column in COLUMNS)
        self.values = itemgetter(*self.index)
        self.width = max(self.index) + 1
        self.now = now
        self.rates = dict(rates)
        self.at_par = frozenset(c for c, rate in self.rates.items() if rate == 1 and _code(c))
        self.zone = zone
        self.region = region
        self.international = _international_prefix(region)
        self.phones = _Memo(memo_size)
        self.emails = _Memo(memo_size)
        self.midnights: dict[str, datetime] = {}

    def parse(self, line: int, fields: Sequence[str]) -> ImportRow | Rejection:
        if len(fields) < self.width:
            return Rejection(line, "-", f"{len(fields)} fields, the header has more")
        try:
            return self._parse(line, [value.strip() for value in self.values(fields)])
        except _Reject as problem:
            return Rejection(line, problem.column, problem.reason)

    def _parse(self, line: int, values: list[str]) -> ImportRow:
        order_id, customer_id, phone, email, name, placed_at, status, items, amount, currency = (
            values
        )
        if not order_id or len(order_id) > 128:
            raise _Reject("order_id", "missing" if not order_id else "longer than 128 characters")
        if not (customer_id or phone or email):
            raise _Reject(
                "customer_id", "no customer_id, customer_phone or customer_email to match on"
            )
        if len(name) > 200:
            raise _Reject("customer_name", "longer than 200 characters")
        currency = currency.upper() or "CNY"
        exact = self._amount(amount)
        cny = self._in_cny(exact, currency)
        return ImportRow(
            line,
            order_id,
            _customer_id(customer_id) if customer_id else None,
            self._phone(phone) if phone else None,
            self._email(email) if email else None,
            name,
            self._placed_at(placed_at),
            self._status(status),
            self._items(items) if items else 1,
            exact,
            currency,
            cny,
        )

    def _phone(self, raw: str) -> str:
        e164 = self.phones.get(raw)
        if e164 is _UNSEEN:
            e164 = self._normalize_phone(raw)
        if e164 is None:
            raise _Reject("customer_phone", "not a valid phone number")
        return e164  # type: ignore[return-value]  # a str: neither _UNSEEN nor None

    def _normalize_phone(self, raw: str) -> str | None:
        # digits and separators: one memo entry for any spacing, and the international
        # prefix written as "+"
        key = self._dialled(_PHONE_SEPARATORS.sub("", raw)) if _PLAIN_PHONE.match(raw) else raw
        e164 = self.phones.get(key)
        if e164 is _UNSEEN:
            e164 = _e164(key, self.region)
            self.phones.put(key, e164)
            if e164 is not None:
                self.phones.put(e164, e164)
        self.phones.put(raw, e164)  # type: ignore[arg-type]  # str or None by now
        return e164  # type: ignore[return-value]

    def _dialled(self, digits: str) -> str:
        """``digits`` with the region's international prefix (``00`` in China) as "+":
        phonenumbers strips that prefix when a digit other than 0 follows and reads the
        rest as it reads a number after "+", so both normalize alike."""
        found = self.international.match(digits) if self.international else None
        if found is None or digits[found.end() : found.end() + 1] in ("", "0"):
            return digits
        return "+" + digits[found.end() :]

    def _email(self, raw: str) -> str:
        address = self.emails.get(raw)
        if address is _UNSEEN:
            address = _email_address(raw)
            self.emails.put(raw, address)
        if address is None:
            raise _Reject("customer_email", "not a valid email address")
        return address  # type: ignore[return-value]

    def _placed_at(self, raw: str) -> datetime:
        """ISO 8601; a date alone is 00:00 and a time without offset is local, in ``zone``."""
        midnight = self.midnights.get(raw)
        if midnight is not None:
            return midnight
        date_only = _DATE_ONLY.match(raw) is not None
        try:
            if date_only:
                parsed = datetime.combine(date.fromisoformat(raw), time(), self.zone)
            else:
                parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise _Reject("placed_at", "not an ISO 8601 date or time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        try:
            checked = check_placed_at(parsed, self.now)
        except OrderRuleError as error:
            raise _Reject("placed_at", error.message) from None
        if date_only and len(self.midnights) < MEMO_SIZE:
            self.midnights[raw] = checked
        return checked

    @staticmethod
    def _status(raw: str) -> str:
        status = raw.lower()
        if status not in _STATUSES:
            raise _Reject("status", "not one of paid, completed, cancelled, refunded")
        return status

    @staticmethod
    def _items(raw: str) -> int:
        items = int(raw) if raw.isdecimal() else -1
        if not 0 <= items <= 1_000_000:
            raise _Reject("items", "not a whole number from 0 to 1,000,000")
        return items

    @staticmethod
    def _amount(raw: str) -> Decimal:
        """Exact, checked by ``check_amount`` (plainly written ones pass it by their form)."""
        if _PLAIN_AMOUNT.fullmatch(raw):
            return Decimal(raw).quantize(CENT)
        try:
            return check_amount(Decimal(raw))
        except InvalidOperation:
            raise _Reject("amount", "not a number") from None
        except OrderRuleError as error:
            raise _Reject("amount", error.message) from None

    def _in_cny(self, amount: Decimal, currency: str) -> Decimal:
        """``amount_in_cny``; at a rate of 1 the checked amount is its own value in CNY."""
        if currency in self.at_par:
            return amount
        if not _code(currency):
            raise _Reject("currency", "not a three-letter currency code")
        try:
            return amount_in_cny(amount, currency, self.rates)
        except OrderRuleError as error:
            raise _Reject("currency" if error.code == "unknown_currency" else "amount",
                          error.message) from None  # fmt: skip
