"""The CSAT report's figures per group (agent, queue, grade or channel). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SATISFIED_FROM = 4  # scores 4 and 5 count as satisfied


@dataclass(frozen=True, slots=True)
class CsatFigures:
    group: str
    offered: int
    responses: int
    average: float | None  # None: no response
    satisfied_pct: float | None  # share of responses scoring 4-5, in percent
    response_rate_pct: float | None  # responses / offered, in percent; None: none offered


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def figures(offered: Mapping[str, int], scores: Iterable[tuple[str, int]]) -> list[CsatFigures]:
    """One row per group that was offered a survey or answered one, sorted by group.
    ``offered``: surveys offered per group; ``scores``: (group, score 1-5) per response."""
    totals: dict[str, list[int]] = {}
    for group, score in scores:
        if not 1 <= score <= 5:
            raise ValueError(f"score out of range: {score}")
        totals.setdefault(group, []).append(score)
    rows = []
    for group in sorted(set(offered) | set(totals)):
        given = totals.get(group, [])
        sent = max(offered.get(group, 0), len(given))
        rows.append(
            CsatFigures(
                group=group,
                offered=sent,
                responses=len(given),
                average=round(sum(given) / len(given), 2) if given else None,
                satisfied_pct=_pct(sum(1 for s in given if s >= SATISFIED_FROM), len(given)),
                response_rate_pct=_pct(len(given), sent),
            )
        )
    return rows
