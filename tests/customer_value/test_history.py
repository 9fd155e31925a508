"""A customer's value at a past moment from their orders: the figures the evaluation's SQL
would aggregate, scored by the same scorer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.customers.value.core.history import OrderFact, summary_as_of, tags_as_of
from app.customers.value.core.rules import ValueRules, VipRule
from app.customers.value.core.scorer import OrderSummary

AS_OF = datetime(2026, 6, 15, 12, tzinfo=UTC)
ORDERS = (
    OrderFact(datetime(2024, 1, 5, tzinfo=UTC), "completed", 2, Decimal(100)),  # before window
    OrderFact(datetime(2025, 9, 1, tzinfo=UTC), "paid", 3, Decimal(600)),
    OrderFact(datetime(2026, 2, 1, tzinfo=UTC), "refunded", 1, Decimal(900)),  # not a sale
    OrderFact(datetime(2026, 5, 20, tzinfo=UTC), "completed", 1, Decimal(400)),
    OrderFact(datetime(2026, 7, 1, tzinfo=UTC), "completed", 9, Decimal(9000)),  # after as_of
)


def test_the_figures_as_of_a_moment_by_hand() -> None:
    assert summary_as_of(ORDERS, AS_OF, ValueRules()) == OrderSummary(
        sales=2,
        items=4,
        amount=Decimal(1000),
        last_sale_at=datetime(2026, 5, 20, tzinfo=UTC),
        orders_in_window=3,
        earlier_sales=1,
        first_sale_at=datetime(2024, 1, 5, tzinfo=UTC),
    )
    assert summary_as_of(ORDERS, datetime(2024, 1, 1, tzinfo=UTC), ValueRules()) == OrderSummary()


def test_the_same_orders_under_other_rules_give_other_tags() -> None:
    """Two sales averaging ¥500 a month ago: R 5, F 2, M 3 = 5 + 6 + 12 = 23, Silver; a VIP
    rule of one sale makes the customer VIP; blocked takes grade, VIP and class away."""
    seed = tags_as_of(ORDERS, AS_OF, ValueRules(), value_class="major")
    assert seed == ("grade:S", "status:graded", "class:major")
    easy_vip = ValueRules(vip=VipRule(min_sales=1, min_items=1, min_amount=Decimal(100)))
    tags = tags_as_of(ORDERS, AS_OF, easy_vip, value_class="major", segments=("loyal",))
    assert tags == ("grade:S", "status:graded", "vip", "class:major", "segment:loyal")
    blocked = tags_as_of(ORDERS, AS_OF, easy_vip, value_class="key", blocked=True)
    assert blocked == ("status:blocked", "class:normal")
    # a month later the ¥9,000 sale of July counts: 3 sales, ¥3,333 average, R 5 F 3 M 5 = 34
    later = tags_as_of(ORDERS, AS_OF + timedelta(days=30), ValueRules(), value_class="normal")
    assert later[0] == "grade:G"
