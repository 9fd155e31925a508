"""Orders, the pure core: what makes an order valid and what it is worth in CNY.

No I/O: the time (``now``), the currency rates and the shop's time zone are passed in, so
the API and the bulk import apply exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.orders.models import ORDER_STATUSES

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a ``placed_at`` may be (the shop's clock runs a little ahead)."""
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
"""The largest amount ``NUMERIC(14, 2)`` holds, in the order's currency and in CNY."""
DEFAULT_SOURCE = "shop"


class OrderRuleError(ValueError):
    """An order breaks a rule; ``code`` names which (``unknown_currency``, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_status(status: str) -> str:
    if status not in ORDER_STATUSES:
        raise OrderRuleError("unknown_status", f"status must be one of {', '.join(ORDER_STATUSES)}")
    return status


def check_amount(amount: Decimal) -> Decimal:
    """Exact, non-negative, at most two decimal places, within ``MAX_AMOUNT``."""
    if not amount.is_finite():
        raise OrderRuleError("invalid_amount", "amount must be a number")
    if amount < 0:
        raise OrderRuleError("negative_amount", "amount must not be negative")
    if amount != amount.quantize(CENT):
        raise OrderRuleError("invalid_amount", "amount has more than two decimal places")
    if amount > MAX_AMOUNT:
        raise OrderRuleError("invalid_amount", "amount is too large")
    return amount.quantize(CENT)


def check_placed_at(placed_at: datetime, now: datetime) -> datetime:
    """Aware, and not later than ``now`` plus ``CLOCK_SKEW``."""
    if placed_at.tzinfo is None or placed_at.utcoffset() is None:
        raise OrderRuleError("invalid_placed_at", "placed_at needs a time zone offset")
    if placed_at > now + CLOCK_SKEW:
        raise OrderRuleError("placed_in_future", "placed_at is in the future")
    return placed_at


def amount_in_cny(amount: Decimal, currency: str, rates: Mapping[str, Decimal]) -> Decimal:
    """``amount`` at the configured rate, to the cent (half up)."""
    rate = rates.get(currency)
    if rate is None:
        raise OrderRuleError("unknown_currency", f"no rate configured for currency '{currency}'")
    cny = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if cny > MAX_AMOUNT:
        raise OrderRuleError("invalid_amount", "amount in CNY is too large")
    return cny
