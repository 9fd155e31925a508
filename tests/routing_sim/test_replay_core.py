"""The pure parts of --replay: Kaplan–Meier, presence from the log, fidelity, round trip."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.customers.value.core.history import OrderFact
from app.customers.value.core.rules import ValueRules, VipRule
from app.routing.core.model import AgentState, QueueConfig, RoutingConfig, SkillRequirement
from app.routing.replay_core import (
    AgentUpdateRecord,
    Candidate,
    CustomerOrders,
    Figures,
    RecordedContact,
    RecordedPeriod,
    Regrade,
    agents_as_they_were,
    fidelity,
    merged_tags,
    parse_agents_delta,
    presence_schedule,
    ready_agents_per_interval,
    recorded_grade_figures,
    regraded_tags,
    replay,
    staffing_comparison,
    with_agents_delta,
)
from app.routing.simulator import (
    AgentChange,
    PresenceChange,
    PresenceRecord,
    QueueLoad,
    RecordedArrival,
    SimulatedAgent,
    SimulationSetup,
    replay_arrivals,
)
from app.staffing.patience import WaitObservation, kaplan_meier

A = AgentState


def test_kaplan_meier_by_hand() -> None:
    """Hung up at 10 and 20, answered at 15 and 30: S = 3/4 after 10, 3/4 * 1/2 after 20."""
    curve = kaplan_meier(
        [
            WaitObservation(10, abandoned=True),
            WaitObservation(15, abandoned=False),
            WaitObservation(20, abandoned=True),
            WaitObservation(30, abandoned=False),
        ]
    )
    assert curve.times == (10, 20)
    assert curve.survival == pytest.approx((0.75, 0.375))
    assert (curve.abandoned, curve.censored) == (2, 2)
    assert curve.survival_at(9.9) == 1.0
    assert curve.survival_at(15) == pytest.approx(0.75)
    assert curve.median_seconds() == 20
    rng = random.Random(1)
    # past the last abandonment nothing says when they would leave: they wait on
    assert {curve.draw(rng, longer_than=25) for _ in range(50)} == {None}
    draws = {curve.draw(rng) for _ in range(500)}
    assert draws == {10, 20, None}
    assert all(curve.draw(rng, longer_than=12) in (20, None) for _ in range(100))


@given(st.lists(st.tuples(st.integers(0, 600), st.booleans()), min_size=1, max_size=60))
def test_kaplan_meier_is_a_survival_curve(waits: list[tuple[int, bool]]) -> None:
    curve = kaplan_meier([WaitObservation(float(s), abandoned=a) for s, a in waits])
    assert list(curve.times) == sorted(set(curve.times))
    assert all(0.0 <= s <= 1.0 for s in curve.survival)
    assert list(curve.survival) == sorted(curve.survival, reverse=True)
    assert curve.abandoned + curve.censored == len(waits)
    if all(abandoned for _, abandoned in waits):  # no censoring: the empirical curve
        for time in curve.times:
            later = sum(1 for s, _ in waits if s > time)
            assert curve.survival_at(time) == pytest.approx(later / len(waits))


def test_presence_schedule_keeps_what_agents_chose() -> None:
    states = [
        PresenceRecord(-100, "ann", A.AVAILABLE, None),
        PresenceRecord(50, "ann", A.ON_CONTACT, None),
        PresenceRecord(60, "ann", A.WRAP_UP, None),
        PresenceRecord(70, "ann", A.AVAILABLE, None),
        PresenceRecord(100, "ann", A.NOT_READY, "lunch"),
        PresenceRecord(150, "ann", A.NOT_READY, "training"),
        PresenceRecord(200, "ann", A.AVAILABLE, None),
        PresenceRecord(300, "ann", A.OFFLINE, None),
    ]
    assert presence_schedule(states) == [
        PresenceChange(0, "ann", A.AVAILABLE),
        PresenceChange(100, "ann", A.NOT_READY, "lunch"),
        PresenceChange(150, "ann", A.NOT_READY, "training"),
        PresenceChange(200, "ann", A.AVAILABLE),
        PresenceChange(300, "ann", A.OFFLINE),
    ]


def test_simulated_agents_follow_their_recorded_presence() -> None:
    """Ann signs in at 100 (the contact of 0 waits for her), takes lunch at 150 (the
    contact of 160 hangs up after 20 s), and wraps up 7 s as recorded."""
    setup = SimulationSetup(
        routing=RoutingConfig(queues={"q": QueueConfig("q", wrap_up_seconds=30)}),
        loads=(QueueLoad("q", 0, 1),),
        agents=(SimulatedAgent("ann", queues=("q",)),),
        hours=400 / 3600,
        warmup_seconds=0.0,
        presence=(
            PresenceChange(100, "ann", A.AVAILABLE),
            PresenceChange(150, "ann", A.NOT_READY, "lunch"),
            PresenceChange(300, "ann", A.OFFLINE),
        ),
        record_presence=True,
    )
    arrivals = [
        RecordedArrival(0, "q", "voice", None, 10, wrap_up_seconds=7),
        RecordedArrival(160, "q", "voice", None, 10, patience_seconds=20),
    ]
    result = replay_arrivals(setup, arrivals)
    first, second = sorted(result.contacts, key=lambda c: c.arrived_at)
    assert (first.answered_at, first.ended_at, first.wrap_up_ended_at) == (100, 110, 117)
    assert (second.answered_at, second.abandoned_at) == (None, 180)
    # signing in and taking the waiting contact is one step, as in one router batch
    assert [(r.time, r.state) for r in result.presence_log] == [
        (100, A.ON_CONTACT),
        (110, A.WRAP_UP),
        (117, A.AVAILABLE),
        (150, A.NOT_READY),
        (300, A.OFFLINE),
    ]
    (stats,) = result.queues
    assert stats.occupancy == pytest.approx(17 / 200)  # busy 17 s of 200 s signed in


def test_erlang_c_beside_a_staffing_what_if() -> None:
    """Ann is ready 0-90 min, then not ready: 1 agent in hour 0, half of one in hour 1.
    Hour 0 has 12 contacts of 300 s (1 erlang): Erlang C needs 3 agents for 80 % in 20 s."""
    queue = QueueConfig("q")
    period = RecordedPeriod(
        seconds=7200.0,
        contacts=tuple(
            RecordedContact(i * 300.0, "q", "voice", None, None, None, 0.0, True, 290.0, 10.0)
            for i in range(12)
        ),
        agents=(SimulatedAgent("ann", queues=("q",)),),
        presence=(
            PresenceChange(0, "ann", A.AVAILABLE),
            PresenceChange(5400, "ann", A.NOT_READY, "lunch"),
        ),
        states=(),
        sl_seconds={"q": 20.0},
        sl_percent={"q": 80.0},
    )
    assert ready_agents_per_interval(period, queue) == {0: 1.0, 1: 0.5}
    comparison = staffing_comparison(period, RoutingConfig({"q": queue}), "q", 2)
    assert (comparison.intervals, comparison.erlang_c_peak) == (1, 3)
    assert (comparison.ready_mean, comparison.ready_mean_with_delta) == (1.0, 3.0)
    assert (comparison.short_intervals, comparison.short_intervals_with_delta) == (1, 0)


def test_an_agent_given_the_skills_during_the_period_is_a_model_for_more() -> None:
    """Ann has no billing skill at the start and gets it at 100 s: she serves billing, so
    ``billing=+1`` copies her (shifts and changes), and she counts as ready for billing."""
    queue = QueueConfig("billing", skills=(SkillRequirement("billing", 1),))
    period = RecordedPeriod(
        seconds=7200.0,
        contacts=(),
        agents=(SimulatedAgent("ann", {"support": 3}),),
        presence=(PresenceChange(0, "ann", A.AVAILABLE),),
        states=(),
        sl_seconds={"billing": 20.0},
        sl_percent={"billing": 80.0},
        agent_changes=(AgentChange(100, "ann", skills={"billing": 2}),),
    )
    grown = with_agents_delta(period, RoutingConfig({"billing": queue}), {"billing": 1})
    assert [a.agent_id for a in grown.agents] == ["ann", "extra-billing-1"]
    assert [c.agent_id for c in grown.agent_changes] == ["ann", "extra-billing-1"]
    assert ready_agents_per_interval(period, queue) == {0: 1.0, 1: 1.0}
    with pytest.raises(ValueError, match="no recorded agent serves"):
        with_agents_delta(
            replace(period, agent_changes=()), RoutingConfig({"billing": queue}), {"billing": 1}
        )


def test_an_agent_signing_in_not_ready_takes_nothing_until_ready() -> None:
    setup = SimulationSetup(
        routing=RoutingConfig(queues={"q": QueueConfig("q")}),
        loads=(QueueLoad("q", 0, 1),),
        agents=(SimulatedAgent("ann", queues=("q",)), SimulatedAgent("bob", queues=("q",))),
        hours=400 / 3600,
        warmup_seconds=0.0,
        presence=(
            PresenceChange(100, "ann", A.NOT_READY, "meeting"),
            PresenceChange(200, "ann", A.AVAILABLE),
        ),
    )
    result = replay_arrivals(setup, [RecordedArrival(0, "q", "voice", None, 10)])
    (contact,) = result.contacts
    # bob has no recorded presence: he never signs in
    assert (contact.answered_at, contact.agent_id) == (200, "ann")


def _recorded(**values: float | None) -> dict[str, float | None]:
    base: dict[str, float | None] = {
        "offered": 100.0,
        "handled": 90.0,
        "abandoned": 10.0,
        "service_level": 0.80,
        "asa_seconds": 60.0,
        "occupancy": 0.7,
    }
    return {**base, **values}


def test_fidelity_holds_the_goal() -> None:
    recorded = _recorded()
    assert fidelity(recorded, Figures(_recorded(service_level=0.84, asa_seconds=68.0))).faithful
    verdict = fidelity(recorded, Figures(_recorded(service_level=0.86, abandoned=14.0)))
    assert not verdict.faithful
    assert [p.split()[0] for p in verdict.problems] == ["service", "abandonment"]
    assert not fidelity(recorded, Figures(_recorded(offered=99.0))).faithful
    # under 30 s the ASA may be 5 s off, not 15 %
    short = _recorded(asa_seconds=10.0)
    assert fidelity(short, Figures(_recorded(asa_seconds=14.5))).faithful
    assert not fidelity(short, Figures(_recorded(asa_seconds=15.5))).faithful


def test_agents_delta_parsing() -> None:
    assert parse_agents_delta(["support=+2", "sales=-1", "support=1"]) == {
        "support": 3,
        "sales": -1,
    }
    for bad in ("support", "=2", "support=two", "support=0"):
        with pytest.raises(ValueError, match="QUEUE=\\+N"):
            parse_agents_delta([bad])


# ------------------------------------------------------------------ round trip

ROUTING = RoutingConfig(
    queues={
        "sales": QueueConfig("sales", wrap_up_seconds=30),
        "support": QueueConfig("support", wrap_up_seconds=30),
    }
)
WEEK = 7 * 24 * 3600.0
TAGS: tuple[tuple[str, ...], ...] = ((), ("grade:S",), ("grade:P", "vip"), ("grade:B",))


def _week(seed: int) -> tuple[list[SimulatedAgent], list[PresenceChange], list[RecordedArrival]]:
    """Six agents on day shifts with lunch, Poisson contacts in the day, a week long."""
    rng = random.Random(seed)
    agents = [
        SimulatedAgent(f"a{i}", queues=("sales",) if i < 2 else ("support",) if i < 4 else ())
        for i in range(6)
    ]
    presence = []
    for day in range(7):
        for agent in agents:
            start = day * 86400 + 8 * 3600 + rng.uniform(0, 3600)
            presence += [
                PresenceChange(start, agent.agent_id, A.AVAILABLE),
                PresenceChange(start + 4 * 3600, agent.agent_id, A.NOT_READY, "lunch"),
                PresenceChange(start + 4.75 * 3600, agent.agent_id, A.AVAILABLE),
                PresenceChange(start + 8.5 * 3600, agent.agent_id, A.OFFLINE),
            ]
    arrivals = []
    for queue, rate in (("sales", 20.0), ("support", 35.0)):
        time = 0.0
        while (time := time + rng.expovariate(rate / 3600)) < WEEK:
            if 9 * 3600 <= time % 86400 < 17 * 3600:
                arrivals.append(
                    RecordedArrival(
                        time, queue, "voice", None, rng.expovariate(1 / 240),
                        patience_seconds=rng.expovariate(1 / 120),
                        wrap_up_seconds=rng.uniform(5, 60),
                        value_tags=rng.choice(TAGS),
                    )
                )  # fmt: skip
    return agents, presence, sorted(arrivals, key=lambda a: a.time)


def _record(
    agents: list[SimulatedAgent], presence: list[PresenceChange], arrivals: list[RecordedArrival]
) -> RecordedPeriod:
    """Run the week through the engine and keep what a recording would keep."""
    setup = SimulationSetup(
        routing=ROUTING,
        loads=(QueueLoad("sales", 0, 1, sl_seconds=20), QueueLoad("support", 0, 1, sl_seconds=20)),
        agents=tuple(agents),
        hours=WEEK / 3600,
        warmup_seconds=0.0,
        presence=tuple(presence),
        record_presence=True,
    )
    result = replay_arrivals(setup, arrivals)
    contacts = []
    for outcome in sorted(result.contacts, key=lambda c: c.arrived_at):
        answered = outcome.answered_at is not None
        end = outcome.answered_at if answered else outcome.abandoned_at
        assert end is not None
        contacts.append(
            RecordedContact(
                time=outcome.arrived_at,
                queue=outcome.queue,
                channel="voice",
                skills=None,
                priority=None,
                value_tags=outcome.value_tags,
                wait_seconds=end - outcome.arrived_at,
                answered=answered,
                talk_seconds=None if not answered else outcome.ended_at - end,  # type: ignore[operator]
                wrap_up_seconds=None
                if not answered
                else outcome.wrap_up_ended_at - outcome.ended_at,  # type: ignore[operator]
            )
        )
    states = list(result.presence_log)
    return RecordedPeriod(
        seconds=WEEK,
        contacts=tuple(contacts),
        agents=tuple(agents),
        presence=tuple(presence_schedule(states)),
        states=tuple(states),
        sl_seconds={"sales": 20.0, "support": 20.0},
    )


def test_a_recorded_week_replays_within_the_goal() -> None:
    period = _record(*_week(3))
    assert sum(not c.answered for c in period.contacts) > 20  # patience matters
    report = replay(period, ROUTING, seeds=(1, 2, 3))
    assert report.faithful, [(q.name, q.fidelity.problems) for q in report.queues]
    for queue in report.queues:
        assert queue.replayed.values["offered"] == queue.recorded["offered"]
        occupancy = queue.recorded["occupancy"]
        assert occupancy is not None
        assert queue.replayed.values["occupancy"] == pytest.approx(occupancy, abs=0.02)
    assert {(q, c) for q, c in report.patience} == {("sales", "voice"), ("support", "voice")}


def test_a_what_if_is_a_difference_from_the_faithful_replay() -> None:
    period = _record(*_week(4))
    report = replay(period, ROUTING, Candidate(agents_delta={"support": 2}), seeds=(1, 2))
    support = next(q for q in report.queues if q.name == "support")
    assert support.difference is not None
    assert support.candidate is not None
    asa = support.difference.values["asa_seconds"]
    assert asa is not None
    assert asa < 0  # two more agents: shorter waits than the faithful replay
    assert support.candidate.values["asa_seconds"] == pytest.approx(
        (support.replayed.values["asa_seconds"] or 0.0) + asa
    )
    fewer = replay(period, ROUTING, Candidate(agents_delta={"support": -2}), seeds=(1,))
    worse = next(q for q in fewer.queues if q.name == "support")
    assert worse.difference is not None
    abandoned = worse.difference.values["abandoned"]
    assert abandoned is not None
    assert abandoned > 0  # two agents fewer: more hang up than in the faithful replay
    assert worse.longer_than_recorded_worst is not None


def test_grades_are_reported_beside_queues_and_a_value_rule_moves_them() -> None:
    """The faithful replay gives each grade group back as recorded; a candidate that puts
    Bronze callers before VIPs (10 points by default) shortens their waits and lengthens
    the VIPs', seed by seed."""
    agents, presence, arrivals = _week(5)
    rng = random.Random(5)
    busy = [
        replace(a, queue="support", time=a.time + rng.uniform(0, 60)) for a in arrivals
    ]  # twice the load on support, lines form: the order of service matters
    period = _record(agents, presence, sorted(arrivals + busy, key=lambda a: a.time))
    report = replay(period, ROUTING, seeds=(1, 2))
    grades = {g.name: g for g in report.grades}
    assert set(grades) == {"untagged", "grade:S", "grade:P", "grade:B", "vip"}
    for grade in grades.values():
        assert grade.replayed.values["offered"] == grade.recorded["offered"]
        assert grade.fidelity.faithful, (grade.name, grade.fidelity.problems)
        assert grade.recorded["occupancy"] is None
    assert grades["vip"].recorded["offered"] == grades["grade:P"].recorded["offered"]
    total = sum(q.recorded["offered"] or 0 for q in report.queues)
    assert sum(grades[g].recorded["offered"] or 0 for g in TAG_GROUPS) == total

    bronze_first = replace(ROUTING, value_priority={"vip": 10, "grade:B": 1000})
    tried = replay(period, ROUTING, Candidate(routing=bronze_first), seeds=(1, 2))
    grades = {g.name: g for g in tried.grades}
    vip, bronze = grades["vip"].difference, grades["grade:B"].difference
    assert vip is not None
    assert bronze is not None
    assert (bronze.values["asa_seconds"] or 0) < 0 < (vip.values["asa_seconds"] or 0)
    assert grades["vip"].longer_than_recorded_worst is not None
    document = grades["vip"].as_dict(label=None)
    assert {"recorded", "replayed", "candidate", "difference", "fidelity"} <= set(document)
    assert "queue" not in document


