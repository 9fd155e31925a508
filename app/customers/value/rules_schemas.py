"""The value-rules document: versioned data that drives the customer-value scorer.

Admins publish it whole (``PUT /api/v1/customer-value/rules``); every publish is a new
version and the highest is in force. ``to_core`` turns it into the scorer's dataclasses.
The defaults are the seed rules of docs/customer-value.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.customers.value.core import segments as seg
from app.customers.value.core.rules import ValueRules, VipRule

Points = Annotated[int, Field(ge=0, le=100)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
SegmentName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecencyBand(_Strict):
    months: Annotated[int, Field(ge=0, le=120)]
    points: Points


class FrequencyBand(_Strict):
    sales: Annotated[int, Field(ge=0, le=100_000)]
    points: Points


class MonetaryBand(_Strict):
    average_at_least: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
    points: Points


class GradeBand(_Strict):
    grade: Literal["P", "G", "S", "B"]
    score_at_least: Annotated[int, Field(ge=0, le=10_000)]


class Vip(_Strict):
    min_sales: Annotated[int, Field(ge=0)] = 3
    min_items: Annotated[int, Field(ge=0)] = 10
    min_amount: Annotated[Decimal, Field(ge=0)] = Decimal(10_000)
    term_months: Annotated[int, Field(ge=1, le=120)] = 12


class ValueClassShare(_Strict):
    value_class: Literal["key", "major"]
    cumulative_share: Annotated[float, Field(gt=0, le=1)]


class Compare(_Strict):
    """One fact compared: exactly one of the operators is given."""

    fact: Literal[seg.FACTS]  # type: ignore[valid-type]
    eq: seg.Scalar | None = None
    ne: seg.Scalar | None = None
    in_: Annotated[list[seg.Scalar] | None, Field(alias="in")] = None
    gte: float | None = None
    lte: float | None = None
    contains: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one_operator(self) -> Compare:
        operators = ("eq", "ne", "in_", "gte", "lte", "contains")
        given = [op for op in operators if getattr(self, op) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of eq, ne, in, gte, lte, contains")
        return self

    def to_core(self) -> seg.Compare:
        for op in ("eq", "ne", "gte", "lte", "contains"):
            value = getattr(self, op)
            if value is not None:
                return seg.Compare(self.fact, op, value)
        return seg.Compare(self.fact, "in", tuple(self.in_ or ()))


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)

    def to_core(self) -> seg.AllOf:
        return seg.AllOf(tuple(part.to_core() for part in self.all))


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)

    def to_core(self) -> seg.AnyOf:
        return seg.AnyOf(tuple(part.to_core() for part in self.any))


class NotOf(_Strict):
    not_: Annotated[Condition, Field(alias="not")]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_core(self) -> seg.Not:
        return seg.Not(self.not_.to_core())


Condition = Compare | AllOf | AnyOf | NotOf


class SegmentRule(_Strict):
    name: SegmentName
    description: Annotated[str, Field(max_length=500)] = ""
    when: Condition

    def to_core(self) -> seg.Segment:
        return seg.Segment(self.name, self.when.to_core(), self.description)


DEFAULT_SEGMENTS: list[dict[str, Any]] = [
    {
        "name": "win-back",
        "description": "P/G customers with no order for 120 days",
        "when": {
            "all": [
                {"fact": "grade", "in": ["P", "G"]},
                {"fact": "days_since_last_sale", "gte": 120},
            ]
        },
    },
    {
        "name": "vip",
        "description": "VIP customers",
        "when": {"fact": "vip", "eq": True},
    },
    {
        "name": "new-customers",
        "description": "First sale since the last full evaluation",
        "when": {"fact": "status", "eq": "new"},
    },
]


class ValueRulesDocument(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})

    window_months: Annotated[int, Field(ge=1, le=120)] = 12
    recency: list[RecencyBand] = Field(
        default_factory=lambda: [
            RecencyBand(months=m, points=p) for m, p in ((1, 5), (3, 4), (4, 3), (7, 2), (12, 1))
        ],
        min_length=1,
    )
    frequency: list[FrequencyBand] = Field(
        default_factory=lambda: [
            FrequencyBand(sales=s, points=p) for s, p in ((6, 5), (4, 4), (3, 3), (2, 2), (1, 1))
        ],
        min_length=1,
    )
    monetary: list[MonetaryBand] = Field(
        default_factory=lambda: [
            MonetaryBand(average_at_least=Decimal(a), points=p)
            for a, p in ((2000, 5), (1000, 4), (500, 3), (300, 2), (0, 1))
        ],
        min_length=1,
    )
    weights: dict[Literal["r", "f", "m"], Annotated[int, Field(ge=0, le=100)]] = {
        "r": 1,
        "f": 3,
        "m": 4,
    }
    grades: list[GradeBand] = Field(
        default_factory=lambda: [
            GradeBand(grade=g, score_at_least=s)
            for g, s in (("P", 36), ("G", 26), ("S", 17), ("B", 0))
        ],
        min_length=1,
    )
    vip: Vip = Vip()
    value_classes: list[ValueClassShare] = Field(
        default_factory=lambda: [
            ValueClassShare(value_class="key", cumulative_share=0.05),
            ValueClassShare(value_class="major", cumulative_share=0.20),
        ]
    )
    currency_rates: dict[Currency, Annotated[Decimal, Field(gt=0)]] = Field(
        default_factory=lambda: {"CNY": Decimal(1)},
        description="CNY per unit of each currency orders may arrive in.",
    )
    segments: list[SegmentRule] = Field(
        default_factory=lambda: [SegmentRule.model_validate(s) for s in DEFAULT_SEGMENTS]
    )

    @field_validator("recency")
    @classmethod
    def _recency_ascending(cls, bands: list[RecencyBand]) -> list[RecencyBand]:
        if [b.months for b in bands] != sorted({b.months for b in bands}):
            raise ValueError("recency bands go from the most recent (fewest months) up")
        return bands

    @field_validator("frequency")
    @classmethod
    def _frequency_descending(cls, bands: list[FrequencyBand]) -> list[FrequencyBand]:
        if [b.sales for b in bands] != sorted({b.sales for b in bands}, reverse=True):
            raise ValueError("frequency bands go from the most sales down")
        return bands

    @field_validator("monetary")
    @classmethod
    def _monetary_descending(cls, bands: list[MonetaryBand]) -> list[MonetaryBand]:
        values = [b.average_at_least for b in bands]
        if values != sorted(set(values), reverse=True):
            raise ValueError("monetary bands go from the highest average down")
        return bands

    @field_validator("grades")
    @classmethod
    def _grades_descending(cls, bands: list[GradeBand]) -> list[GradeBand]:
        scores = [b.score_at_least for b in bands]
        if scores != sorted(set(scores), reverse=True) or len({b.grade for b in bands}) != len(
            bands
        ):
            raise ValueError("grades go from the highest score down, each grade once")
        return bands

    @field_validator("value_classes")
    @classmethod
    def _shares_ascending(cls, shares: list[ValueClassShare]) -> list[ValueClassShare]:
        if [s.value_class for s in shares] not in (["key", "major"], ["key"], []):
            raise ValueError("value classes are key, then major")
        if [s.cumulative_share for s in shares] != sorted(s.cumulative_share for s in shares):
            raise ValueError("cumulative shares grow from key to major")
        return shares

    @field_validator("segments")
    @classmethod
    def _unique_segments(cls, rules: list[SegmentRule]) -> list[SegmentRule]:
        names = [r.name for r in rules]
        if len(names) != len(set(names)):
            raise ValueError("segment names must be unique")
        return rules

    @model_validator(mode="after")
    def _cny_is_one(self) -> ValueRulesDocument:
        self.currency_rates = {"CNY": Decimal(1), **self.currency_rates}
        return self


def to_core(document: ValueRulesDocument, version: int) -> ValueRules:
    return ValueRules(
        window_months=document.window_months,
        recency=tuple((b.months, b.points) for b in document.recency),
        frequency=tuple((b.sales, b.points) for b in document.frequency),
        monetary=tuple((b.average_at_least, b.points) for b in document.monetary),
        weights=(
            document.weights.get("r", 0),
            document.weights.get("f", 0),
            document.weights.get("m", 0),
        ),
        grades=tuple((b.score_at_least, b.grade) for b in document.grades),
        vip=VipRule(
            min_sales=document.vip.min_sales,
            min_items=document.vip.min_items,
            min_amount=document.vip.min_amount,
            term_months=document.vip.term_months,
        ),
        value_classes=tuple((s.value_class, s.cumulative_share) for s in document.value_classes),
        segments=tuple(rule.to_core() for rule in document.segments),
        version=version,
    )
