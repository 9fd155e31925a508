"""Queueing formulas for contact-centre staffing: Erlang B, Erlang C and Erlang A.

All functions are pure and work for thousands of agents and hundreds of Erlangs: Erlang B
comes from its stable recursion (never from factorials), Erlang C from Erlang B, and
Erlang A from the M/M/n+M birth-death chain evaluated in log space.

Units: times in seconds, traffic in Erlangs (arrival rate x average handle time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Tail states of the Erlang A chain are summed until the rest weighs less than this
# fraction of the largest state: far below anything a staffing figure can show.
_NEGLIGIBLE_LOG = math.log(1e-18)
_MAX_QUEUE_STATES = 10_000_000


@dataclass(frozen=True, slots=True)
class StaffingResult:
    agents: int  # agents answering contacts, before shrinkage
    agents_with_shrinkage: int  # agents to schedule: ceil(agents / (1 - shrinkage))
    traffic_erlangs: float
    service_level: float
    asa_seconds: float
    occupancy: float
    p_wait: float
    p_abandon: float = 0.0  # only with patience (Erlang A); Erlang C assumes nobody leaves


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    agents: int
    traffic_erlangs: float
    p_wait: float  # an arrival finds every agent busy
    p_abandon: float  # an arrival hangs up before being answered
    service_level: float  # answered within the target, as a fraction of ALL arrivals
    asa_seconds: float  # mean wait of answered contacts, zero waits included
    occupancy: float  # carried traffic / agents


# ------------------------------------------------------------------------ validation


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_load(agents: int, traffic_erlangs: float, min_agents: int = 1) -> None:
    _require(agents >= min_agents, f"agents must be >= {min_agents}, got {agents}")
    _require(
        math.isfinite(traffic_erlangs) and traffic_erlangs >= 0,
        f"traffic_erlangs must be finite and >= 0, got {traffic_erlangs}",
    )


def _check_positive(name: str, value: float) -> None:
    _require(math.isfinite(value) and value > 0, f"{name} must be finite and > 0, got {value}")


def _check_non_negative(name: str, value: float) -> None:
    _require(math.isfinite(value) and value >= 0, f"{name} must be finite and >= 0, got {value}")


# -------------------------------------------------------------------- Erlang B and C


def _erlang_b_series(traffic_erlangs: float) -> Iterator[tuple[int, float]]:
    """Yield (n, B(n, A)) for n = 0, 1, 2, ... using B(n) = A B(n-1) / (n + A B(n-1))."""
    blocking = 1.0
    agents = 0
    while True:
        yield agents, blocking
        agents += 1
        blocking = traffic_erlangs * blocking / (agents + traffic_erlangs * blocking)


def erlang_b(agents: int, traffic_erlangs: float) -> float:
    """Probability that a contact is blocked when ``agents`` serve without a queue."""
    _check_load(agents, traffic_erlangs, min_agents=0)
    for n, blocking in _erlang_b_series(traffic_erlangs):
        if n == agents:
            return blocking
    raise AssertionError("unreachable")  # pragma: no cover


def _erlang_c_from_b(agents: int, traffic_erlangs: float, blocking: float) -> float:
    if agents <= traffic_erlangs:
        return 1.0
    return agents * blocking / (agents - traffic_erlangs * (1.0 - blocking))


def erlang_c(agents: int, traffic_erlangs: float) -> float:
    """Probability that a contact has to wait; 1.0 when the queue cannot be stable."""
    return _erlang_c_from_b(agents, traffic_erlangs, erlang_b(agents, traffic_erlangs))


def _service_level_from_c(
    agents: int, traffic_erlangs: float, p_wait: float, aht_seconds: float, target_seconds: float
) -> float:
    if agents <= traffic_erlangs:
        return 0.0
    decay = math.exp(-(agents - traffic_erlangs) * target_seconds / aht_seconds)
    return 1.0 - p_wait * decay


def _asa_from_c(agents: int, traffic_erlangs: float, p_wait: float, aht_seconds: float) -> float:
    if agents <= traffic_erlangs:
        return math.inf
    return p_wait * aht_seconds / (agents - traffic_erlangs)


def service_level(
    agents: int, traffic_erlangs: float, aht_seconds: float, target_seconds: float
) -> float:
    """Fraction of contacts answered within ``target_seconds`` (Erlang C)."""
    _check_positive("aht_seconds", aht_seconds)
    _check_non_negative("target_seconds", target_seconds)
    p_wait = erlang_c(agents, traffic_erlangs)
    return _service_level_from_c(agents, traffic_erlangs, p_wait, aht_seconds, target_seconds)


def average_speed_of_answer(agents: int, traffic_erlangs: float, aht_seconds: float) -> float:
    """Mean wait over all contacts (Erlang C); infinite when agents <= traffic."""
    _check_positive("aht_seconds", aht_seconds)
    return _asa_from_c(agents, traffic_erlangs, erlang_c(agents, traffic_erlangs), aht_seconds)


def occupancy(agents: int, traffic_erlangs: float) -> float:
    """Fraction of agent time spent on contacts; capped at 1.0 for an overloaded queue."""
    _check_load(agents, traffic_erlangs)
    return min(1.0, traffic_erlangs / agents)


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True, slots=True)
class _ChainWeights:
    """Unnormalised log-probabilities of the M/M/n+M chain.

    ``log_below[k]`` is state k < n (someone answers at once); ``log_queue[j]`` is state
    n + j, where an arrival joins the queue at position j + 1.
    """

    log_below: list[float]
    log_queue: list[float]

    def normaliser(self) -> tuple[float, float]:
        """(largest log weight, sum of weights scaled by exp(-largest))."""
        peak = max(max(self.log_below, default=-math.inf), max(self.log_queue))
        total = math.fsum(math.exp(w - peak) for w in self.log_below)
        total += math.fsum(math.exp(w - peak) for w in self.log_queue)
        return peak, total


def _chain_weights(
    agents: int, traffic: float, service_rate: float, abandon_rate: float
) -> _ChainWeights:
    log_traffic = math.log(traffic)
    log_below = [k * log_traffic - math.lgamma(k + 1) for k in range(agents)]
    log_queue = [agents * log_traffic - math.lgamma(agents + 1)]
    arrival_rate = traffic * service_rate
    capacity = agents * service_rate
    peak = max(max(log_below, default=-math.inf), log_queue[0])
    queued = 0
    while queued < _MAX_QUEUE_STATES:
        queued += 1
        ratio = arrival_rate / (capacity + queued * abandon_rate)
        weight = log_queue[-1] + math.log(ratio)
        log_queue.append(weight)
        peak = max(peak, weight)
        if ratio < 1.0 and weight - math.log1p(-ratio) < peak + _NEGLIGIBLE_LOG:
            return _ChainWeights(log_below, log_queue)
    raise ValueError("Erlang A chain too long: patience is too long for this overload")


def _answered_within_target(
    positions: int, answer_rate: float, abandon_rate: float, target_seconds: float
) -> list[float]:
    """P(wait <= T | answered) for a contact joining the queue at position 1..positions.

    At position i the contact leaves that position at rate n*mu + i*theta, whatever happens
    next, so its wait if answered is a sum of exponentials with equally spaced rates. Its
    distribution function works out to the upper tail of a negative binomial with
    r = n*mu/theta + 1 and p = exp(-theta*T): P(NB >= j).
    """
    if target_seconds <= 0:
        return [0.0] * positions
    log_step_base = math.log(-math.expm1(-abandon_rate * target_seconds))
    ratio_b = answer_rate / abandon_rate
    log_pmf = -(answer_rate + abandon_rate) * target_seconds  # log P(NB = 0) = r log p
    cdf = 0.0
    tails: list[float] = []
    for m in range(positions):
        if m > 0:
            log_pmf += log_step_base + math.log((ratio_b + m) / m)
        cdf += math.exp(log_pmf)
        tails.append(max(0.0, 1.0 - cdf))
    return tails


def erlang_a(
    agents: int,
    arrival_rate_per_second: float,
    aht_seconds: float,
    patience_seconds: float,
    target_seconds: float,
) -> ErlangAResult:
    """Erlang A (M/M/n+M): Poisson arrivals, exponential handling and exponential patience.

    Exact up to truncating queue states whose total probability is below 1e-18 of the
    largest. ``patience_seconds`` = ``math.inf`` falls back to Erlang C.
    """
    _require(agents >= 1, f"agents must be >= 1, got {agents}")
    _check_non_negative("arrival_rate_per_second", arrival_rate_per_second)
    _check_positive("aht_seconds", aht_seconds)
    _check_non_negative("target_seconds", target_seconds)
    _require(patience_seconds > 0, f"patience_seconds must be > 0, got {patience_seconds}")
    traffic = arrival_rate_per_second * aht_seconds
    if math.isinf(patience_seconds):
        return _erlang_c_as_a(agents, traffic, aht_seconds, target_seconds)
    if traffic == 0:
        return ErlangAResult(agents, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return _erlang_a_chain(
        agents, traffic, 1.0 / aht_seconds, 1.0 / patience_seconds, target_seconds
    )


def _erlang_c_as_a(
    agents: int, traffic: float, aht_seconds: float, target_seconds: float
) -> ErlangAResult:
    p_wait = erlang_c(agents, traffic)
    return ErlangAResult(
        agents=agents,
        traffic_erlangs=traffic,
        p_wait=p_wait,
        p_abandon=0.0,
        service_level=_service_level_from_c(agents, traffic, p_wait, aht_seconds, target_seconds),
        asa_seconds=_asa_from_c(agents, traffic, p_wait, aht_seconds),
        occupancy=min(1.0, traffic / agents),
    )


def _erlang_a_chain(
    agents: int, traffic: float, service_rate: float, abandon_rate: float, target_seconds: float
) -> ErlangAResult:
    weights = _chain_weights(agents, traffic, service_rate, abandon_rate)
    peak, total = weights.normaliser()
    answer_rate = agents * service_rate
    ratio_b = answer_rate / abandon_rate
    within = _answered_within_target(
        len(weights.log_queue), answer_rate, abandon_rate, target_seconds
    )
    p_wait = p_abandon = answered_in_time = answered_wait = 0.0
    mean_wait_if_answered = 0.0
    for j, log_weight in enumerate(weights.log_queue):
        position = j + 1
        probability = math.exp(log_weight - peak) / total
        p_answered = ratio_b / (ratio_b + position)  # telescoping product of "moved up"
        mean_wait_if_answered += 1.0 / (answer_rate + position * abandon_rate)
        p_wait += probability
        p_abandon += probability * (1.0 - p_answered)
        answered_in_time += probability * p_answered * within[j]
        answered_wait += probability * p_answered * mean_wait_if_answered
    p_answered_total = 1.0 - p_abandon
    return ErlangAResult(
        agents=agents,
        traffic_erlangs=traffic,
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=(1.0 - p_wait) + answered_in_time,
        asa_seconds=answered_wait / p_answered_total if p_answered_total > 0 else math.inf,
        occupancy=traffic * p_answered_total / agents,
    )


# ------------------------------------------------------------------------ staffing


def _check_staffing_targets(
    target_service_level: float, target_seconds: float, shrinkage: float, max_occupancy: float
) -> None:
    _require(
        0 < target_service_level < 1,
        f"target_service_level must be in (0, 1), got {target_service_level}",
    )
    _check_non_negative("target_seconds", target_seconds)
    _require(0 <= shrinkage < 1, f"shrinkage must be in [0, 1), got {shrinkage}")
    _require(0 < max_occupancy <= 1, f"max_occupancy must be in (0, 1], got {max_occupancy}")


def _with_shrinkage(agents: int, shrinkage: float) -> int:
    # round() first so 14 / 0.7 = 20.000000000000004 does not become 21
    return math.ceil(round(agents / (1.0 - shrinkage), 9))


def agents_needed(
    arrival_rate_per_hour: float,
    aht_seconds: float,
    target_service_level: float,
    target_seconds: float,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    patience_seconds: float | None = None,
) -> StaffingResult:
    """Fewest agents meeting the service level target and the occupancy cap.

    Erlang C by default; Erlang A when ``patience_seconds`` is given. No arrivals need no
    agents.
    """
    _check_non_negative("arrival_rate_per_hour", arrival_rate_per_hour)
    _check_positive("aht_seconds", aht_seconds)
    _check_staffing_targets(target_service_level, target_seconds, shrinkage, max_occupancy)
    traffic = arrival_rate_per_hour * aht_seconds / 3600.0
    if traffic == 0:
        return StaffingResult(0, 0, 0.0, 1.0, 0.0, 0.0, 0.0)
    if patience_seconds is None:
        raw = _erlang_c_staffing(
            traffic, aht_seconds, target_service_level, target_seconds, max_occupancy
        )
    else:
        raw = _erlang_a_staffing(
            arrival_rate_per_hour / 3600.0,
            aht_seconds,
            patience_seconds,
            target_service_level,
            target_seconds,
            max_occupancy,
        )
    return StaffingResult(
        agents=raw.agents,
        agents_with_shrinkage=_with_shrinkage(raw.agents, shrinkage),
        traffic_erlangs=traffic,
        service_level=raw.service_level,
        asa_seconds=raw.asa_seconds,
        occupancy=raw.occupancy,
        p_wait=raw.p_wait,
        p_abandon=raw.p_abandon,
    )


def _erlang_c_staffing(
    traffic: float,
    aht_seconds: float,
    target_service_level: float,
    target_seconds: float,
    max_occupancy: float,
) -> ErlangAResult:
    """Walk n = floor(A)+1, ... carrying Erlang B along, so the search is O(answer)."""
    minimum = max(math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    for n, blocking in _erlang_b_series(traffic):
        if n < minimum:
            continue
        p_wait = _erlang_c_from_b(n, traffic, blocking)
        level = _service_level_from_c(n, traffic, p_wait, aht_seconds, target_seconds)
        if level >= target_service_level:
            return ErlangAResult(
                agents=n,
                traffic_erlangs=traffic,
                p_wait=p_wait,
                p_abandon=0.0,
                service_level=level,
                asa_seconds=_asa_from_c(n, traffic, p_wait, aht_seconds),
                occupancy=traffic / n,
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _erlang_a_staffing(
    arrival_rate_per_second: float,
    aht_seconds: float,
    patience_seconds: float,
    target_service_level: float,
    target_seconds: float,
    max_occupancy: float,
) -> ErlangAResult:
    def evaluate(n: int) -> ErlangAResult:
        return erlang_a(n, arrival_rate_per_second, aht_seconds, patience_seconds, target_seconds)

    def good_enough(result: ErlangAResult) -> bool:
        return result.service_level >= target_service_level and result.occupancy <= max_occupancy

    return _smallest_satisfying(evaluate, good_enough)


def _smallest_satisfying(
    evaluate: Callable[[int], ErlangAResult], good_enough: Callable[[ErlangAResult], bool]
) -> ErlangAResult:
    """Doubling then bisection on n >= 1; relies on the criteria improving with n."""
    high = 1
    while not good_enough(evaluate(high)):
        high *= 2
    low = high // 2  # fails (or is 0)
    while high - low > 1:
        middle = (low + high) // 2
        if good_enough(evaluate(middle)):
            high = middle
        else:
            low = middle
    return evaluate(high)
