"""SLA attainment: per group of cases, per target, how many were met, missed, and are
still running; attainment is met / (met + missed), null while none is decided."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.cases.core.sla import SlaStatus, Target


@dataclass(slots=True)
class Tally:
    met: int = 0
    breached: int = 0
    running: int = 0

    def row(self) -> dict[str, Any]:
        decided = self.met + self.breached
        percent = None if decided == 0 else round(100 * self.met / decided, 1)
        return {
            "met": self.met,
            "breached": self.breached,
            "running": self.running,
            "attainment_percent": percent,
        }


@dataclass(slots=True)
class Group:
    cases: int = 0
    targets: dict[Target, Tally] = field(default_factory=lambda: {t: Tally() for t in Target})

    def add(self, status: SlaStatus | None) -> None:
        self.cases += 1
        if status is None:
            return
        for clock in status.clocks:
            tally = self.targets[clock.target]
            if clock.breached:
                tally.breached += 1
            elif clock.state == "stopped":
                tally.met += 1
            else:
                tally.running += 1

    def row(self) -> dict[str, Any]:
        return {"cases": self.cases, **{t.value: tally.row() for t, tally in self.targets.items()}}


def attainment(
    items: Iterable[tuple[str | None, SlaStatus | None]],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows per group key (ordered by key, None last) and the totals. Each cycle of a
    target counts once (a case with two next-response waits counts two)."""
    groups: dict[str | None, Group] = {}
    total = Group()
    for key, status in items:
        groups.setdefault(key, Group()).add(status)
        total.add(status)
    ordered = sorted(groups, key=lambda k: (k is None, k or ""))
    return [{"group": key, **groups[key].row()} for key in ordered], total.row()