TAG_GROUPS = ("untagged", "grade:S", "grade:P", "grade:B")  # one grade each: they partition


def test_grade_figures_by_hand() -> None:
    """Two VIP contacts (answered after 10 s, hung up after 30 s), one untagged answered
    after 40 s; the queue's SL threshold is 20 s."""
    contacts = (
        RecordedContact(0, "q", "voice", None, None, ("vip",), 10.0, True, 60.0, 0.0),
        RecordedContact(5, "q", "voice", None, None, ("vip",), 30.0, False),
        RecordedContact(9, "q", "voice", None, None, (), 40.0, True, 60.0, 0.0),
    )
    period = RecordedPeriod(100.0, contacts, (), (), (), sl_seconds={"q": 20.0})
    figures = recorded_grade_figures(period)
    assert figures["vip"] == {
        "offered": 2, "handled": 1, "abandoned": 1, "service_level": 0.5,
        "asa_seconds": 10.0, "occupancy": None,
    }  # fmt: skip
    assert figures["untagged"]["service_level"] == 0.0
    assert figures["untagged"]["asa_seconds"] == 40.0


def test_agents_as_they_were_from_their_recorded_changes() -> None:
    """Ann's skills changed before the period and again in it; Bob's capacity changed in it
    only (its previous value is what he had at the start); Cara's changed after it; Dan has
    no change and stays as stored now."""
    now = [
        SimulatedAgent("ann", {"billing": 2}, {"voice": 1}),
        SimulatedAgent("bob", {}, {"voice": 3}),
        SimulatedAgent("cara", {"sales": 5}),
        SimulatedAgent("dan", {"support": 1}),
    ]
    updates = [
        AgentUpdateRecord(-50, "ann", "skills", {"support": 3}, {}),
        AgentUpdateRecord(40, "ann", "skills", {"billing": 2}, {"support": 3}),
        AgentUpdateRecord(70, "bob", "capacity", {"voice": 3}, {"voice": 1}),
        AgentUpdateRecord(500, "cara", "skills", {"sales": 5}, {"sales": 1}),
    ]
    agents, changes = agents_as_they_were(now, updates, seconds=100)
    by_id = {agent.agent_id: agent for agent in agents}
    assert by_id["ann"].skills == {"support": 3}
    assert by_id["bob"].capacity == {"voice": 1}
    assert by_id["cara"].skills == {"sales": 1}
    assert by_id["dan"] == now[3]
    assert changes == (
        AgentChange(40, "ann", skills={"billing": 2}),
        AgentChange(70, "bob", capacity={"voice": 3}),
    )


