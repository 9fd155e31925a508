"""What contactd says about a customer's value, in the API and in the screen-pop."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.customers.value.rules_schemas import ValueRulesDocument

Grade = Literal["P", "G", "S", "B"]
Status = Literal["graded", "new", "no_sale", "dormant", "prospect", "blocked"]
ValueClass = Literal["key", "major", "normal"]


class RfmOut(BaseModel):
    r: int
    f: int
    m: int
    score: int


class VipOut(BaseModel):
    active: bool = False
    since: datetime | None = None
    until: datetime | None = None


class LastOrderOut(BaseModel):
    source: str
    order_id: str
    placed_at: datetime
    status: str
    amount: Decimal
    currency: str


class CustomerValueOut(BaseModel):
    """The customer's latest evaluation. A customer never evaluated is a prospect."""

    grade: Grade | None = None
    status: Status = "prospect"
    rfm: RfmOut | None = None
    vip: VipOut = VipOut()
    value_class: ValueClass = "normal"
    segments: list[str] = []
    evaluated_at: datetime | None = None
    reason: str = Field(
        default="no sale yet",
        description='In words, e.g. "5 orders in 12 months, ¥300 average, last 2 months ago".',
    )
    last_order: LastOrderOut | None = None
    lifetime_sales: int = 0
    lifetime_amount: Decimal = Decimal(0)
    blocked_reason: str | None = None


def value_json_sql(customer_id: str) -> str:
    """A SQL expression: the ``CustomerValueOut`` of the customer whose id is the SQL
    expression ``customer_id``, as JSON (one serializer for the profile and the pop).

    A full evaluation rewrites only the rows it changes, so a row's ``evaluated_at`` is the
    later of its own and the last full evaluation's."""
    return f"""(SELECT json_build_object(
        'grade', v.grade, 'status', coalesce(v.status, 'prospect'),
        'rfm', CASE WHEN v.score IS NOT NULL THEN
               json_build_object('r', v.r, 'f', v.f, 'm', v.m, 'score', v.score) END,
        'vip', json_build_object('active', coalesce(v.vip_until > now(), false),
                                 'since', v.vip_since, 'until', v.vip_until),
        'value_class', coalesce(v.value_class, 'normal'),
        'segments', coalesce(to_json(v.segments), '[]'::json),
        'evaluated_at', greatest(v.evaluated_at, (
            SELECT e.as_of FROM value_evaluations e WHERE e.finished_at IS NOT NULL
            ORDER BY e.as_of_day DESC LIMIT 1)),
        'reason', coalesce(v.reason, 'no sale yet'),
        'lifetime_sales', coalesce(v.lifetime_sales, 0),
        'lifetime_amount', coalesce(v.lifetime_amount, 0),
        'blocked_reason', v.blocked_reason,
        'last_order', (SELECT json_build_object(
                'source', o.source, 'order_id', o.external_id, 'placed_at', o.placed_at,
                'status', o.status, 'amount', o.amount, 'currency', o.currency)
            FROM orders o WHERE o.customer_id = k.id
            ORDER BY o.placed_at DESC, o.id DESC LIMIT 1))
    FROM (SELECT {customer_id} AS id) k
    LEFT JOIN customer_values v ON v.customer_id = k.id)"""  # noqa: S608


class ValueChangeOut(BaseModel):
    id: int
    kind: str
    old: str | None
    new: str | None
    reason: str
    figures: dict[str, object]
    changed_at: datetime


class BlockRequest(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class RulesVersionOut(BaseModel):
    version: int
    document: ValueRulesDocument
    comment: str = ""
    created_at: datetime | None = None


class RulesPublish(BaseModel):
    document: ValueRulesDocument
    comment: Annotated[str, Field(max_length=500)] = ""


class SegmentOut(BaseModel):
    name: str
    description: str
    members: int


class EvaluationOut(BaseModel):
    as_of: datetime
    customers: int
    changes: int
    rules_version: int
