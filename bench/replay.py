"""Replay of a large center's week: time and memory per seed.

A synthetic center (``--agents`` agents over 20 skill queues, three 8-hour shifts a day
with a 30-minute break, voice contacts around the clock, about ``--contacts`` of them in a
week) is first run once through the simulator and the routing engine to make the
recording (its contacts' waits, talk and wrap-up, every agent state); then the recording is
replayed as ``contactd simulate --replay`` does after reading the database: Kaplan–Meier
patience, each seed's draws, one engine run per seed, its figures per queue and per grade.
Prints the seconds per seed beside a same-run ceiling (a 10-million-step Python loop, for
the machine's speed that minute),
the process's CPU seconds (the machine is shared: wall time includes other work), the peak
resident memory, and the fidelity check's verdicts.

    .venv/bin/python bench/replay.py [--agents 1000] [--contacts 700000] [--seeds 1]
        [--value-rules]

``--value-rules`` also times re-grading every caller under candidate value rules (done
once per replay, before the seeds).
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.customers.value.core.history import OrderFact
from app.customers.value.core.rules import ValueRules, VipRule
from app.routing.core.model import AgentState, QueueConfig, RoutingConfig, SkillRequirement
from app.routing.replay_core import (
    CustomerOrders,
    RecordedContact,
    RecordedPeriod,
    SeedFigures,
    fidelity,
    handle_pools,
    patience_curves,
    presence_schedule,
    recorded_figures,
    regraded_tags,
    replay_once,
    seeded_arrivals,
    summarise,
    worst_waits,
)
from app.routing.simulator import (
    PresenceChange,
    QueueLoad,
    RecordedArrival,
    SimulatedAgent,
    SimulationResult,
    SimulationSetup,
    replay_arrivals,
)

WEEK = 7 * 86400.0
QUEUES = [f"q{i}" for i in range(20)]
AHT = 240.0
WRAP = 20.0
PATIENCE = 120.0
SL = 20.0
TAGS: tuple[tuple[str, ...], ...] = ((), (), ("grade:S",), ("grade:G",), ("grade:P", "vip"))


def center(agent_count: int, rng: random.Random) -> tuple[RoutingConfig, list[SimulatedAgent]]:
    routing = RoutingConfig(
        queues={
            q: QueueConfig(q, skills=(SkillRequirement(q, 1),), wrap_up_seconds=60) for q in QUEUES
        }
    )
    agents = []
    for i in range(agent_count):
        skills = {q: rng.randint(1, 5) for q in rng.sample(QUEUES, rng.randint(2, 4))}
        agents.append(SimulatedAgent(f"a{i}", skills=skills))
    return routing, agents


def shifts(agents: list[SimulatedAgent], rng: random.Random) -> list[PresenceChange]:
    """Each agent works one of three shifts a day (a third each), with a 30-minute break."""
    changes = []
    for day in range(7):
        for index, agent in enumerate(agents):
            start = day * 86400 + ((index + day) % 3) * 8 * 3600 + rng.uniform(-300, 300)
            start = max(start, 0.0)
            pause = start + rng.uniform(3, 5) * 3600
            changes += [
                PresenceChange(start, agent.agent_id, AgentState.AVAILABLE),
                PresenceChange(pause, agent.agent_id, AgentState.NOT_READY, "break"),
                PresenceChange(pause + 1800, agent.agent_id, AgentState.AVAILABLE),
                PresenceChange(start + 8 * 3600, agent.agent_id, AgentState.OFFLINE),
            ]
    return changes


def arrivals(count: int, rng: random.Random) -> list[RecordedArrival]:
    rate = count / WEEK
    contacts = []
    now = 0.0
    while (now := now + rng.expovariate(rate)) < WEEK:
        contacts.append(
            RecordedArrival(
                now,
                rng.choice(QUEUES),
                "voice",
                None,
                rng.expovariate(1 / AHT),
                patience_seconds=rng.expovariate(1 / PATIENCE),
                wrap_up_seconds=rng.expovariate(1 / WRAP),
                value_tags=rng.choice(TAGS),
            )
        )
    return contacts


def record(
    routing: RoutingConfig,
    agents: list[SimulatedAgent],
    presence: list[PresenceChange],
    contacts: list[RecordedArrival],
) -> RecordedPeriod:
    """Run the week once and keep what the database would hold."""
    setup = SimulationSetup(
        routing=routing,
        loads=tuple(QueueLoad(q, 0, 1, sl_seconds=SL) for q in QUEUES),
        agents=tuple(agents),
        hours=WEEK / 3600,
        warmup_seconds=0.0,
        presence=tuple(presence),
        record_presence=True,
    )
    result = replay_arrivals(setup, contacts)
    states = list(result.presence_log)
    return RecordedPeriod(
        seconds=WEEK,
        contacts=tuple(_recorded(result)),
        agents=tuple(agents),
        presence=tuple(presence_schedule(states)),
        states=tuple(states),
        sl_seconds=dict.fromkeys(QUEUES, SL),
    )


def _recorded(result: SimulationResult) -> list[RecordedContact]:
    contacts = []
    for o in result.contacts:
        answered = o.answered_at is not None and o.ended_at is not None
        end = o.answered_at if answered else o.abandoned_at
        if end is None:
            continue
        talk = wrap = None
        if answered and o.ended_at is not None and o.answered_at is not None:
            talk = o.ended_at - o.answered_at
            wrap = (o.wrap_up_ended_at or o.ended_at) - o.ended_at
        contacts.append(
            RecordedContact(
                o.arrived_at, o.queue, "voice", None, None, o.value_tags,
                end - o.arrived_at, answered, talk, wrap,
            )
        )  # fmt: skip
    return contacts


def regrade_seconds(period: RecordedPeriod, rng: random.Random) -> tuple[float, float, int]:
    """Time ``--value-rules``' re-grading: each contact's caller one of a third as many
    customers with 0-8 orders over two years, graded at arrival under a candidate VIP rule
    of one sale and under the seed rules. Wall and CPU seconds, and the contacts regraded."""
    start = datetime(2026, 11, 2, tzinfo=UTC)
    count = max(len(period.contacts) // 3, 1)
    customers = {
        customer_id: CustomerOrders(
            tuple(
                sorted(
                    (
                        OrderFact(
                            start - timedelta(days=rng.uniform(0, 730)),
                            "completed",
                            rng.randint(1, 5),
                            Decimal(rng.randint(50, 3000)),
                        )
                        for _ in range(rng.randint(0, 8))
                    ),
                    key=lambda order: order.placed_at,
                )
            )
        )
        for customer_id in range(count)
    }
    callers = replace(
        period,
        contacts=tuple(replace(c, customer_id=rng.randrange(count)) for c in period.contacts),
    )
    candidate = ValueRules(vip=VipRule(min_sales=1, min_items=1, min_amount=Decimal(100)))
    started, cpu = time.perf_counter(), time.process_time()
    tags = regraded_tags(callers, customers, candidate, ValueRules(), start, UTC)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    changed = sum(a != b.value_tags for a, b in zip(tags, callers.contacts, strict=True))
    return seconds, cpu, changed


def python_loop_seconds(steps: int = 10_000_000) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(steps):
        total += i
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=700_000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--value-rules", action="store_true", help="also time re-grading (--value-rules)"
    )
    args = parser.parse_args()
    rng = random.Random(7)
    routing, agents = center(args.agents, rng)
    presence = shifts(agents, rng)
    contacts = arrivals(args.contacts, rng)
    started = time.perf_counter()
    period = record(routing, agents, presence, contacts)
    recording = time.perf_counter() - started
    del contacts
    print(
        f"{len(period.contacts):,} contacts, {len(agents):,} agents, "
        f"{len(period.presence):,} presence changes, {len(period.states):,} recorded states; "
        f"recording run {recording:.1f} s"
    )
    recorded = recorded_figures(period, routing)
    curves = patience_curves(period.contacts)
    pools = handle_pools(period.contacts)
    worst = worst_waits(period)
    runs = []
    for seed in range(1, args.seeds + 1):
        ceiling = python_loop_seconds()
        started, cpu = time.perf_counter(), time.process_time()
        draws = seeded_arrivals(period, curves, pools, seed)
        result = replay_once(period, routing, draws)
        runs.append(SeedFigures.of(result, period.sl_seconds, worst).queues)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"seed {seed}: replay {seconds:.1f} s wall, {cpu:.1f} s CPU (target <= 60 s); "
            f"ceiling: 10M-step Python loop {ceiling:.2f} s"
        )
    if args.value_rules:
        seconds, cpu, changed = regrade_seconds(period, rng)
        print(
            f"re-grading {len(period.contacts):,} callers under candidate value rules:"
            f" {seconds:.1f} s wall, {cpu:.1f} s CPU ({changed:,} tagged otherwise)"
        )
    faithful = sum(fidelity(recorded[q], summarise(runs, q)).faithful for q in recorded)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fidelity: {faithful} of {len(recorded)} queues faithful")
    print(f"peak resident memory {peak_mib:,.0f} MiB (target <= 2,048 MiB)")


if __name__ == "__main__":
    main()
