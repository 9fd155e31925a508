"""Orders in the API: what a shop or an integration posts, and what is read back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.orders.core import DEFAULT_SOURCE

OrderStatus = Literal["paid", "completed", "cancelled", "refunded"]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Text64
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    quantity: Annotated[int, Field(ge=0, le=1_000_000)] = 1
    unit_price: Money


class OrderIn(BaseModel):
    """One order, identified by ``(source, order_id)``. Posting it again with the same
    content changes nothing; with another status, amount, items, time or currency it
    updates the stored order. ``shop`` and ``lines`` left out keep what is stored."""

    model_config = ConfigDict(extra="forbid")

    source: Text64 = DEFAULT_SOURCE
    order_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    placed_at: AwareDatetime
    status: OrderStatus
    items: Annotated[int, Field(ge=0, le=1_000_000)] = 1
    amount: Money
    currency: Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{3}$")] = "CNY"
    shop: Text64 | None = None
    lines: Annotated[list[OrderLine], Field(max_length=500)] | None = None


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    order_id: str = Field(validation_alias="external_id")
    customer_id: int
    placed_at: datetime
    status: OrderStatus
    items: int
    amount: Decimal
    currency: str
    amount_cny: Decimal
    shop: str | None
    lines: list[OrderLine] | None
    created_at: datetime
    updated_at: datetime