def test_a_replay_applies_skill_and_capacity_changes_when_they_happened() -> None:
    """Ann lacks billing until 100 s: the billing call of 0 waits for her. Her voice
    capacity goes from 1 to 2 at 200 s: of the calls of 150 and 151 (100 s each) the second
    waits until then, not until the first ends at 250 s; of those of 300 and 301 neither
    waits."""
    routing = RoutingConfig(
        queues={"billing": QueueConfig("billing", skills=(SkillRequirement("billing", 1),))}
    )
    setup = SimulationSetup(
        routing=routing,
        loads=(QueueLoad("billing", 0, 1),),
        agents=(SimulatedAgent("ann", {"support": 3}, {"voice": 1}),),
        hours=1000 / 3600,
        warmup_seconds=0.0,
        presence=(PresenceChange(0, "ann", A.AVAILABLE),),
        agent_changes=(
            AgentChange(100, "ann", skills={"billing": 2}),
            AgentChange(200, "ann", capacity={"voice": 2}),
        ),
    )
    arrivals = [
        RecordedArrival(time, "billing", "voice", None, handle, wrap_up_seconds=0)
        for time, handle in ((0, 10), (150, 100), (151, 100), (300, 50), (301, 50))
    ]
    result = replay_arrivals(setup, arrivals)
    answered = [c.answered_at for c in sorted(result.contacts, key=lambda c: c.arrived_at)]
    assert answered == [100, 150, 200, 300, 301]


