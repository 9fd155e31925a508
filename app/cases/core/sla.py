"""The SLA clock: from a case's facts, its policy's targets, its calendar and now, the due
times, elapsed fractions, breaches, and the warning and breach instants (timers).

Three targets, each counted in business time of the case's calendar:

* ``first_response``: from creation to the first response.
* ``next_response``: from a message of the customer (after the first response) to the next
  response; each such wait is a cycle (1, 2, ...).
* ``resolution``: from creation to resolution; a reopened case goes on counting from
  where it stopped (the same cycle, 0).

Every running clock pauses while the case is ``pending_customer`` (the wait is the
customer's) and goes on when it leaves that state. A clock reaching ``warn_fraction`` of its
target has its warning due; reaching the target, its breach. A response exactly at the due
instant is on time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from app.cases.core.calendar import ZERO, WorkCalendar, add_business, business_time


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class Fact(StrEnum):
    CREATED = "created"
    RESPONDED = "responded"
    CUSTOMER_WROTE = "customer_wrote"
    PAUSED = "paused"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


Level = Literal["warning", "breach"]
LEVELS: tuple[Level, ...] = ("warning", "breach")


@dataclass(frozen=True, slots=True)
class ClockFact:
    kind: Fact
    at: datetime


@dataclass(frozen=True, slots=True)
class Targets:
    """Business time allowed per target; None: the policy sets no such target."""

    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    warn_fraction: float = 0.8

    def of(self, target: Target) -> timedelta | None:
        allowed: timedelta | None = getattr(self, target.value)
        return allowed


@dataclass(frozen=True, slots=True)
class Timer:
    """The instant a clock reaches a level (past for a stopped clock, projected for a
    running one)."""

    target: Target
    cycle: int
    level: Level
    due_at: datetime


@dataclass(frozen=True, slots=True)
class ClockStatus:
    target: Target
    cycle: int
    state: Literal["running", "paused", "stopped"]
    started_at: datetime
    stopped_at: datetime | None
    allowed: timedelta
    elapsed: timedelta
    due_at: datetime | None  # None: paused or stopped before reaching the target
    warn_at: datetime | None
    breached: bool
    warned: bool

    @property
    def fraction(self) -> float:
        return self.elapsed / self.allowed

    @property
    def remaining(self) -> timedelta:
        return max(self.allowed - self.elapsed, ZERO)


@dataclass(frozen=True, slots=True)
class SlaStatus:
    clocks: tuple[ClockStatus, ...]
    timers: tuple[Timer, ...]

    def latest(self, target: Target) -> ClockStatus | None:
        found = [c for c in self.clocks if c.target is target]
        return found[-1] if found else None

    def breached(self, target: Target | None = None) -> bool:
        return any(c.breached for c in self.clocks if target is None or c.target is target)

    def due(self, now: datetime) -> list[Timer]:
        """The warnings and breaches whose instant has come."""
        return [t for t in self.timers if t.due_at <= now]


@dataclass(slots=True)
class _Cycle:
    target: Target
    cycle: int
    started_at: datetime
    intervals: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return bool(self.intervals) and self.intervals[-1][1] is None

    def pause(self, at: datetime) -> None:
        if self.running:
            self.intervals[-1] = (self.intervals[-1][0], at)

    def resume(self, at: datetime) -> None:
        if not self.running:
            self.intervals.append((at, None))


class _Replay:
    """Facts applied in order to the cycles of every target the policy sets."""

    def __init__(self, targets: Targets) -> None:
        self.targets = targets
        self.cycles: list[_Cycle] = []
        self.active: dict[Target, _Cycle] = {}
        self.paused = False
        self.closed = False

    def start(self, target: Target, at: datetime, cycle: int) -> None:
        if self.targets.of(target) is None:
            return
        started = _Cycle(target, cycle, at)
        if not self.paused:
            started.resume(at)
        self.cycles.append(started)
        self.active[target] = started

    def stop(self, target: Target, at: datetime, *, final: bool = True) -> None:
        cycle = self.active.get(target)
        if cycle is None:
            return
        cycle.pause(at)
        cycle.stopped_at = at
        if final:
            del self.active[target]

    def apply(self, fact: ClockFact) -> None:
        if self.closed:
            return
        handler = getattr(self, f"_on_{fact.kind.value}")
        handler(fact.at)

    def _on_created(self, at: datetime) -> None:
        if self.cycles:  # a case is created once
            return
        self.start(Target.FIRST_RESPONSE, at, 0)
        self.start(Target.RESOLUTION, at, 0)

    def _on_responded(self, at: datetime) -> None:
        self.stop(Target.FIRST_RESPONSE, at)
        self.stop(Target.NEXT_RESPONSE, at)

    def _on_customer_wrote(self, at: datetime) -> None:
        if Target.FIRST_RESPONSE in self.active or Target.NEXT_RESPONSE in self.active:
            return
        done = [c.cycle for c in self.cycles if c.target is Target.NEXT_RESPONSE]
        self.start(Target.NEXT_RESPONSE, at, max(done, default=0) + 1)

    def _on_paused(self, at: datetime) -> None:
        self.paused = True
        for cycle in self.active.values():
            cycle.pause(at)

    def _on_resumed(self, at: datetime) -> None:
        self.paused = False
        for cycle in self.active.values():
            if cycle.stopped_at is None:
                cycle.resume(at)

    def _on_resolved(self, at: datetime) -> None:
        self._on_responded(at)
        self.stop(Target.RESOLUTION, at, final=False)  # a reopening goes on counting

    def _on_reopened(self, at: datetime) -> None:
        cycle = self.active.get(Target.RESOLUTION)
        if cycle is not None:
            cycle.stopped_at = None
            if not self.paused:
                cycle.resume(at)

    def _on_closed(self, at: datetime) -> None:
        for target in list(self.active):
            self.stop(target, at)
        self.closed = True


def _crossing(
    calendar: WorkCalendar, cycle: _Cycle, amount: timedelta, now: datetime
) -> datetime | None:
    """When the cycle's business time exceeds ``amount``: an instant inside a past
    interval, a projected one in the running interval, or None."""
    counted = ZERO
    for start, end in cycle.intervals:
        if end is None:
            return add_business(calendar, start, amount - counted)
        length = business_time(calendar, start, end)
        if counted + length > amount:
            return add_business(calendar, start, amount - counted)
        counted += length
    return None


def _status(
    calendar: WorkCalendar, cycle: _Cycle, allowed: timedelta, warn: float, now: datetime
) -> tuple[ClockStatus, list[Timer]]:
    elapsed = sum(
        (business_time(calendar, a, now if b is None else min(b, now)) for a, b in cycle.intervals),
        ZERO,
    )
    due_at = _crossing(calendar, cycle, allowed, now)
    warn_at = _crossing(calendar, cycle, allowed * warn, now)
    state: Literal["running", "paused", "stopped"] = (
        "running" if cycle.running else "stopped" if cycle.stopped_at is not None else "paused"
    )
    status = ClockStatus(
        target=cycle.target,
        cycle=cycle.cycle,
        state=state,
        started_at=cycle.started_at,
        stopped_at=cycle.stopped_at,
        allowed=allowed,
        elapsed=elapsed,
        due_at=due_at,
        warn_at=warn_at,
        breached=due_at is not None and due_at <= now,
        warned=warn_at is not None and warn_at <= now,
    )
    timers = []
    if warn_at is not None:
        timers.append(Timer(cycle.target, cycle.cycle, "warning", warn_at))
    if due_at is not None:
        timers.append(Timer(cycle.target, cycle.cycle, "breach", due_at))
    return status, timers


def sla_status(
    targets: Targets, calendar: WorkCalendar, facts: Sequence[ClockFact], now: datetime
) -> SlaStatus:
    """Replay ``facts`` (in order; facts after ``now`` are ignored) and measure every
    cycle at ``now``."""
    replay = _Replay(targets)
    for fact in facts:
        if fact.at <= now:
            replay.apply(fact)
    clocks: list[ClockStatus] = []
    timers: list[Timer] = []
    for cycle in replay.cycles:
        allowed = targets.of(cycle.target)
        assert allowed is not None  # cycles start only for targets the policy sets
        status, found = _status(calendar, cycle, allowed, targets.warn_fraction, now)
        clocks.append(status)
        timers.extend(found)
    return SlaStatus(tuple(clocks), tuple(timers))
