"""Erlang B, C and A against independent computations and published examples.

Independent methods used here, none of them sharing code with app.staffing.erlang:

* Erlang C straight from its textbook definition with exact rational arithmetic
  (``fractions.Fraction`` and ``math.factorial``), fine for moderate N;
* Erlang A from the M/M/n+M chain written out with plain products, and its service level
  from the transient behaviour of one waiting contact, computed by uniformisation.

Published references (each hard-coded number below is also reproduced by the exact
computation in the same test, so a mistyped reference cannot hide a bug):

1. Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
   (callcentrehelper.com): 100 calls per 30 minutes, AHT 180 s, 80% in 20 s, 30%
   shrinkage -> traffic 10 Erlangs; with N = 11 the probability of waiting is 68.21%;
   the answer is 14 agents (service level 88.8%, occupancy 71.4%), 20 with shrinkage.
2. The step-by-step "Erlang-C formula" example widely reproduced from Mitan Ltd's
   "Erlang-C calculations" page: 360 calls per half hour, calls of 4 minutes, 55 agents,
   15 s target -> 48 Erlangs, occupancy 87.3%.
3. Erlang B tables in Peter Dordal's course notes, Loyola University Chicago,
   https://pld.cs.luc.edu/courses/346/sum15/mnotes/erlang.html (taken there from the
   erlang.com calculator): lines needed for 1% and 0.1% blocking.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from app.staffing import (
    agents_needed,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
)

# ------------------------------------------------------------ independent references


def exact_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """P(wait) = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))."""
    top = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    below = sum(traffic**k / math.factorial(k) for k in range(agents))
    return top / (below + top)


def exact_erlang_b(agents: int, traffic: Fraction) -> Fraction:
    top = traffic**agents / math.factorial(agents)
    return top / sum(traffic**k / math.factorial(k) for k in range(agents + 1))


def exact_service_level(agents: int, traffic: Fraction, aht: float, target: float) -> float:
    p_wait = float(exact_erlang_c(agents, traffic))
    return 1.0 - p_wait * math.exp(-(agents - float(traffic)) * target / aht)


def lines_for_blocking(traffic: float, blocking: float) -> int:
    agents = 0
    while erlang_b(agents, traffic) > blocking:
        agents += 1
    return agents


# ------------------------------------------------------------------- Erlang B and C


@pytest.mark.parametrize(
    ("agents", "traffic"),
    [
        (1, Fraction(1, 2)),
        (5, Fraction(2)),
        (11, Fraction(10)),
        (14, Fraction(10)),
        (55, Fraction(48)),
        (60, Fraction(579, 10)),
    ],
)
def test_erlang_b_and_c_match_the_exact_formulas(agents: int, traffic: Fraction) -> None:
    assert erlang_b(agents, float(traffic)) == pytest.approx(
        float(exact_erlang_b(agents, traffic)), rel=1e-12
    )
    assert erlang_c(agents, float(traffic)) == pytest.approx(
        float(exact_erlang_c(agents, traffic)), rel=1e-12
    )


def test_erlang_b_edge_values() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_callcentrehelper_worked_example() -> None:
    """Reference 1: 100 calls / 30 min, AHT 180 s, 80/20, 30% shrinkage."""
    arrivals_per_hour = 100 * 2
    traffic = arrivals_per_hour * 180 / 3600
    assert traffic == 10.0

    # "N = 11 ... probability a call waits = 68.21%"
    assert float(exact_erlang_c(11, Fraction(10))) == pytest.approx(0.6821, abs=5e-5)
    assert erlang_c(11, traffic) == pytest.approx(0.6821, abs=5e-5)

    result = agents_needed(arrivals_per_hour, 180, 0.80, 20, shrinkage=0.30, max_occupancy=0.85)
    assert result.agents == 14
    assert result.agents_with_shrinkage == 20
    assert result.traffic_erlangs == 10.0
    assert result.service_level == pytest.approx(0.888, abs=5e-4)
    assert result.occupancy == pytest.approx(0.714, abs=5e-4)
    assert result.service_level == pytest.approx(
        exact_service_level(14, Fraction(10), 180, 20), rel=1e-12
    )
    # 13 agents miss the target, by the exact formula too
    assert exact_service_level(13, Fraction(10), 180, 20) < 0.80


def test_classic_48_erlang_example() -> None:
    """360 calls per 30 minutes (720/hour) of 240 s each: 720 * 240 / 3600 = 48 Erlangs.

    Reference 2 uses these inputs with 55 agents and a 15 s target; the brief's variant
    asks 80% in 20 s. Every expected figure is the exact rational computation.
    """
    traffic = 720 * 240 / 3600
    assert traffic == 48.0
    exact_c55 = float(exact_erlang_c(55, Fraction(48)))
    assert exact_c55 == pytest.approx(0.238701, abs=1e-6)
    assert erlang_c(55, traffic) == pytest.approx(exact_c55, rel=1e-12)
    assert occupancy(55, traffic) == pytest.approx(0.873, abs=5e-4)  # reference 2: 87.3%
    assert service_level(55, traffic, 240, 15) == pytest.approx(
        exact_service_level(55, Fraction(48), 240, 15), rel=1e-12
    )
    assert average_speed_of_answer(55, traffic, 240) == pytest.approx(
        exact_c55 * 240 / 7, rel=1e-12
    )

    result = agents_needed(720, 240, 0.80, 20)
    exact_needed = next(
        n for n in range(49, 100) if exact_service_level(n, Fraction(48), 240, 20) >= 0.80
    )
    assert exact_needed == 54
    assert result.agents == 54
    assert result.service_level == pytest.approx(0.817248, abs=1e-6)
    assert result.asa_seconds == pytest.approx(12.0523, abs=1e-4)
    assert result.p_wait == pytest.approx(0.301308, abs=1e-6)
    assert result.occupancy == pytest.approx(48 / 54)


@pytest.mark.parametrize(
    ("traffic", "blocking", "lines"),
    [
        (10, 0.01, 18),
        (20, 0.01, 30),
        (50, 0.01, 64),
        (180, 0.01, 201),
        (200, 0.01, 221),
        (1000, 0.01, 1029),
        (10, 0.001, 21),
        (20, 0.001, 35),
        (50, 0.001, 71),
        (100, 0.001, 128),
        (180, 0.001, 216),
    ],
)
def test_erlang_b_lines_table(traffic: float, blocking: float, lines: int) -> None:
    """Reference 3. Its rows 100/1%, 500/1%, 200/0.1%, 500/0.1% and 1000/0.1% are off by
    one line against the exact recursion (e.g. it gives 118 lines for 100 Erlangs at 1%,
    yet B(117, 100) = 0.00979 < 1%), so they are left out."""
    assert lines_for_blocking(traffic, blocking) == lines


def test_overloaded_queue() -> None:
    assert erlang_c(8, 8.0) == 1.0
    assert erlang_c(5, 9.5) == 1.0
    assert service_level(8, 8.0, 300, 20) == 0.0
    assert average_speed_of_answer(8, 9.0, 300) == math.inf
    assert occupancy(8, 9.0) == 1.0


def test_more_agents_means_better_service() -> None:
    traffic, aht, target = 48.0, 240.0, 20.0
    levels = [service_level(n, traffic, aht, target) for n in range(49, 80)]
    speeds = [average_speed_of_answer(n, traffic, aht) for n in range(49, 80)]
    waits = [erlang_c(n, traffic) for n in range(49, 80)]
    assert all(a < b for a, b in itertools.pairwise(levels))
    assert all(a > b for a, b in itertools.pairwise(speeds))
    assert waits == sorted(waits, reverse=True)


def test_large_inputs_do_not_overflow() -> None:
    # 2000 agents: a factorial route would overflow floats (2000! ~ 1e5735)
    assert 0.0 < erlang_c(2000, 1950.0) < 1.0
    assert erlang_c(2000, 1999.5) < 1.0
    assert erlang_b(2000, 100.0) == 0.0  # underflows gracefully to 0
    assert erlang_c(2000, 100.0) == 0.0
    assert 0.0 < service_level(2000, 1950.0, 300, 20) < 1.0
    result = agents_needed(1950 * 12, 300, 0.8, 20)  # 1950 Erlangs
    assert 1950 < result.agents < 2010
    assert result.service_level >= 0.8
    assert service_level(result.agents - 1, 1950.0, 300, 20) < 0.8


def test_large_erlang_c_against_exact_arithmetic() -> None:
    """Exact rationals stay feasible at a few hundred agents."""
    exact = float(exact_erlang_c(320, Fraction(300)))
    assert erlang_c(320, 300.0) == pytest.approx(exact, rel=1e-10)


def test_staffing_constraints() -> None:
    capped = agents_needed(720, 240, 0.5, 20, max_occupancy=0.80)
    assert capped.agents == 60  # 48 / 0.8, more than the service level alone needs
    assert capped.occupancy <= 0.80
    assert agents_needed(0, 240, 0.8, 20).agents == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_service_level": 1.0},
        {"target_service_level": 0.0},
        {"shrinkage": 1.0},
        {"max_occupancy": 0.0},
        {"aht_seconds": 0.0},
        {"arrival_rate_per_hour": -1.0},
        {"target_seconds": -1.0},
    ],
)
def test_staffing_rejects_bad_input(kwargs: dict[str, float]) -> None:
    arguments: dict[str, float] = {
        "arrival_rate_per_hour": 720.0,
        "aht_seconds": 240.0,
        "target_service_level": 0.8,
        "target_seconds": 20.0,
    } | kwargs
    with pytest.raises(ValueError, match="must be"):
        agents_needed(**arguments)


def test_formulas_reject_bad_input() -> None:
    assert erlang_c(0, 1.0) == 1.0  # no agents: everybody waits
    with pytest.raises(ValueError, match="agents"):
        occupancy(0, 1.0)
    with pytest.raises(ValueError, match="agents"):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError, match="traffic"):
        erlang_b(3, -1.0)
    with pytest.raises(ValueError, match="traffic"):
        erlang_b(3, math.nan)
    with pytest.raises(ValueError, match="patience"):
        erlang_a(3, 0.01, 100, 0, 20)


# ------------------------------------------------------------------------- Erlang A


def chain_probabilities(
    agents: int, arrival: float, service: float, abandon: float, states: int
) -> list[float]:
    """Stationary law of M/M/n+M by the plain product formula, truncated at ``states``."""
    weights = [1.0]
    for k in range(1, states):
        death = service * min(k, agents) + abandon * max(k - agents, 0)
        weights.append(weights[-1] * arrival / death)
    total = math.fsum(weights)
    return [w / total for w in weights]


def answered_within(
    position: int, agents: int, service: float, abandon: float, target: float
) -> float:
    """P(answered by ``target``) for a contact joining at ``position``, by uniformisation.

    Transient states are positions 1..position; at position i the queue moves up at rate
    n*mu + (i-1)*theta (at position 1 that move is the answer) and the contact itself
    leaves at rate theta.
    """
    rate = agents * service + position * abandon
    steps_needed = int(rate * target + 12 * math.sqrt(rate * target + 1) + 30)
    mass = [0.0] * (position + 1)  # index 0 = answered (absorbing)
    mass[position] = 1.0
    poisson = math.exp(-rate * target)
    answered = 0.0
    for step in range(steps_needed + 1):
        answered += poisson * mass[0]
        moved = [0.0] * (position + 1)
        moved[0] = mass[0]
        for i in range(1, position + 1):
            move_up = agents * service + (i - 1) * abandon
            out = move_up + abandon
            moved[i - 1] += mass[i] * move_up / rate
            moved[i] += mass[i] * (1.0 - out / rate)
        mass = moved
        poisson *= rate * target / (step + 1)
    return answered


def reference_erlang_a(
    agents: int, arrival: float, aht: float, patience: float, target: float
) -> tuple[float, float, float]:
    """(p_wait, p_abandon, service level over all arrivals)."""
    service, abandon = 1.0 / aht, 1.0 / patience
    probabilities = chain_probabilities(agents, arrival, service, abandon, agents + 120)
    p_wait = math.fsum(probabilities[agents:])
    abandon_flow = math.fsum(
        (k - agents) * abandon * p for k, p in enumerate(probabilities) if k > agents
    )
    within = math.fsum(
        p * answered_within(k - agents + 1, agents, service, abandon, target)
        for k, p in enumerate(probabilities)
        if k >= agents and p > 1e-15
    )
    return p_wait, abandon_flow / arrival, (1.0 - p_wait) + within


@pytest.mark.parametrize(
    ("agents", "arrivals_per_hour", "aht", "patience", "target"),
    [
        (3, 30.0, 300.0, 180.0, 20.0),
        (5, 80.0, 240.0, 60.0, 30.0),
        (4, 90.0, 200.0, 400.0, 15.0),  # overloaded: 5 Erlangs on 4 agents
        (10, 96.0, 300.0, 120.0, 20.0),
    ],
)
def test_erlang_a_matches_the_chain_solved_independently(
    agents: int, arrivals_per_hour: float, aht: float, patience: float, target: float
) -> None:
    arrival = arrivals_per_hour / 3600
    p_wait, p_abandon, level = reference_erlang_a(agents, arrival, aht, patience, target)
    result = erlang_a(agents, arrival, aht, patience, target)
    assert result.p_wait == pytest.approx(p_wait, abs=1e-9)
    assert result.p_abandon == pytest.approx(p_abandon, abs=1e-9)
    assert result.service_level == pytest.approx(level, abs=1e-7)
    assert result.occupancy == pytest.approx(arrival * aht * (1 - p_abandon) / agents, abs=1e-9)


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    arrival, aht, target = 8 / 300, 300.0, 20.0
    erlang_c_level = service_level(10, 8.0, aht, target)
    erlang_c_asa = average_speed_of_answer(10, 8.0, aht)
    # Abandonment changes the figures to first order in AHT / patience, so the gap must
    # shrink in proportion (it is ~0.52 * AHT / patience here), down to patience = 1e10 s.
    for patience in (1e4, 1e6, 1e8, 1e10):
        result = erlang_a(10, arrival, aht, patience, target)
        assert abs(result.service_level - erlang_c_level) < aht / patience
        assert result.p_wait == pytest.approx(erlang_c(10, 8.0), rel=10 * aht / patience)
        assert result.asa_seconds == pytest.approx(erlang_c_asa, rel=10 * aht / patience)
        assert result.p_abandon < 10 * aht / patience
    infinite = erlang_a(10, arrival, aht, math.inf, target)
    assert infinite.service_level == erlang_c_level
    assert infinite.p_abandon == 0.0


def test_erlang_a_more_agents_better_service() -> None:
    results = [erlang_a(n, 20 / 300, 300, 90, 20) for n in range(10, 40)]
    assert all(a.service_level < b.service_level for a, b in itertools.pairwise(results))
    assert all(a.p_abandon > b.p_abandon for a, b in itertools.pairwise(results))


def test_erlang_a_large_and_overloaded() -> None:
    big = erlang_a(2000, 1950 / 300, 300, 180, 20)
    assert 0.0 < big.p_wait < 1.0
    assert 0.0 < big.service_level <= 1.0
    overloaded = erlang_a(100, 500 / 300, 300, 60, 20)  # five times the capacity
    assert overloaded.p_wait == pytest.approx(1.0, abs=1e-9)
    assert overloaded.p_abandon == pytest.approx(0.8, abs=0.01)  # capacity / load = 1/5
    assert overloaded.occupancy == pytest.approx(1.0, abs=1e-3)


def test_agents_needed_with_patience() -> None:
    with_patience = agents_needed(720, 240, 0.80, 20, patience_seconds=120)
    plain = agents_needed(720, 240, 0.80, 20)
    assert with_patience.service_level >= 0.80
    assert with_patience.p_abandon > 0.0
    assert with_patience.agents <= plain.agents
    below = erlang_a(with_patience.agents - 1, 720 / 3600, 240, 120, 20)
    assert below.service_level < 0.80
