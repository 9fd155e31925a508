"""The shop's order export, row by row, the pure core of ``contactd import orders``.

A row becomes an ``ImportRow`` (every field checked and normalized, the amount in CNY) or a
``Rejection`` (line, column, reason). Time, rates, time zone and phone region are passed
in; phones and emails are normalized by the same rules as contacts (``identity``), with the
answers cached: an export names the same customers over and over.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from app.customers.identity import InvalidEmail, InvalidPhone, normalize_email, normalize_phone
from app.orders.core import OrderRuleError, amount_in_cny, check_amount, check_placed_at

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
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_PLAIN_PHONE = re.compile(r"^\+?[\d\s\-().]+$")
_STATUSES = frozenset(("paid", "completed", "cancelled", "refunded"))


class BadFile(ValueError):
    """The file as a whole cannot be imported (not CSV, header columns missing, …)."""


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A checked row, in the staging table's column order (``record``)."""

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
        return (
            self.line,
            self.external_id,
            self.customer_id,
            self.phone,
            self.email,
            self.name,
            self.placed_at,
            self.status,
            self.items,
            self.amount,
            self.currency,
            self.amount_cny,
        )


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


@lru_cache(maxsize=1_000_000)
def _phone(raw: str, region: str) -> str | None:
    try:
        return normalize_phone(raw, region).e164
    except InvalidPhone:
        return None


@lru_cache(maxsize=200_000)
def _email(raw: str) -> str | None:
    try:
        return normalize_email(raw)
    except InvalidEmail:
        return None


def _customer_id(raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_CUSTOMER_ID:
        raise _Reject("customer_id", "not a customer id (a positive whole number)")
    return int(raw)


class RowParser:
    """Checks rows against the rules in force at ``now``."""

    def __init__(
        self,
        positions: Mapping[str, int],
        *,
        now: datetime,
        rates: Mapping[str, Decimal],
        zone: tzinfo,
        region: str,
    ) -> None:
        self.index = tuple(positions[column] for column in COLUMNS)
        self.width = max(self.index) + 1
        self.now = now
        self.rates = dict(rates)
        self.zone = zone
        self.region = region

    def parse(self, line: int, fields: Sequence[str]) -> ImportRow | Rejection:
        if len(fields) < self.width:
            return Rejection(line, "-", f"{len(fields)} fields, the header has more")
        try:
            return self._parse(line, [fields[i].strip() for i in self.index])
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
        cny_amount, exact = self._amount(amount, currency.upper() or "CNY")
        return ImportRow(
            line=line,
            external_id=order_id,
            customer_id=_customer_id(customer_id),
            phone=self._phone(phone),
            email=self._email(email),
            name=name,
            placed_at=self._placed_at(placed_at),
            status=self._status(status),
            items=self._items(items),
            amount=exact,
            currency=currency.upper() or "CNY",
            amount_cny=cny_amount,
        )

    def _phone(self, raw: str) -> str | None:
        if not raw:
            return None
        if _PLAIN_PHONE.match(raw):  # digits and separators: one cache entry for any spacing
            raw = _PHONE_SEPARATORS.sub("", raw)
        e164 = _phone(raw, self.region)
        if e164 is None:
            raise _Reject("customer_phone", "not a valid phone number")
        return e164

    @staticmethod
    def _email(raw: str) -> str | None:
        if not raw:
            return None
        address = _email(raw)
        if address is None:
            raise _Reject("customer_email", "not a valid email address")
        return address

    def _placed_at(self, raw: str) -> datetime:
        """ISO 8601; a date alone is 00:00 and a time without offset is local, in ``zone``."""
        try:
            if _DATE_ONLY.match(raw):
                parsed = datetime.combine(date.fromisoformat(raw), time(), self.zone)
            else:
                parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise _Reject("placed_at", "not an ISO 8601 date or time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        try:
            return check_placed_at(parsed, self.now)
        except OrderRuleError as error:
            raise _Reject("placed_at", error.message) from None

    @staticmethod
    def _status(raw: str) -> str:
        status = raw.lower()
        if status not in _STATUSES:
            raise _Reject("status", "not one of paid, completed, cancelled, refunded")
        return status

    @staticmethod
    def _items(raw: str) -> int:
        if not raw:
            return 1
        if not raw.isdigit() or int(raw) > 1_000_000:
            raise _Reject("items", "not a whole number from 0 to 1,000,000")
        return int(raw)

    def _amount(self, raw: str, currency: str) -> tuple[Decimal, Decimal]:
        """The amount in CNY and as written, exact."""
        try:
            amount = check_amount(Decimal(raw))
        except InvalidOperation:
            raise _Reject("amount", "not a number") from None
        except OrderRuleError as error:
            raise _Reject("amount", error.message) from None
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise _Reject("currency", "not a three-letter currency code")
        try:
            return amount_in_cny(amount, currency, self.rates), amount
        except OrderRuleError as error:
            raise _Reject("currency" if error.code == "unknown_currency" else "amount",
                          error.message) from None  # fmt: skip
