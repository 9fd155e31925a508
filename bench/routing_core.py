"""Throughput of the pure routing core under a steady stream of events.

For each size: log in N agents (50 skills, 3-6 random skills each, seeded), keep every agent
busy and 5,000 contacts waiting, then replay a steady stream of cycles: an agent ends a
contact, finishes wrap-up (and gets the best waiting contact offered), accepts the offer,
and a new contact arrives. Prints decisions/s and per-event latency.

Contacts arrive where agents are: 90% pick a random agent and one of the queues and
channels it can serve (so the waiting contacts really compete for agents), 10% pick any
queue and channel (some of those find no agent at all and just wait).

    .venv/bin/python bench/routing_core.py [--sizes 1000 10000 100000] [--waiting 5000]
                                           [--events 60000]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from dataclasses import dataclass, field

from app.routing.core import (
    AgentLoggedIn,
    Assigned,
    ContactEnded,
    ContactEnqueued,
    Decision,
    EscalationStep,
    Event,
    Offer,
    OfferAccepted,
    QueueConfig,
    RoutingConfig,
    RoutingEngine,
    SkillRequirement,
    Strategy,
    WrapUpEnded,
)

SKILLS = [f"s{i}" for i in range(50)]
CHANNELS = ("voice", "chat", "email")
N_QUEUES = 60
WAITING = 5_000
TICK = 0.001  # virtual seconds between events


def make_config(rng: random.Random) -> RoutingConfig:
    strategies = list(Strategy)
    queues = {}
    for i in range(N_QUEUES):
        skills = tuple(
            SkillRequirement(skill, rng.randint(1, 3))
            for skill in rng.sample(SKILLS, rng.randint(1, 2))
        )
        steps = (
            EscalationStep(after_seconds=60, lower_min_level_by=1),
            EscalationStep(after_seconds=180, drop_skills=(skills[-1].skill,)),
        )
        queues[f"q{i}"] = QueueConfig(
            name=f"q{i}",
            skills=skills,
            strategy=strategies[i % len(strategies)] if i % 3 == 0 else Strategy.LONGEST_IDLE,
            priority_boost_per_minute=rng.choice((0.0, 0.0, 1.0, 2.0)),
            steps=steps if i % 2 == 0 else (),
            wrap_up_seconds=0.0,  # the stream sends WrapUpEnded itself
        )
    return RoutingConfig(queues=queues)


def make_agent(rng: random.Random, agent_id: str) -> AgentLoggedIn:
    skills = {skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, rng.randint(3, 6))}
    roll = rng.random()
    if roll < 0.6:
        capacity = {"voice": 1}
    elif roll < 0.9:
        capacity = {"voice": 1, "chat": 3}
    else:
        capacity = {"chat": 2, "email": 5}
    return AgentLoggedIn(agent_id, skills, capacity)


@dataclass
class Stream:
    """Drives the engine and tracks which contacts are assigned to whom."""

    engine: RoutingEngine
    rng: random.Random
    now: float = 0.0
    next_contact: int = 0
    assigned: list[tuple[str, str]] = field(default_factory=list)  # (contact, agent)
    pending_offers: list[tuple[str, str]] = field(default_factory=list)
    servable: list[list[tuple[str, str]]] = field(default_factory=list)  # per agent
    decisions: int = 0
    offers: int = 0

    def send(self, event: Event) -> None:
        self.now += TICK
        self.track(self.engine.handle(event, self.now))

    def track(self, decisions: list[Decision]) -> None:
        self.decisions += len(decisions)
        for decision in decisions:
            if isinstance(decision, Offer):
                self.offers += 1
                self.pending_offers.append((decision.contact_id, decision.agent_id))
            elif isinstance(decision, Assigned):
                self.assigned.append((decision.contact_id, decision.agent_id))

    def new_contact(self) -> ContactEnqueued:
        self.next_contact += 1
        rng = self.rng
        choices = rng.choice(self.servable) if rng.random() < 0.9 else None
        if choices:
            queue, channel = rng.choice(choices)
        else:
            queue = f"q{rng.randrange(N_QUEUES)}"
            channel = rng.choices(CHANNELS, weights=(6, 3, 1))[0]
        return ContactEnqueued(f"c{self.next_contact}", queue, channel, arrived_at=self.now)

    def accept_pending(self) -> None:
        while self.pending_offers:
            contact, agent = self.pending_offers.pop()
            self.send(OfferAccepted(contact, agent))


def fill(stream: Stream, n_agents: int, waiting: int) -> None:
    """Log agents in and enqueue contacts until ``waiting`` wait with every workable agent busy."""
    queues = stream.engine.config.queues
    for i in range(n_agents):
        login = make_agent(stream.rng, f"a{i}")
        stream.send(login)
        stream.servable.append(
            [
                (name, channel)
                for name, queue in queues.items()
                if all(login.skills.get(r.skill, 0) >= r.min_level for r in queue.skills)
                for channel in login.capacity
            ]
        )
    while stream.next_contact - stream.offers < waiting:  # every offer here is accepted
        stream.send(stream.new_contact())
        stream.accept_pending()


def run_stream(stream: Stream, n_events: int) -> list[float]:
    """Replay end / wrap-up end / accept / arrival cycles; returns each handle() latency.

    Only the engine's own time counts: building events and tracking offers in this script
    happens between the timed calls.
    """
    latencies: list[float] = []
    clock = time.perf_counter
    rng = stream.rng
    handle = stream.engine.handle

    def timed(event: Event) -> None:
        stream.now += TICK
        t0 = clock()
        decisions = handle(event, stream.now)
        latencies.append(clock() - t0)
        stream.track(decisions)

    while len(latencies) < n_events:
        index = rng.randrange(len(stream.assigned))
        stream.assigned[index], stream.assigned[-1] = stream.assigned[-1], stream.assigned[index]
        contact, agent = stream.assigned.pop()
        timed(ContactEnded(contact))
        timed(WrapUpEnded(agent))
        while stream.pending_offers:
            timed(OfferAccepted(*stream.pending_offers.pop()))
        timed(stream.new_contact())
        while stream.pending_offers:
            timed(OfferAccepted(*stream.pending_offers.pop()))
    return latencies


def bench(n_agents: int, n_waiting: int, n_events: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    engine = RoutingEngine(make_config(rng))
    stream = Stream(engine, rng)
    t0 = time.perf_counter()
    fill(stream, n_agents, n_waiting)
    setup = time.perf_counter() - t0
    waiting = len(engine.waiting_contacts(now=stream.now))
    stream.decisions = stream.offers = 0
    gc.collect()
    gc.disable()
    try:
        latencies = run_stream(stream, n_events)
    finally:
        gc.enable()
    elapsed = sum(latencies)
    latencies.sort()
    return {
        "agents": n_agents,
        "waiting": waiting,
        "setup_s": setup,
        "events": len(latencies),
        "decisions": stream.decisions,
        "offers": stream.offers,
        "elapsed": elapsed,
        "p50_us": statistics.median(latencies) * 1e6,
        "p99_us": latencies[int(0.99 * (len(latencies) - 1))] * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--waiting", type=int, default=WAITING)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    header = (
        f"{'agents':>8} {'waiting':>8} {'events/s':>10} {'decisions/s':>12} {'offers/s':>10}"
        f" {'us/decision':>12} {'p50 us/event':>13} {'p99 us/event':>13} {'setup s':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        r = bench(size, args.waiting, args.events, args.seed)
        print(
            f"{r['agents']:>8,.0f} {r['waiting']:>8,.0f} {r['events'] / r['elapsed']:>10,.0f}"
            f" {r['decisions'] / r['elapsed']:>12,.0f} {r['offers'] / r['elapsed']:>10,.0f}"
            f" {r['elapsed'] / r['decisions'] * 1e6:>12.1f} {r['p50_us']:>13.1f}"
            f" {r['p99_us']:>13.1f} {r['setup_s']:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
