"""Callers' patience from what was recorded: the Kaplan–Meier estimate.

An abandoned contact's wait is its patience (an event); an answered contact's wait only
says its patience was longer (censored there). ``kaplan_meier`` estimates the survival
curve S(t) = P(patience > t) from both; ``PatienceCurve.draw`` samples a patience from it,
optionally knowing it exceeds some wait. Pure: no I/O, randomness passed in.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WaitObservation:
    seconds: float
    abandoned: bool  # False: answered after ``seconds``, patience censored there


@dataclass(frozen=True, slots=True)
class PatienceCurve:
    """A right-continuous step function: S(t) = ``survival[i]`` for times[i] <= t < times[i+1].

    Beyond the last abandonment the estimate stays at its last value: that share of callers
    is taken as waiting as long as it takes (nothing recorded says when they would leave).
    """

    times: tuple[float, ...]  # distinct abandonment times, ascending
    survival: tuple[float, ...]  # S just after each of them
    abandoned: int
    censored: int
    # -survival, ascending: what ``draw`` bisects (survival never rises)
    falling: tuple[float, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.falling) != len(self.survival):
            object.__setattr__(self, "falling", tuple(-s for s in self.survival))

    def survival_at(self, seconds: float) -> float:
        index = bisect.bisect_right(self.times, seconds)
        return 1.0 if index == 0 else self.survival[index - 1]

    def median_seconds(self) -> float | None:
        """The first time S(t) <= 0.5; None while more than half are still waiting."""
        return self.quantile_time(0.5)

    def quantile_time(self, level: float) -> float | None:
        """The first recorded time at which S(t) <= ``level``, or None (never)."""
        for time, survival in zip(self.times, self.survival, strict=True):
            if survival <= level:
                return time
        return None

    def draw(self, rng: random.Random, longer_than: float = 0.0) -> float | None:
        """A patience from the curve given patience > ``longer_than``; None = infinite.

        Inverse transform: u uniform on (0, S(longer_than)], patience the first abandonment
        time after ``longer_than`` with S <= u.
        """
        ceiling = self.survival_at(longer_than)
        u = rng.random() * ceiling
        start = bisect.bisect_right(self.times, longer_than)
        index = bisect.bisect_left(self.falling, -u, lo=start)  # first survival <= u
        return self.times[index] if index < len(self.times) else None

    def as_dict(self) -> dict[str, object]:
        return {
            "abandoned": self.abandoned,
            "censored": self.censored,
            "median_seconds": self.median_seconds(),
            "survival": [[t, s] for t, s in zip(self.times, self.survival, strict=True)],
        }


def kaplan_meier(observations: Iterable[WaitObservation]) -> PatienceCurve:
    """The product-limit estimate; at equal times abandonments come before censoring."""
    ordered = sorted(observations, key=lambda o: (o.seconds, not o.abandoned))
    at_risk = len(ordered)
    survival = 1.0
    times: list[float] = []
    levels: list[float] = []
    abandoned = censored = 0
    index = 0
    while index < len(ordered):
        seconds = ordered[index].seconds
        events = leaving = 0
        while index < len(ordered) and math.isclose(ordered[index].seconds, seconds):
            events += ordered[index].abandoned
            leaving += 1
            index += 1
        if events:
            survival *= 1.0 - events / at_risk
            times.append(seconds)
            levels.append(survival)
        abandoned += events
        censored += leaving - events
        at_risk -= leaving
    return PatienceCurve(tuple(times), tuple(levels), abandoned, censored)