def test_candidate_value_rules_regrade_each_caller_as_of_arrival() -> None:
    """Bronze callers are one customer with one ¥500 sale; a candidate VIP rule of one sale
    makes them VIP from the sale on (the rule in force needs three), so they get the VIP
    boost: their waits shorten and the recorded VIPs' lengthen, in the recorded grade
    groups. What the rules in force and the candidate grade alike keeps its recorded tags:
    callers before the sale, and the grade (Silver by both, Bronze as recorded)."""
    agents, presence, arrivals = _week(5)
    rng = random.Random(5)
    busy = [replace(a, queue="support", time=a.time + rng.uniform(0, 60)) for a in arrivals]
    recorded = _record(agents, presence, sorted(arrivals + busy, key=lambda a: a.time))
    period = replace(
        recorded,
        contacts=tuple(
            replace(c, customer_id=7) if c.value_tags == ("grade:B",) else c
            for c in recorded.contacts
        ),
    )
    start = datetime(2026, 3, 2, tzinfo=UTC)
    sale = start + timedelta(days=1)
    customers = {7: CustomerOrders((OrderFact(sale, "completed", 1, Decimal(500)),))}
    easy_vip = ValueRules(vip=VipRule(min_sales=1, min_items=1, min_amount=Decimal(100)))
    tags = regraded_tags(period, customers, easy_vip, ValueRules(), start, UTC)
    bronze = [i for i, c in enumerate(period.contacts) if c.customer_id == 7]
    before_sale = [i for i in bronze if period.contacts[i].time < 86400]
    assert before_sale
    assert all(tags[i] == ("grade:B",) for i in before_sale)
    assert all(tags[i] == ("grade:B", "vip") for i in bronze if i not in before_sale)
    assert all(tags[i] == c.value_tags for i, c in enumerate(period.contacts) if i not in bronze)
    same = regraded_tags(period, customers, ValueRules(), ValueRules(), start, UTC)
    assert same == tuple(c.value_tags for c in period.contacts)

    report = replay(period, ROUTING, Candidate(value_tags=tags), seeds=(1, 2))
    grades = {g.name: g for g in report.grades}
    assert set(grades) == {"untagged", "grade:S", "grade:P", "grade:B", "vip"}
    vip, bronze_group = grades["vip"].difference, grades["grade:B"].difference
    assert vip is not None
    assert bronze_group is not None
    assert (bronze_group.values["asa_seconds"] or 0) < 0 < (vip.values["asa_seconds"] or 0)
    assert bronze_group.values["offered"] == 0  # the same contacts, compared
    assert report.regrades == (Regrade((), ("vip",), len(bronze) - len(before_sale)),)


def test_merged_tags_take_the_candidate_only_where_it_differs() -> None:
    recorded = ("grade:G", "status:graded", "class:major", "segment:loyal")
    in_force = ("grade:S", "status:graded", "class:key", "segment:loyal")
    candidate = ("grade:S", "status:graded", "vip", "class:normal", "segment:loyal")
    assert merged_tags(recorded, in_force, candidate) == (
        "grade:G", "status:graded", "vip", "class:normal", "segment:loyal",
    )  # fmt: skip
    assert merged_tags(recorded, in_force, in_force) == recorded
