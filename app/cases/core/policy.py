"""Which SLA policy a case gets: by case type × customer grade / VIP, the most specific
match wins (type, then VIP, then grade; a tie goes to the earlier policy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.cases.core.sla import Targets

Priority = str  # low | normal | high | urgent
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")


@dataclass(frozen=True, slots=True)
class Escalation:
    """What a breach does: move the case to ``queue`` and/or raise it to ``priority``
    (never lowers it)."""

    queue: str | None = None
    priority: Priority | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    targets: Targets
    case_type: str | None = None  # None: any type
    grade: str | None = None  # P | G | S | B; None: any grade
    vip: bool | None = None  # None: VIP or not
    escalation: Escalation | None = None

    def matches(self, case_type: str, grade: str | None, vip: bool) -> bool:
        return (
            (self.case_type is None or self.case_type == case_type)
            and (self.grade is None or self.grade == grade)
            and (self.vip is None or self.vip == vip)
        )

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        return (self.case_type is not None, self.vip is not None, self.grade is not None)


def choose_policy(
    policies: Sequence[Policy], case_type: str, grade: str | None, vip: bool
) -> Policy | None:
    """The most specific policy matching the case; None when none matches."""
    best: Policy | None = None
    for policy in policies:
        if policy.matches(case_type, grade, vip) and (
            best is None or policy.specificity > best.specificity
        ):
            best = policy
    return best


def raised(current: Priority, to: Priority | None) -> Priority:
    """``current`` raised to ``to`` (never lowered)."""
    if to is None or PRIORITIES.index(to) <= PRIORITIES.index(current):
        return current
    return to
