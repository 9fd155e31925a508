"""Segments: named rules over a customer's facts, evaluated by pure code.

A rule is a tree of conditions. A leaf compares one fact (``grade in [P, G]``,
``days_since_last_sale >= 120``, ``tags contains wholesale``); ``all``, ``any`` and ``not``
combine them. A fact that is unknown (no sale yet, so no days since the last one) makes
every comparison on it false, so "no order for 120 days" never takes in a prospect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, reduce
from operator import attrgetter
from typing import Literal, get_args

Scalar = str | int | float | bool
Fact = Literal[
    "grade",
    "status",
    "vip",
    "value_class",
    "r",
    "f",
    "m",
    "score",
    "sales",
    "days_since_last_sale",
    "days_since_last_contact",
    "open_cases",
    "language",
    "region",
    "tags",
]
FACTS: tuple[str, ...] = get_args(Fact)
Op = Literal["eq", "ne", "in", "gte", "lte", "contains"]


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What a segment rule may look at."""

    grade: str | None
    status: str
    vip: bool
    value_class: str
    r: int | None
    f: int | None
    m: int | None
    score: int | None
    sales: int
    days_since_last_sale: int | None
    days_since_last_contact: int | None
    open_cases: int  # cases not resolved or closed (app.cases)
    language: str | None
    region: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    fact: Fact
    op: Op
    value: Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition


Condition = Compare | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    when: Condition
    description: str = ""


def _compare(have: object, op: Op, want: Scalar | tuple[Scalar, ...]) -> bool:
    if have is None:
        return False
    if op == "contains":
        return isinstance(have, tuple) and want in have
    if isinstance(have, tuple):  # tags compared as a whole: only eq / ne / in make sense
        have = ",".join(have)
    if op == "eq":
        return have == want
    if op == "ne":
        return have != want
    if op == "in":
        return isinstance(want, tuple) and have in want
    if not isinstance(have, int | float) or not isinstance(want, int | float):
        return False
    return have >= want if op == "gte" else have <= want


Predicate = Callable[[CustomerFacts], bool]


@lru_cache(maxsize=1024)
def compile_condition(condition: Condition) -> Predicate:
    """The condition as a function of the facts, built once per rule (a full evaluation
    asks every segment of every customer)."""
    match condition:
        case Compare(fact=fact, op=op, value=value):
            return _compile_compare(attrgetter(fact), op, value)
        case AllOf(parts=parts):
            return reduce(_both, (compile_condition(part) for part in parts))
        case AnyOf(parts=parts):
            return reduce(_either, (compile_condition(part) for part in parts))
        case Not(part=part):
            check = compile_condition(part)
            return lambda facts: not check(facts)
    raise TypeError(f"not a condition: {condition!r}")  # pragma: no cover


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda facts: first(facts) and second(facts)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda facts: first(facts) or second(facts)


def _compile_compare(
    read: Callable[[CustomerFacts], object], op: Op, want: Scalar | tuple[Scalar, ...]
) -> Predicate:
    """The common comparisons specialised (a set for ``in``, no dispatch per call); the
    rest through ``_compare``. Same results: an unknown fact compares false."""
    if op == "in" and isinstance(want, tuple) and all(isinstance(w, str) for w in want):
        allowed = frozenset(want)
        return lambda facts: (have := read(facts)) is not None and have in allowed
    if op in ("gte", "lte") and isinstance(want, int | float) and not isinstance(want, bool):
        if op == "gte":
            return lambda facts: isinstance(have := read(facts), int) and have >= want
        return lambda facts: isinstance(have := read(facts), int) and have <= want
    return lambda facts: _compare(read(facts), op, want)


def matches(condition: Condition, facts: CustomerFacts) -> bool:
    return compile_condition(condition)(facts)


class SegmentMatcher:
    """The segments' rules compiled once, asked for customer after customer."""

    __slots__ = ("_rules",)

    def __init__(self, segments: Sequence[Segment]) -> None:
        self._rules = tuple((s.name, compile_condition(s.when)) for s in segments)

    def __call__(self, facts: CustomerFacts) -> tuple[str, ...]:
        """The names of the segments the customer belongs to, in the rules' order."""
        found = [name for name, check in self._rules if check(facts)]
        return tuple(found) if found else ()


def segments_of(facts: CustomerFacts, segments: Sequence[Segment]) -> tuple[str, ...]:
    """The names of the segments the customer belongs to, in the rules' order."""
    return SegmentMatcher(segments)(facts)
