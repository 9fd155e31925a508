"""The import's row parser, directly: every row is either checked and normalized or
rejected with a column and a reason, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.customers.identity import InvalidPhone, normalize_phone
from app.orders.core import OrderRuleError, check_amount
from app.orders.rows import COLUMNS, BadFile, ImportRow, Rejection, RowParser, header_positions

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PARSER = RowParser(
    header_positions(list(COLUMNS)),
    now=NOW,
    rates={"CNY": Decimal(1), "USD": Decimal("7.1")},
    zone=SHANGHAI,
    region="CN",
)


def row(**values: str) -> list[str]:
    base = {
        "order_id": "T-1",
        "customer_id": "",
        "customer_phone": "13800138000",
        "customer_email": "",
        "customer_name": "王小明",
        "placed_at": "2026-03-01",
        "status": "completed",
        "items": "2",
        "amount": "300.00",
        "currency": "CNY",
    }
    base.update(values)
    return [base[c] for c in COLUMNS]


def test_a_good_row_is_normalized() -> None:
    parsed = PARSER.parse(2, row(customer_email=" Li.Na@Example.COM ", currency="usd"))
    assert isinstance(parsed, ImportRow)
    assert parsed.phone == "+8613800138000"
    assert parsed.email == "li.na@example.com"
    assert parsed.placed_at == datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert (parsed.currency, parsed.amount, parsed.amount_cny) == (
        "USD",
        Decimal("300.00"),
        Decimal("2130.00"),
    )


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"amount": "-0.01"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"status": "shipped"}, "status"),
        ({"placed_at": "2026-12-08"}, "placed_at"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"currency": "EUR"}, "currency"),
        ({"currency": "€€€"}, "currency"),
        ({"customer_phone": "", "customer_id": ""}, "customer_id"),
        ({"customer_id": "-3"}, "customer_id"),
        ({"customer_phone": "12345"}, "customer_phone"),
        ({"customer_phone": "", "customer_email": "nobody"}, "customer_email"),
        ({"items": "1.5"}, "items"),
        ({"order_id": ""}, "order_id"),
    ],
)
def test_bad_values_are_rejected_with_their_column(values: dict[str, str], column: str) -> None:
    parsed = PARSER.parse(7, row(**values))
    assert isinstance(parsed, Rejection)
    assert (parsed.line, parsed.column) == (7, column)


def test_the_clock_may_run_a_little_ahead_and_offsets_are_kept() -> None:
    ahead = (NOW + timedelta(minutes=4)).isoformat()
    assert isinstance(PARSER.parse(2, row(placed_at=ahead)), ImportRow)
    parsed = PARSER.parse(2, row(placed_at="2026-03-01T10:00:00Z"))
    assert isinstance(parsed, ImportRow)
    assert parsed.placed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_the_header_needs_every_column_in_any_order_and_case() -> None:
    shuffled = ["\ufeffAmount", *reversed([c.upper() for c in COLUMNS[:-1]]), "extra"]
    positions = header_positions([*shuffled, "currency"])
    assert positions["amount"] == 0
    with pytest.raises(BadFile, match="customer_email"):
        header_positions([c for c in COLUMNS if c != "customer_email"])


@given(st.lists(st.text(max_size=30), max_size=12), st.integers(min_value=2, max_value=10**6))
def test_any_row_is_parsed_or_rejected_never_raises(fields: list[str], line: int) -> None:
    parsed = PARSER.parse(line, fields)
    assert parsed.line == line
    if isinstance(parsed, Rejection):
        assert parsed.column in (*COLUMNS, "-")
        assert parsed.reason


@given(
    cents=st.integers(min_value=0, max_value=10**13),
    items=st.integers(min_value=0, max_value=10**6),
    days=st.integers(min_value=0, max_value=3000),
    status=st.sampled_from(["paid", "completed", "cancelled", "refunded", "PAID"]),
)
def test_valid_rows_keep_their_amount_exactly(
    cents: int, items: int, days: int, status: str
) -> None:
    amount = Decimal(cents) / 100
    placed = (NOW - timedelta(days=days)).date().isoformat()
    parsed = PARSER.parse(
        2, row(amount=str(amount), items=str(items), placed_at=placed, status=status)
    )
    assert isinstance(parsed, ImportRow), parsed
    assert parsed.amount == parsed.amount_cny == amount
    assert parsed.items == items
    assert parsed.status == status.lower()
    assert parsed.placed_at <= NOW


def test_a_number_is_normalized_alike_in_any_form_and_a_full_memo_starts_over() -> None:
    parser = RowParser(
        header_positions(list(COLUMNS)),
        now=NOW,
        rates={"CNY": Decimal(1)},
        zone=SHANGHAI,
        region="CN",
        memo_size=3,
    )
    forms = ["+8613800138000", "138 0013 8000", "0086 13800138000", "+86 138-0013-8000"]
    for raw in [*forms, *forms, "12345", "12345"]:
        parsed = parser.parse(2, row(customer_phone=raw))
        if raw == "12345":
            assert isinstance(parsed, Rejection)
            assert parsed.column == "customer_phone"
        else:
            assert isinstance(parsed, ImportRow)
            assert parsed.phone == "+8613800138000"
    assert len(parser.phones.answers) <= 3


@given(st.from_regex(r"-?\d{0,14}(\.\d{0,3})?", fullmatch=True) | st.text(max_size=16))
def test_amounts_are_checked_as_check_amount_checks_them(raw: str) -> None:
    try:
        expected: Decimal | None = check_amount(Decimal(raw.strip()))
    except (InvalidOperation, OrderRuleError):
        expected = None
    parsed = PARSER.parse(2, row(amount=raw))
    if expected is None:
        assert isinstance(parsed, Rejection)
        assert parsed.column == "amount"
    else:
        assert isinstance(parsed, ImportRow), parsed
        assert (str(parsed.amount), str(parsed.amount_cny)) == (str(expected), str(expected))


NUMBERS = ["13800138000", "1012345678", "2025550123", "2079460958", "8613800138000", "030901820"]


@given(
    st.sampled_from(["CN", "US", "GB", "DE"]),
    st.sampled_from(["", "+", "00", "0086", "011", "0049", "001", "0", "000"]),
    st.sampled_from(NUMBERS) | st.from_regex(r"[0-9]{1,14}", fullmatch=True),
)
def test_a_phone_is_normalized_as_identity_normalizes_it(
    region: str, prefix: str, digits: str
) -> None:
    raw = prefix + digits
    try:
        expected: str | None = normalize_phone(raw, region).e164
    except InvalidPhone:
        expected = None
    parser = RowParser(
        header_positions(list(COLUMNS)), now=NOW, rates={"CNY": Decimal(1)}, zone=SHANGHAI,
        region=region,
    )  # fmt: skip
    for _ in range(2):  # the second time from the memo
        parsed = parser.parse(2, row(customer_phone=raw))
        if expected is None:
            assert isinstance(parsed, Rejection)
            assert parsed.column == "customer_phone"
        else:
            assert isinstance(parsed, ImportRow)
            assert parsed.phone == expected
