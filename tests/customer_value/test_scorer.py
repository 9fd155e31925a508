"""The customer-value scorer, directly: every band edge, the seed's example, VIP, statuses,
value classes and segments. No database: the scorer is pure."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.customers.value.core.calendar import months_after, months_before
from app.customers.value.core.rules import ValueRules
from app.customers.value.core.scorer import (
    OrderSummary,
    PriorValue,
    class_limits,
    evaluate,
    grade_of,
    recency_points,
    routing_tags,
    score,
    value_class,
    whole_months_between,
)
from app.customers.value.core.segments import CustomerFacts, segments_of
from app.customers.value.rules_schemas import ValueRulesDocument, to_core
from app.customers.value.schedule import next_run

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 6, 15, 12, 0, tzinfo=SHANGHAI)
RULES = ValueRules()


def sales(
    count: int, each: str | Decimal, last: datetime, items: int | None = None
) -> OrderSummary:
    return OrderSummary(
        sales=count,
        items=count if items is None else items,
        amount=Decimal(each) * count,
        last_sale_at=last,
        orders_in_window=count,
        first_sale_at=last - timedelta(days=200),
    )


def test_the_seed_example_is_silver() -> None:
    """Last order two months ago, five orders of about ¥300: R 4, F 4, M 2 → 24 → S."""
    summary = sales(5, "300", months_before(AS_OF, 2))
    evaluation = evaluate(summary, PriorValue(), AS_OF, RULES)
    assert evaluation.rfm is not None
    assert (evaluation.rfm.r, evaluation.rfm.f, evaluation.rfm.m) == (4, 4, 2)
    assert evaluation.rfm.score == 24
    assert (evaluation.status, evaluation.grade) == ("graded", "S")
    assert evaluation.reason == "5 orders in 12 months, ¥300 average, last 2 months ago"


@pytest.mark.parametrize(
    ("months_back", "extra", "points"),
    [
        (1, timedelta(0), 5),
        (1, -timedelta(seconds=1), 4),  # a second more than a month ago
        (3, timedelta(0), 4),
        (3, -timedelta(seconds=1), 3),
        (4, timedelta(0), 3),
        (4, -timedelta(seconds=1), 2),
        (7, timedelta(0), 2),
        (7, -timedelta(seconds=1), 1),
        (12, timedelta(0), 1),
        (12, -timedelta(seconds=1), 0),
    ],
)
def test_recency_bands_edge_by_edge(months_back: int, extra: timedelta, points: int) -> None:
    last = months_before(AS_OF, months_back) + extra
    assert recency_points(last, AS_OF, RULES) == points


@pytest.mark.parametrize(
    ("count", "points"), [(1, 1), (2, 2), (3, 3), (4, 4), (5, 4), (6, 5), (40, 5)]
)
def test_frequency_bands(count: int, points: int) -> None:
    rfm = score(sales(count, "100", AS_OF), AS_OF, RULES)
    assert rfm is not None
    assert rfm.f == points


@pytest.mark.parametrize(
    ("average", "points"),
    [
        ("0.01", 1),
        ("299.99", 1),
        ("300", 2),
        ("499.99", 2),
        ("500", 3),
        ("999.99", 3),
        ("1000", 4),
        ("1999.99", 4),
        ("2000", 5),
        ("88888", 5),
    ],
)
def test_monetary_bands_on_the_average_order(average: str, points: int) -> None:
    rfm = score(sales(3, average, AS_OF), AS_OF, RULES)
    assert rfm is not None
    assert rfm.m == points


@pytest.mark.parametrize(
    ("points", "grade"),
    [(40, "P"), (36, "P"), (35, "G"), (26, "G"), (25, "S"), (17, "S"), (16, "B"), (8, "B")],
)
def test_grade_bands(points: int, grade: str) -> None:
    assert grade_of(points, RULES) == grade


def test_the_best_and_the_least_customer() -> None:
    best = score(sales(6, "2000", AS_OF), AS_OF, RULES)
    least = score(sales(1, "10", months_before(AS_OF, 12)), AS_OF, RULES)
    assert best is not None
    assert best.score == 40
    assert least is not None
    assert least.score == 8


def test_calendar_months_clamp_to_the_month_end() -> None:
    end_of_march = datetime(2026, 3, 31, 9, 0, tzinfo=SHANGHAI)
    assert months_before(end_of_march, 1) == datetime(2026, 2, 28, 9, 0, tzinfo=SHANGHAI)
    assert months_before(end_of_march, 13) == datetime(2025, 2, 28, 9, 0, tzinfo=SHANGHAI)
    assert months_after(datetime(2024, 1, 31, tzinfo=SHANGHAI), 1).day == 29  # a leap year
    assert whole_months_between(months_before(AS_OF, 2), AS_OF) == 2
    assert whole_months_between(months_before(AS_OF, 2) + timedelta(seconds=1), AS_OF) == 1


# ------------------------------------------------------------------ statuses


def test_statuses_without_a_grade() -> None:
    never = evaluate(OrderSummary(), PriorValue(), AS_OF, RULES)
    cancelled = evaluate(OrderSummary(orders_in_window=2), PriorValue(), AS_OF, RULES)
    dormant = evaluate(OrderSummary(earlier_sales=3), PriorValue(), AS_OF, RULES)
    assert (never.status, never.grade, never.reason) == ("prospect", None, "no sale yet")
    assert (cancelled.status, cancelled.rfm) == ("no_sale", None)
    assert cancelled.reason == "2 orders in 12 months, all cancelled or refunded"
    assert (dormant.status, dormant.reason) == ("dormant", "no sale in 12 months; 3 sales before")


def test_a_first_sale_after_the_last_full_evaluation_is_new_until_the_next() -> None:
    last_full = AS_OF - timedelta(days=1)
    summary = OrderSummary(
        sales=1, items=1, amount=Decimal(500), last_sale_at=AS_OF - timedelta(hours=2),
        orders_in_window=1, first_sale_at=AS_OF - timedelta(hours=2),
    )  # fmt: skip
    newcomer = evaluate(summary, PriorValue(), AS_OF, RULES, last_full)
    assert (newcomer.status, newcomer.grade) == ("new", None)
    assert newcomer.rfm is not None
    assert newcomer.rfm.score == 5 + 3 + 12
    graded = evaluate(summary, PriorValue(), AS_OF, RULES, last_full_evaluation=AS_OF)
    assert (graded.status, graded.grade) == ("graded", "S")


def test_blocked_overrides_everything_and_holds_no_vip() -> None:
    summary = sales(6, "3000", AS_OF, items=20)
    prior = PriorValue(AS_OF - timedelta(days=10), AS_OF + timedelta(days=300), blocked=True)
    evaluation = evaluate(summary, prior, AS_OF, RULES)
    assert (evaluation.status, evaluation.grade, evaluation.vip_until) == ("blocked", None, None)
    assert evaluation.vip_event == "lapsed"


# ------------------------------------------------------------------ VIP


def test_vip_needs_all_three_minimums() -> None:
    assert evaluate(sales(3, "3334", AS_OF, items=10), PriorValue(), AS_OF, RULES).vip_event == (
        "granted"
    )
    for summary in (
        sales(2, "6000", AS_OF, items=10),  # two sales
        sales(3, "3334", AS_OF, items=9),  # nine items
        sales(3, "3333", AS_OF, items=10),  # ¥9,999
    ):
        assert evaluate(summary, PriorValue(), AS_OF, RULES).vip_until is None


def test_vip_holds_a_year_then_renews_or_lapses() -> None:
    qualifying = sales(4, "3000", AS_OF, items=12)
    granted = evaluate(qualifying, PriorValue(), AS_OF, RULES)
    assert (granted.vip_since, granted.vip_until) == (AS_OF, months_after(AS_OF, 12))
    held = PriorValue(granted.vip_since, granted.vip_until)

    later = months_after(AS_OF, 6)  # no sale since: the rule no longer holds, VIP stays
    during = evaluate(OrderSummary(earlier_sales=4), held, later, RULES)
    assert (during.vip_until, during.vip_event) == (granted.vip_until, None)
    assert during.vip_active(later)

    expiry = months_after(AS_OF, 12)
    lapsed = evaluate(OrderSummary(earlier_sales=4), held, expiry, RULES)
    assert (lapsed.vip_since, lapsed.vip_until, lapsed.vip_event) == (None, None, "lapsed")

    renewed = evaluate(sales(3, "4000", expiry, items=10), held, expiry, RULES)
    assert renewed.vip_event == "renewed"
    assert (renewed.vip_since, renewed.vip_until) == (AS_OF, months_after(expiry, 12))


# ------------------------------------------------------------------ value classes


def test_value_classes_5_15_80_by_rank() -> None:
    limits = class_limits(100, RULES)
    assert limits == (("key", 5), ("major", 20))
    assert [value_class(rank, limits) for rank in (1, 5, 6, 20, 21, 100, None)] == [
        "key", "key", "major", "major", "normal", "normal", "normal",
    ]  # fmt: skip


def test_class_limits_round_up_exactly() -> None:
    seven = ValueRules(value_classes=(("key", 0.07), ("major", 0.2)))
    assert class_limits(100, seven) == (
        ("key", 7),
        ("major", 20),
    )  # 0.07 * 100 in floats is 7.000…1
    assert class_limits(1, RULES) == (("key", 1), ("major", 1))
    assert class_limits(0, RULES) == (("key", 0), ("major", 0))


@given(st.integers(0, 5000))
def test_shares_never_exceed_their_ceiling(ranked: int) -> None:
    (_, key), (_, major) = class_limits(ranked, RULES)
    assert key <= major <= ranked
    assert key * 100 >= 5 * ranked
    assert major * 100 >= 20 * ranked
    assert (key - 1) * 100 < 5 * ranked or key == 0


# ------------------------------------------------------------------ properties

MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50_000), places=2)
DAYS = st.integers(0, 364)


@given(count=st.integers(1, 30), each=MONEY, days=DAYS, later=st.integers(0, 364))
def test_a_later_sale_never_lowers_r(count: int, each: Decimal, days: int, later: int) -> None:
    early = score(sales(count, each, AS_OF - timedelta(days=days)), AS_OF, RULES)
    sooner = AS_OF - timedelta(days=max(days - later, 0))
    late = score(sales(count, each, sooner), AS_OF, RULES)
    assert early is not None
    assert late is not None
    assert late.r >= early.r


@given(count=st.integers(1, 30), more=st.integers(0, 30), each=MONEY, days=DAYS)
def test_more_sales_at_the_same_average_never_lower_f_or_the_score(
    count: int, more: int, each: Decimal, days: int
) -> None:
    last = AS_OF - timedelta(days=days)
    few, many = (
        score(sales(count, each, last), AS_OF, RULES),
        score(sales(count + more, each, last), AS_OF, RULES),
    )
    assert few is not None
    assert many is not None
    assert many.f >= few.f
    assert many.score >= few.score


@given(count=st.integers(1, 30), each=MONEY, days=DAYS)
def test_scores_stay_between_8_and_40_and_grade_follows_score(
    count: int, each: Decimal, days: int
) -> None:
    evaluation = evaluate(
        sales(count, each, AS_OF - timedelta(days=days)), PriorValue(), AS_OF, RULES
    )
    assert evaluation.rfm is not None
    assert 8 <= evaluation.rfm.score <= 40
    assert evaluation.grade == grade_of(evaluation.rfm.score, RULES)


# ------------------------------------------------------------------ segments and tags


def facts(**overrides: object) -> CustomerFacts:
    base: dict[str, object] = {
        "grade": "G", "status": "graded", "vip": False, "value_class": "normal", "r": 1,
        "f": 4, "m": 4, "score": 29, "sales": 4, "days_since_last_sale": 130,
        "days_since_last_contact": None, "open_cases": 0, "language": "zh-CN", "region": "CN",
        "tags": (),
    }  # fmt: skip
    base.update(overrides)
    return CustomerFacts(**base)  # type: ignore[arg-type]


def test_the_default_win_back_segment() -> None:
    rules = to_core(ValueRulesDocument(), 1)
    assert "win-back" in segments_of(facts(), rules.segments)
    assert "win-back" not in segments_of(facts(days_since_last_sale=119), rules.segments)
    assert "win-back" not in segments_of(facts(grade="S"), rules.segments)
    assert "win-back" not in segments_of(
        facts(grade=None, days_since_last_sale=None), rules.segments
    )


def test_segment_rules_combine_any_all_not_and_tags() -> None:
    document = ValueRulesDocument.model_validate(
        {
            "segments": [
                {
                    "name": "hk-wholesale",
                    "when": {
                        "all": [
                            {"fact": "tags", "contains": "wholesale"},
                            {
                                "any": [
                                    {"fact": "region", "eq": "HK"},
                                    {"fact": "language", "eq": "zh-HK"},
                                ]
                            },
                            {"not": {"fact": "status", "in": ["blocked", "dormant"]}},
                        ]
                    },
                }
            ]
        }
    )
    rules = to_core(document, 2)
    assert segments_of(facts(tags=("wholesale",), region="HK"), rules.segments) == ("hk-wholesale",)
    assert segments_of(facts(tags=("wholesale",), language="zh-HK", region="CN"), rules.segments)
    assert not segments_of(facts(tags=("wholesale",), region="CN"), rules.segments)
    assert not segments_of(
        facts(tags=("wholesale",), region="HK", status="dormant"), rules.segments
    )


def test_routing_tags_name_grade_status_vip_class_and_segments() -> None:
    evaluation = evaluate(sales(6, "2000", AS_OF, items=12), PriorValue(), AS_OF, RULES)
    assert routing_tags(evaluation, "key", ("win-back",), AS_OF) == (
        "grade:P", "status:graded", "vip", "class:key", "segment:win-back",
    )  # fmt: skip


@pytest.mark.parametrize(
    "document",
    [
        {"recency": [{"months": 3, "points": 4}, {"months": 1, "points": 5}]},
        {"grades": [{"grade": "P", "score_at_least": 10}, {"grade": "G", "score_at_least": 20}]},
        {"value_classes": [{"value_class": "major", "cumulative_share": 0.2}]},
        {"segments": [{"name": "x", "when": {"fact": "grade", "eq": "P", "gte": 3}}]},
        {"segments": [{"name": "x", "when": {"fact": "colour", "eq": "red"}}]},
        {"currency_rates": {"usd": 7}},
    ],
)
def test_rules_documents_that_make_no_sense_are_refused(document: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        ValueRulesDocument.model_validate(document)


# ------------------------------------------------------------------ the daily schedule


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 6, 15, 2, 59, tzinfo=SHANGHAI), datetime(2026, 6, 15, 3, 0)),
        (datetime(2026, 6, 15, 3, 0, tzinfo=SHANGHAI), datetime(2026, 6, 16, 3, 0)),
        (datetime(2026, 6, 14, 20, 0, tzinfo=ZoneInfo("UTC")), datetime(2026, 6, 16, 3, 0)),
        (datetime(2026, 6, 14, 18, 0, tzinfo=ZoneInfo("UTC")), datetime(2026, 6, 15, 3, 0)),
    ],
)
def test_the_daily_evaluation_runs_at_the_next_configured_time_in_the_shops_zone(
    now: datetime, due: datetime
) -> None:
    assert next_run(now, time(3, 0), SHANGHAI) == due.replace(tzinfo=SHANGHAI)
