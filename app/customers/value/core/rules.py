"""The value rules as the scorer reads them: plain frozen data, no I/O.

Every band is a list of ``(threshold, points)`` pairs, best first; a figure earns the points
of the first pair it reaches. The defaults are the seed rules (docs/customer-value.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .segments import Segment


@dataclass(frozen=True, slots=True)
class VipRule:
    """VIP when, in the window, all three minimums are met; held for ``term_months``."""

    min_sales: int = 3
    min_items: int = 10
    min_amount: Decimal = Decimal(10_000)
    term_months: int = 12


@dataclass(frozen=True, slots=True)
class ValueRules:
    window_months: int = 12
    # months since the last sale, at most -> points
    recency: tuple[tuple[int, int], ...] = ((1, 5), (3, 4), (4, 3), (7, 2), (12, 1))
    # sales in the window, at least -> points
    frequency: tuple[tuple[int, int], ...] = ((6, 5), (4, 4), (3, 3), (2, 2), (1, 1))
    # average order value in CNY, at least -> points
    monetary: tuple[tuple[Decimal, int], ...] = (
        (Decimal(2000), 5),
        (Decimal(1000), 4),
        (Decimal(500), 3),
        (Decimal(300), 2),
        (Decimal(0), 1),
    )
    weights: tuple[int, int, int] = (1, 3, 4)  # R, F, M
    # score at least -> grade
    grades: tuple[tuple[int, str], ...] = ((36, "P"), (26, "G"), (17, "S"), (0, "B"))
    vip: VipRule = VipRule()
    # cumulative share of ranked customers -> class; the rest are "normal"
    value_classes: tuple[tuple[str, float], ...] = (("key", 0.05), ("major", 0.20))
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    version: int = 0
