"""Example-based tests of the pure routing engine, one behaviour at a time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

from app.routing.core import (
    AgentCapacityChanged,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentSkillsChanged,
    AgentState,
    AgentStateChanged,
    AgentStateSet,
    ConfigChanged,
    ContactAbandoned,
    ContactEnded,
    ContactEnqueued,
    ContactRemoved,
    ContactStatus,
    ContactTransferred,
    ContactUpdated,
    ContactView,
    Decision,
    Escalated,
    EscalationStep,
    Event,
    Offer,
    OfferAccepted,
    OfferRejected,
    OffersReclaimed,
    OfferWithdrawn,
    QueueConfig,
    Requeued,
    RoutingConfig,
    RoutingEngine,
    RoutingError,
    SkillRequirement,
    StepAction,
    StepActionDue,
    Strategy,
    Tick,
    ValueSkillRule,
    WrapUpEnded,
)

EN2 = (SkillRequirement("en", 2),)
D = TypeVar("D")


def config(*queues: QueueConfig, **kwargs: Any) -> RoutingConfig:
    return RoutingConfig(queues={q.name: q for q in queues}, **kwargs)


class Harness:
    """Feeds events with an explicit clock and checks invariants after each one."""

    def __init__(self, cfg: RoutingConfig) -> None:
        self.engine = RoutingEngine(cfg)
        self.now = 0.0

    def __call__(self, event: Event, at: float | None = None) -> list[Decision]:
        if at is not None:
            self.now = at
        decisions = self.engine.handle(event, self.now)
        self.engine.check_invariants()
        return decisions

    def login(
        self,
        agent_id: str,
        skills: dict[str, int] | None = None,
        capacity: dict[str, int] | None = None,
        queues: tuple[str, ...] = (),
        at: float | None = None,
    ) -> list[Decision]:
        return self(
            AgentLoggedIn(agent_id, skills or {"en": 3}, capacity or {"voice": 1}, queues), at
        )

    def enqueue(
        self,
        contact_id: str,
        queue: str = "q",
        channel: str = "voice",
        at: float | None = None,
        arrived_at: float | None = None,
        **kwargs: Any,
    ) -> list[Decision]:
        if arrived_at is None:
            arrived_at = at if at is not None else self.now
        return self(ContactEnqueued(contact_id, queue, channel, arrived_at, **kwargs), at)

    def tick(self, at: float) -> list[Decision]:
        return self(Tick(), at)

    def serve(self, contact_id: str, agent_id: str) -> None:
        """Accept, then end the contact."""
        self(OfferAccepted(contact_id, agent_id))
        self(ContactEnded(contact_id))


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    return [(d.contact_id, d.agent_id) for d in decisions if isinstance(d, Offer)]


def of_type(decisions: Iterable[Decision], kind: type[D]) -> list[D]:
    return [d for d in decisions if isinstance(d, kind)]


def first_offer(decisions: Iterable[Decision]) -> Offer:
    return of_type(decisions, Offer)[0]


def contact(h: Harness, contact_id: str) -> ContactView:
    view = h.engine.contact_view(contact_id)
    assert view is not None
    return view


def busy(h: Harness, *agent_ids: str) -> None:
    for agent_id in agent_ids:
        h(AgentStateChanged(agent_id, AgentState.NOT_READY, "break"))


def ready(h: Harness, agent_id: str, at: float | None = None) -> list[Decision]:
    return h(AgentStateChanged(agent_id, AgentState.AVAILABLE), at)


# ------------------------------------------------------------------ agent selection


def test_longest_idle_prefers_the_agent_free_the_longest() -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=5)))
    h.login("a1", at=0)
    h.login("a2", at=1)
    assert offers(h.enqueue("c1", at=2)) == [("c1", "a1")]
    h.serve("c1", "a1")  # a1 wraps up until 7, so becomes idle after a2
    h.tick(7)
    assert offers(h.enqueue("c2", at=8)) == [("c2", "a2")]
    assert offers(h.enqueue("c3", at=9)) == [("c3", "a1")]


def test_least_occupied_counts_contacts_against_capacity() -> None:
    h = Harness(config(QueueConfig("q", EN2, strategy=Strategy.LEAST_OCCUPIED)))
    h.login("a1", capacity={"chat": 3}, at=0)
    h.login("a2", capacity={"chat": 3}, at=1)
    assert offers(h.enqueue("c1", channel="chat", at=2)) == [("c1", "a1")]  # tie: longest idle
    assert offers(h.enqueue("c2", channel="chat", at=3)) == [("c2", "a2")]  # a1 is 1/3 busy
    assert offers(h.enqueue("c3", channel="chat", at=4)) == [("c3", "a1")]  # 1/3 each: idle


def test_most_skilled_sums_proficiency_over_required_skills() -> None:
    reqs = (SkillRequirement("en", 1), SkillRequirement("billing", 1))
    h = Harness(config(QueueConfig("q", reqs, strategy=Strategy.MOST_SKILLED)))
    h.login("a1", {"en": 5, "billing": 1, "fr": 5}, at=0)  # 6 on the required skills
    h.login("a2", {"en": 3, "billing": 4}, at=1)  # 7
    h.login("a3", {"en": 4, "billing": 3}, at=2)  # 7, idle for less time
    assert offers(h.enqueue("c1", at=3)) == [("c1", "a2")]
    assert offers(h.enqueue("c2", at=4)) == [("c2", "a3")]
    assert offers(h.enqueue("c3", at=5)) == [("c3", "a1")]


def test_round_robin_takes_the_agent_least_recently_offered_this_queue() -> None:
    h = Harness(config(QueueConfig("q", EN2, strategy=Strategy.ROUND_ROBIN)))
    for agent_id in ("a3", "a1", "a2"):
        h.login(agent_id, capacity={"chat": 10}, at=0)
    got = [offers(h.enqueue(f"c{i}", channel="chat", at=i))[0][1] for i in range(1, 6)]
    assert got == ["a1", "a2", "a3", "a1", "a2"]


# ------------------------------------------------------------------ contact order


def test_priority_first_then_fifo_across_queues() -> None:
    h = Harness(config(QueueConfig("q1", EN2), QueueConfig("q2", EN2)))
    h.login("a1", queues=("q1", "q2"), at=0)
    busy(h, "a1")
    h.enqueue("c1", "q1", at=1)
    h.enqueue("c2", "q2", at=2)
    h.enqueue("c3", "q1", at=3, priority=5)
    h.enqueue("c4", "q1", at=4)
    order = [view.contact_id for view in h.engine.waiting_contacts(now=5)]
    assert order == ["c3", "c1", "c2", "c4"]
    assert [v.contact_id for v in h.engine.waiting_contacts("q2", now=5)] == ["c2"]
    served = []
    decisions = ready(h, "a1", at=5)
    for _ in range(4):
        (contact, agent) = offers(decisions)[0]
        served.append(contact)
        h(OfferAccepted(contact, agent))
        decisions = h(ContactEnded(contact)) + h(WrapUpEnded(agent))
    assert served == order


def test_priority_boost_ages_waiting_contacts() -> None:
    slow = QueueConfig("slow", EN2, priority=5)
    aging = QueueConfig("aging", EN2, priority=0, priority_boost_per_minute=1.0)
    h = Harness(config(slow, aging))
    h.login("a1", at=0)
    busy(h, "a1")
    h.enqueue("old", "aging", at=0)
    h.enqueue("important", "slow", at=100)
    assert [v.contact_id for v in h.engine.waiting_contacts(now=200)] == ["important", "old"]
    views = h.engine.waiting_contacts(now=400)  # old has waited 6 min 40 s: 6.67 > 5
    assert [v.contact_id for v in views] == ["old", "important"]
    assert views[0].effective_priority == pytest.approx(400 / 60)
    assert offers(ready(h, "a1", at=400)) == [("old", "a1")]


def test_value_tags_add_their_points_to_priority_and_the_trace_names_them() -> None:
    points = {"vip": 10, "grade:G": 3, "class:key": 2}
    h = Harness(config(QueueConfig("q", EN2), value_priority=points))
    h.login("a1", at=0)
    busy(h, "a1")
    h.enqueue("regular", at=1, priority=4)
    h.enqueue("gold", at=2, value_tags=("grade:G", "status:graded", "class:normal"))
    h.enqueue("gold-key", at=3, value_tags=("grade:G", "class:key"))
    h.enqueue("vip", at=4, value_tags=("grade:S", "vip"))
    order = [v.contact_id for v in h.engine.waiting_contacts(now=5)]
    assert order == ["vip", "gold-key", "regular", "gold"]
    [offer] = [d for d in ready(h, "a1", at=6) if isinstance(d, Offer)]
    assert (offer.contact_id, offer.trace.priority_boosts) == ("vip", (("vip", 10),))


def test_a_value_skill_rule_sends_platinum_to_seniors_first_until_a_step_drops_it() -> None:
    senior = SkillRequirement("senior", 1)
    queue = QueueConfig(
        "q",
        EN2,
        value_skills=(ValueSkillRule(frozenset({"grade:P", "vip"}), (senior,)),),
        steps=(EscalationStep(after_seconds=30, drop_skills=("senior",)),),
    )
    h = Harness(config(queue))
    h.login("junior", at=0, skills={"en": 3})
    assert offers(h.enqueue("regular", at=1)) == [("regular", "junior")]
    h(OfferAccepted("regular", "junior"))
    h.login("junior2", at=2, skills={"en": 3})
    assert offers(h.enqueue("platinum", at=3, value_tags=("grade:P",))) == []
    [view] = h.engine.waiting_contacts(now=4)
    assert view.requirements == (SkillRequirement("en", 2), senior)
    assert offers(h.tick(34)) == [("platinum", "junior2")]


# ------------------------------------------------------------------ preferred agent


def test_preferred_agent_gets_the_contact_while_the_window_runs() -> None:
    h = Harness(config(QueueConfig("q", EN2, preferred_agent_seconds=30)))
    h.login("a1", at=0)
    h.login("a2", at=0)
    busy(h, "a2")
    assert offers(h.enqueue("c1", at=1, preferred_agent_id="a2")) == []  # a1 free but not her
    assert contact(h, "c1").pinned_to == "a2"
    decisions = ready(h, "a2", at=10)
    assert offers(decisions) == [("c1", "a2")]
    assert first_offer(decisions).trace.rule == "preferred agent"


def test_preferred_agent_eligible_at_arrival_gets_it_immediately() -> None:
    h = Harness(config(QueueConfig("q", EN2, preferred_agent_seconds=30)))
    h.login("a1", at=0)
    h.login("a2", at=5)
    assert offers(h.enqueue("c1", at=6, preferred_agent_id="a2")) == [("c1", "a2")]


def test_after_the_window_anyone_eligible_gets_it() -> None:
    h = Harness(config(QueueConfig("q", EN2, preferred_agent_seconds=30)))
    h.login("a1", at=0)
    h.login("a2", at=0)
    busy(h, "a2")
    h.enqueue("c1", at=1, preferred_agent_id="a2")
    assert h.engine.next_timer() == 31  # window end
    assert offers(h.tick(30.5)) == []
    assert offers(h.tick(31)) == [("c1", "a1")]


def test_rejection_by_the_preferred_agent_ends_the_preference() -> None:
    h = Harness(config(QueueConfig("q", EN2, preferred_agent_seconds=300)))
    h.login("a1", at=0)
    h.login("a2", at=0)
    busy(h, "a1")
    assert offers(h.enqueue("c1", at=1, preferred_agent_id="a2")) == [("c1", "a2")]
    h(OfferRejected("c1", "a2"), 2)
    assert offers(ready(h, "a1", at=3)) == [("c1", "a1")]


# ------------------------------------------------------------------ escalation


def test_escalation_steps_widen_requirements_in_order() -> None:
    steps = (
        EscalationStep(after_seconds=30, lower_min_level_by=2),
        EscalationStep(
            after_seconds=60, add_skills=(SkillRequirement("fr", 1),), drop_skills=("en",)
        ),
        EscalationStep(after_seconds=90, action=StepAction.CALLBACK),
    )
    h = Harness(config(QueueConfig("q", (SkillRequirement("en", 4),), steps=steps)))
    h.login("fr_only", {"fr": 2}, at=0)
    busy(h, "fr_only")
    h.login("low_en", {"en": 2}, at=0)
    busy(h, "low_en")
    h.enqueue("c1", at=0)
    assert h.engine.next_timer() == 30
    decisions = h.tick(30)
    assert decisions == [Escalated("c1", 1, (SkillRequirement("en", 2),), ("q",))]
    assert h.engine.next_timer() == 60
    decisions = h.tick(60)
    assert decisions == [Escalated("c1", 2, (SkillRequirement("fr", 1),), ("q",))]
    decisions = h.tick(95)
    assert decisions == [
        Escalated("c1", 3, (SkillRequirement("fr", 1),), ("q",)),
        StepActionDue("c1", 3, StepAction.CALLBACK),
    ]
    assert h.engine.next_timer() is None
    decisions = ready(h, "low_en", at=96)
    assert offers(decisions) == []  # en is no longer required, fr is
    decisions = ready(h, "fr_only", at=97)
    assert offers(decisions) == [("c1", "fr_only")]
    assert first_offer(decisions).trace.step == 3


def test_escalation_step_makes_a_waiting_contact_matchable_at_once() -> None:
    steps = (EscalationStep(after_seconds=20, lower_min_level_by=1),)
    h = Harness(config(QueueConfig("q", (SkillRequirement("en", 3),), steps=steps)))
    h.login("a1", {"en": 2}, at=0)
    assert offers(h.enqueue("c1", at=0)) == []
    decisions = h.tick(25)  # a late tick applies the step and offers in the same call
    assert isinstance(decisions[0], Escalated)
    assert offers(decisions) == [("c1", "a1")]


def test_overflow_step_adds_other_queues_agents() -> None:
    steps = (EscalationStep(after_seconds=10, overflow_queues=("backup",)),)
    h = Harness(config(QueueConfig("q", EN2, steps=steps), QueueConfig("backup", EN2)))
    h.login("backup_agent", queues=("backup",), at=0)
    assert offers(h.enqueue("c1", "q", at=0)) == []
    decisions = h.tick(10)
    assert decisions[0] == Escalated("c1", 1, EN2, ("q", "backup"))
    assert offers(decisions) == [("c1", "backup_agent")]


def test_steps_count_from_entering_the_queue_and_several_fire_on_one_tick() -> None:
    steps = (
        EscalationStep(after_seconds=10, action=StepAction.VOICEMAIL),
        EscalationStep(after_seconds=5, lower_min_level_by=1),  # due right after step 1
    )
    h = Harness(config(QueueConfig("q", EN2, steps=steps)))
    h.enqueue("c1", at=100, arrived_at=0)  # a callback: arrived long ago, entered now
    assert h.engine.next_timer() == 110
    decisions = h.tick(200)
    assert [type(d) for d in decisions] == [Escalated, StepActionDue, Escalated]
    assert contact(h, "c1").step == 2


# ------------------------------------------------------------------ capacity


def test_offers_count_against_capacity_and_never_exceed_it() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", capacity={"chat": 2}, at=0)
    got = [offers(h.enqueue(f"c{i}", channel="chat", at=i)) for i in range(1, 4)]
    assert got == [[("c1", "a1")], [("c2", "a1")], []]
    view = h.engine.agent_view("a1")
    assert view.offered == {"chat": ("c1", "c2")}
    assert view.free_capacity == {"chat": 0}
    assert offers(h(OfferRejected("c1", "a1"))) == [("c3", "a1")]


def test_voice_contact_blocks_chat_and_email_offers() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", capacity={"voice": 1, "chat": 2, "email": 1}, at=0)
    assert offers(h.enqueue("v1", at=1)) == [("v1", "a1")]
    assert offers(h.enqueue("ch1", channel="chat", at=2)) == []
    assert offers(h.enqueue("em1", channel="email", at=3)) == []
    assert h.engine.agent_view("a1").free_capacity == {"voice": 0, "chat": 0, "email": 0}
    h(OfferAccepted("v1", "a1"), 4)
    decisions = h(ContactEnded("v1"), 5) + h(WrapUpEnded("a1"), 6)
    assert offers(decisions) == [("ch1", "a1"), ("em1", "a1")]
    # chat does not block voice in the default config
    assert offers(h.enqueue("v2", at=7)) == [("v2", "a1")]


def test_capacity_change_takes_effect() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", capacity={"chat": 1}, at=0)
    h.enqueue("c1", channel="chat", at=1)
    assert offers(h.enqueue("c2", channel="chat", at=2)) == []
    assert offers(h(AgentCapacityChanged("a1", {"chat": 2}), 3)) == [("c2", "a1")]


# ------------------------------------------------------------------ offers


def test_rejected_contact_keeps_its_place_and_the_agent_cools_down() -> None:
    h = Harness(config(QueueConfig("q", EN2, reject_cooldown_seconds=60)))
    h.login("a1", at=0)
    assert offers(h.enqueue("c1", at=1)) == [("c1", "a1")]
    h.enqueue("c2", at=2)
    h.enqueue("c3", at=3)
    decisions = h(OfferRejected("c1", "a1"), 4)
    assert decisions[0] == OfferWithdrawn("c1", "a1", "rejected")
    assert offers(decisions) == [("c2", "a1")]  # not c1 again: cooling down
    assert [v.contact_id for v in h.engine.waiting_contacts(now=4)] == ["c1", "c3"]
    assert offers(h.login("a2", at=5)) == [("c1", "a2")]  # c1 is still first in line


def test_reclaimed_offers_go_to_another_agent_at_once_and_are_not_missed() -> None:
    h = Harness(config(QueueConfig("q", EN2, reject_cooldown_seconds=60)))
    h.login("gone", at=0)
    h.login("here", at=0)
    busy(h, "here")
    assert offers(h.enqueue("c1", at=1)) == [("c1", "gone")]
    assert offers(h.enqueue("c2", at=1)) == []
    ready(h, "here", at=2)  # takes c2
    decisions = h(OffersReclaimed(frozenset({"here"})), 3)
    assert decisions[0] == OfferWithdrawn("c1", "gone", "router took over")
    assert h.engine.agent_view("gone").missed_in_row == 0
    assert h.engine.agent_view("gone").state is AgentState.AVAILABLE
    assert h.engine.contact_view("c2").agent_id == "here"  # kept: its console is here
    assert offers(h.login("other", at=4)) == [("c1", "other")]  # not back to "gone"


def test_cooldown_end_is_a_timer_and_reopens_the_pair() -> None:
    h = Harness(config(QueueConfig("q", EN2, reject_cooldown_seconds=60)))
    h.login("a1", at=0)
    h.enqueue("c1", at=1)
    assert offers(h(OfferRejected("c1", "a1"), 4)) == []
    assert h.engine.next_timer() == 64
    assert offers(h.tick(63)) == []
    assert offers(h.tick(64)) == [("c1", "a1")]


def test_offer_timeouts_count_as_misses_and_set_the_agent_not_ready() -> None:
    cfg = config(
        QueueConfig("q", EN2, reject_cooldown_seconds=0),
        offer_timeout_seconds={"chat": 30.0},
        max_missed_offers=2,
    )
    h = Harness(cfg)
    h.login("a1", capacity={"chat": 2}, at=0)
    h.enqueue("c1", channel="chat", at=0)
    assert h.engine.next_timer() == 30
    decisions = h.tick(30)  # first miss: c1 is offered again at once (no cooldown)
    assert decisions == [OfferWithdrawn("c1", "a1", "timeout"), *decisions[1:]]
    assert offers(decisions) == [("c1", "a1")]
    assert h.engine.agent_view("a1").missed_in_row == 1
    h.enqueue("c2", channel="chat", at=40)
    decisions = h.tick(60)  # second miss in a row
    assert decisions[:3] == [
        OfferWithdrawn("c1", "a1", "timeout"),
        AgentStateSet("a1", AgentState.NOT_READY, "missed"),
        OfferWithdrawn("c2", "a1", "agent not ready"),
    ]
    assert offers(decisions) == []
    view = h.engine.agent_view("a1")
    assert (view.state, view.reason, view.offered) == (AgentState.NOT_READY, "missed", {})
    assert [v.contact_id for v in h.engine.waiting_contacts(now=60)] == ["c1", "c2"]


def test_accepting_resets_the_miss_count() -> None:
    cfg = config(QueueConfig("q", EN2), offer_timeout_seconds={"voice": 10.0})
    h = Harness(cfg)
    h.login("a1", capacity={"voice": 1}, at=0)
    h.login("a2", capacity={"voice": 1}, at=1)
    h.enqueue("c1", at=2)  # a1
    h.tick(12)  # a1 misses; c1 goes to a2
    assert h.engine.agent_view("a1").missed_in_row == 1
    h.enqueue("c2", at=13)
    h(OfferAccepted("c2", "a1"), 14)
    assert h.engine.agent_view("a1").missed_in_row == 0


def test_not_ready_withdraws_offers_but_keeps_assigned_contacts() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", capacity={"chat": 2}, at=0)
    h.enqueue("c1", channel="chat", at=1)
    h.enqueue("c2", channel="chat", at=2)
    h(OfferAccepted("c1", "a1"), 3)
    decisions = h(AgentStateChanged("a1", AgentState.NOT_READY, "lunch"), 4)
    assert decisions == [OfferWithdrawn("c2", "a1", "agent not ready")]
    view = h.engine.agent_view("a1")
    assert view.assigned == {"chat": ("c1",)}
    assert view.reason == "lunch"
    assert view.state is AgentState.NOT_READY


def test_logout_refuses_while_contacts_are_assigned_and_withdraws_offers() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", capacity={"chat": 2}, at=0)
    h.enqueue("c1", channel="chat", at=1)
    h.enqueue("c2", channel="chat", at=2)
    h(OfferAccepted("c1", "a1"), 3)
    with pytest.raises(RoutingError) as error:
        h(AgentLoggedOut("a1"), 4)
    assert error.value.code == "invalid_state"
    h(ContactEnded("c1"), 5)
    assert h(AgentLoggedOut("a1"), 6) == [OfferWithdrawn("c2", "a1", "agent logged out")]
    with pytest.raises(RoutingError):
        h.engine.agent_view("a1")


# ------------------------------------------------------------------ wrap-up


def test_wrap_up_timer_blocks_offers_then_frees_the_agent() -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=20)))
    h.login("a1", capacity={"voice": 1, "chat": 2}, at=0)
    h.enqueue("c1", at=1)
    h(OfferAccepted("c1", "a1"), 2)
    decisions = h(ContactEnded("c1"), 10)
    assert decisions == [
        ContactRemoved("c1", "ended", 1.0, agent_id="a1"),
        AgentStateSet("a1", AgentState.WRAP_UP),
    ]
    assert offers(h.enqueue("c2", channel="chat", at=11)) == []  # wrap-up: no channel at all
    assert h.engine.agent_view("a1").state is AgentState.WRAP_UP
    assert h.engine.next_timer() == 30
    decisions = h.tick(30)
    assert decisions[0] == AgentStateSet("a1", AgentState.AVAILABLE)
    assert offers(decisions) == [("c2", "a1")]
    assert h.engine.agent_view("a1").idle_since == 30


def test_zero_wrap_up_lasts_until_the_agent_says_so() -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=0)))
    h.login("a1", at=0)
    h.enqueue("c1", at=1)
    h.serve("c1", "a1")
    h.enqueue("c2", at=2)
    assert h.engine.next_timer() is None
    assert offers(h.tick(1000)) == []
    assert offers(h(WrapUpEnded("a1"), 1001)) == [("c2", "a1")]
    assert h(WrapUpEnded("a1"), 1002) == []  # nothing to end: harmless


def test_wrap_up_with_other_contacts_still_assigned() -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=10)))
    h.login("a1", capacity={"chat": 2}, at=0)
    h.enqueue("c1", channel="chat", at=1)
    h.enqueue("c2", channel="chat", at=1)
    h(OfferAccepted("c1", "a1"), 2)
    h(OfferAccepted("c2", "a1"), 2)
    h(ContactEnded("c1"), 5)
    h.enqueue("c3", channel="chat", at=6)
    assert h.engine.agent_view("a1").state is AgentState.WRAP_UP
    decisions = h.tick(15)
    assert decisions[0] == AgentStateSet("a1", AgentState.ON_CONTACT)
    assert offers(decisions) == [("c3", "a1")]


# ------------------------------------------------------------------ abandonment


def test_abandonment_withdraws_the_offer_and_flags_short_abandons() -> None:
    h = Harness(config(QueueConfig("q", EN2, short_abandon_seconds=5)))
    h.login("a1", at=0)
    h.enqueue("c1", at=1)
    decisions = h(ContactAbandoned("c1"), 3)
    assert decisions == [
        OfferWithdrawn("c1", "a1", "abandoned"),
        ContactRemoved("c1", "abandoned", 2.0, short_abandon=True),
    ]
    busy(h, "a1")
    h.enqueue("c2", at=10)
    assert h(ContactAbandoned("c2"), 40) == [ContactRemoved("c2", "abandoned", 30.0)]
    assert h.engine.contact_view("c2") is None
    assert h.engine.contacts() == []


# ------------------------------------------------------------------ transfers


def test_transfer_keeps_the_original_arrival_time() -> None:
    h = Harness(config(QueueConfig("q1", EN2, wrap_up_seconds=30), QueueConfig("q2", EN2)))
    h.login("a1", queues=("q1",), at=0)
    h.login("a2", queues=("q2",), at=0)
    h.enqueue("old", "q1", at=0)
    h(OfferAccepted("old", "a1"), 1)
    busy(h, "a2")
    h.enqueue("newer", "q2", at=50)
    decisions = h(ContactTransferred("old", to_queue="q2"), 100)
    assert decisions == [
        AgentStateSet("a1", AgentState.WRAP_UP),
        Requeued("old", "q2", "transferred"),
    ]
    assert h.engine.agent_view("a1").assigned == {}
    assert [v.contact_id for v in h.engine.waiting_contacts("q2", now=100)] == ["old", "newer"]
    assert offers(ready(h, "a2", at=101)) == [("old", "a2")]


def test_transfer_to_a_named_agent_then_back_to_the_queue_on_reject() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", at=0)
    h.login("a2", {"fr": 1}, at=0)  # a transfer target needs no queue skills
    h.login("a3", at=0)
    h.enqueue("c1", at=1)  # -> a1
    h(OfferAccepted("c1", "a1"), 2)
    busy(h, "a2")
    decisions = h(ContactTransferred("c1", to_agent_id="a2"), 3)
    assert of_type(decisions, Requeued) == [Requeued("c1", "q", "transferred to agent a2")]
    assert offers(decisions) == []  # a3 is free, but it is a2's
    decisions = ready(h, "a2", at=4)
    assert offers(decisions) == [("c1", "a2")]
    assert first_offer(decisions).trace.rule == "transferred to agent"
    decisions = h(OfferRejected("c1", "a2"), 5)
    assert decisions[:2] == [
        OfferWithdrawn("c1", "a2", "rejected"),
        Requeued("c1", "q", "transfer target did not take it"),
    ]
    assert offers(decisions) == [("c1", "a3")]


def test_transfer_target_going_not_ready_releases_the_contact() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", at=0)
    h.login("a2", at=0)
    h.enqueue("c1", at=1)
    h(OfferAccepted("c1", "a1"), 2)
    busy(h, "a2")
    h(ContactTransferred("c1", to_agent_id="a2"), 3)
    h(WrapUpEnded("a1"), 4)
    decisions = h(AgentStateChanged("a2", AgentState.OFFLINE), 5)
    assert decisions[0] == Requeued("c1", "q", "transfer target offline")
    assert offers(decisions) == [("c1", "a1")]


# ------------------------------------------------------------------ updates and config


def test_contact_update_reorders_and_reindexes_at_once() -> None:
    h = Harness(config(QueueConfig("q", EN2), QueueConfig("other", EN2)))
    h.login("fr", {"fr": 3}, at=0)
    h.login("a1", at=0)
    busy(h, "a1")
    h.enqueue("c1", at=1)
    h.enqueue("c2", at=2)
    h(ContactUpdated("c2", priority=3), 3)
    assert [v.contact_id for v in h.engine.waiting_contacts(now=3)] == ["c2", "c1"]
    decisions = h(ContactUpdated("c1", skills=(SkillRequirement("fr", 2),)), 4)
    assert offers(decisions) == [("c1", "fr")]
    h(ContactUpdated("c2", queue="other"), 5)
    view = h.engine.contact_view("c2")
    assert view is not None
    assert (view.queue, view.entered_queue_at) == ("other", 5)


def test_update_of_an_offered_contact_leaves_the_offer_alone() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", at=0)
    h.enqueue("c1", at=1)
    assert h(ContactUpdated("c1", skills=(SkillRequirement("fr", 5),)), 2) == []
    view = h.engine.contact_view("c1")
    assert view is not None
    assert view.status is ContactStatus.OFFERED
    assert view.agent_id == "a1"
    assert view.requirements == (SkillRequirement("fr", 5),)


def test_config_change_applies_to_contacts_already_waiting() -> None:
    h = Harness(config(QueueConfig("q", (SkillRequirement("en", 4),))))
    h.login("a1", {"en": 2}, at=0)
    assert offers(h.enqueue("c1", at=1)) == []
    decisions = h(ConfigChanged(config(QueueConfig("q", EN2), version=2)), 2)
    assert offers(decisions) == [("c1", "a1")]


def test_config_change_brings_new_steps_and_strategies() -> None:
    h = Harness(config(QueueConfig("q", (SkillRequirement("en", 5),))))
    h.login("a1", {"en": 3}, at=0)
    h.enqueue("c1", at=0)
    steps = (EscalationStep(after_seconds=60, lower_min_level_by=2),)
    h(ConfigChanged(config(QueueConfig("q", (SkillRequirement("en", 5),), steps=steps))), 30)
    assert h.engine.next_timer() == 60
    assert offers(h.tick(60)) == [("c1", "a1")]


def test_skills_change_makes_an_agent_eligible() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", {"en": 1}, at=0)
    h.enqueue("c1", at=1)
    assert offers(h(AgentSkillsChanged("a1", {"en": 2}), 2)) == [("c1", "a1")]


# ------------------------------------------------------------------ errors


def snapshot(engine: RoutingEngine) -> object:
    return (engine.agents(), engine.contacts(), engine.next_timer())


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (OfferAccepted("c1", "a2"), "no_such_offer"),
        (OfferRejected("c2", "a2"), "no_such_offer"),
        (OfferAccepted("nope", "a1"), "unknown_contact"),
        (ContactEnqueued("c1", "q", "voice", arrived_at=0), "duplicate_contact"),
        (ContactEnqueued("c9", "nowhere", "voice", arrived_at=0), "unknown_queue"),
        (ContactEnded("c2"), "invalid_state"),
        (ContactTransferred("c2", to_queue="q"), "invalid_state"),
        (ContactTransferred("c3", to_queue="nowhere"), "unknown_queue"),
        (ContactTransferred("c3", to_agent_id="ghost"), "unknown_agent"),
        (ContactTransferred("c3"), "invalid_state"),
        (ContactAbandoned("c3"), "invalid_state"),
        (ContactUpdated("c3", priority=1), "invalid_state"),
        (ContactUpdated("c2", queue="nowhere"), "unknown_queue"),
        (AgentLoggedIn("a1", {"en": 3}, {"voice": 1}), "invalid_state"),
        (AgentLoggedOut("a2"), "invalid_state"),
        (AgentStateChanged("a1", AgentState.WRAP_UP), "invalid_state"),
        (AgentStateChanged("ghost", AgentState.AVAILABLE), "unknown_agent"),
        (ConfigChanged(config(QueueConfig("other"))), "unknown_queue"),
    ],
)
def test_routing_errors_leave_the_state_unchanged(event: Event, code: str) -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=30)))
    h.login("a2", capacity={"chat": 1}, at=0)
    h.login("a1", capacity={"chat": 2}, at=0.5)
    h.enqueue("c3", channel="chat", at=1)  # offered to a2, then assigned
    h.enqueue("c1", channel="chat", at=1)  # offered to a1
    h(OfferAccepted("c3", "a2"), 2)
    h.enqueue("c2", channel="chat", at=3)  # offered to a1
    h.enqueue("c4", channel="chat", at=3)  # waits
    before = snapshot(h.engine)
    with pytest.raises(RoutingError) as error:
        h.engine.handle(event, 4)
    assert error.value.code == code
    assert snapshot(h.engine) == before
    h.engine.check_invariants()
    assert offers(h(OfferAccepted("c1", "a1"), 5)) == []  # still works afterwards


def test_time_must_not_go_backwards() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", at=10)
    with pytest.raises(RoutingError) as error:
        h.engine.handle(Tick(), 9)
    assert error.value.code == "invalid_time"


# ------------------------------------------------------------------ queries and traces


def test_offer_trace_explains_the_choice() -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=0)))
    h.login("best", at=0)
    h.login("second", at=1)
    h.login("novice", {"en": 1}, queues=("q",), at=1)
    h.login("away", at=1)
    busy(h, "away")
    decisions = h.enqueue("c1", at=5)
    (offer,) = of_type(decisions, Offer)
    trace = offer.trace
    assert (trace.queue, trace.strategy, trace.step) == ("q", Strategy.LONGEST_IDLE, 0)
    assert trace.rule == "longest idle among eligible"
    assert trace.requirements == EN2
    by_agent = {c.agent_id: c for c in trace.candidates}
    assert trace.candidates[0].agent_id == "best"
    assert by_agent["best"].score == (0.0, 0.0)
    assert by_agent["second"].score == (1.0, 0.0)
    assert by_agent["away"].skipped_because == "not ready (break)"
    assert by_agent["novice"].skipped_because == "skill below: en 1<2"
    assert len(trace.candidates) <= 20


def test_trace_names_agents_that_rejected_recently_and_the_freed_agent_rule() -> None:
    h = Harness(config(QueueConfig("q", EN2, wrap_up_seconds=0)))
    h.login("a1", at=0)
    h.login("a2", at=1)
    h.enqueue("c1", at=2)  # -> a1
    h.enqueue("c2", at=2)  # -> a2
    h(OfferAccepted("c2", "a2"), 3)
    decisions = h(OfferRejected("c1", "a1"), 4)  # a1 free again but cooling on c1
    assert offers(decisions) == []
    h(ContactEnded("c2"), 5)
    (offer,) = of_type(h(WrapUpEnded("a2"), 6), Offer)
    trace = offer.trace
    assert (offer.contact_id, offer.agent_id) == ("c1", "a2")
    assert trace.rule == "agent became free: best waiting contact"
    assert [(c.agent_id, c.skipped_because) for c in trace.candidates] == [
        ("a2", None),
        ("a1", "rejected recently"),
    ]


def test_position_and_expected_wait() -> None:
    cfg = config(QueueConfig("q", EN2), default_handle_seconds=120)
    h = Harness(cfg)
    h.login("a1", at=0)
    h.login("a2", at=0)
    busy(h, "a1", "a2")
    for i in range(1, 5):
        h.enqueue(f"c{i}", at=i)
    position = h.engine.position("c3", now=10)
    assert (position.position, position.status) == (3, ContactStatus.WAITING)
    assert position.expected_wait_seconds == pytest.approx(3 * 120 / 2)
    ready(h, "a1", at=20)
    offered = h.engine.position("c1", now=20)
    assert (offered.status, offered.position) == (ContactStatus.OFFERED, 0)
    h(OfferAccepted("c1", "a1"), 20)
    h(ContactEnded("c1"), 80)  # one handled contact: 60 s
    position = h.engine.position("c3", now=81)
    assert position.position == 2
    assert position.expected_wait_seconds == pytest.approx(2 * 60 / 2)
    assert h.engine.position("c2", now=81).position == 1
    with pytest.raises(RoutingError):
        h.engine.position("c1", now=81)  # ended contacts are forgotten


def test_expected_wait_is_unknown_when_nobody_can_take_the_contact_now() -> None:
    h = Harness(config(QueueConfig("q", EN2, reject_cooldown_seconds=60)))
    h.enqueue("c1", at=0)
    assert h.engine.position("c1", now=1).expected_wait_seconds is None  # nobody logged in
    h.login("a1", at=2)
    h(OfferRejected("c1", "a1"), 3)
    cooling = h.engine.position("c1", now=4)
    assert (cooling.position, cooling.expected_wait_seconds) == (1, None)
    h.enqueue("c2", at=4)
    assert h.engine.position("c2", now=4).expected_wait_seconds is not None  # a1 may take it
    assert offers(h.login("a2", at=5)) == [("c1", "a2")]


def test_agent_and_contact_views() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    h.login("a1", {"en": 4}, {"voice": 1, "chat": 2}, queues=("q",), at=3)
    h.enqueue("c1", at=4)
    view = h.engine.agent_view("a1")
    assert view.state is AgentState.AVAILABLE
    assert view.offered == {"voice": ("c1",)}
    assert view.idle_since == 3
    assert view.queues == ("q",)
    assert view.wrap_up_until is None
    h(OfferAccepted("c1", "a1"), 5)
    assert h.engine.agent_view("a1").state is AgentState.ON_CONTACT
    contact = h.engine.contact_view("c1")
    assert contact is not None
    assert (contact.status, contact.agent_id, contact.requirements) == (
        ContactStatus.ASSIGNED,
        "a1",
        EN2,
    )
    assert [a.agent_id for a in h.engine.agents()] == ["a1"]


def test_next_timer_is_none_when_nothing_is_pending() -> None:
    h = Harness(config(QueueConfig("q", EN2)))
    assert h.engine.next_timer() is None
    h.login("a1", at=0)
    h.enqueue("c1", at=1)
    assert h.engine.next_timer() == 21  # voice offer deadline
    h(OfferAccepted("c1", "a1"), 2)
    assert h.engine.next_timer() is None


def test_many_one_off_requirement_sets_do_not_pile_up() -> None:
    engine = RoutingEngine(config(QueueConfig("q", EN2)))
    engine.handle(AgentLoggedIn("a1", {f"s{i}": 1 for i in range(1200)}, {"chat": 1}), 0)
    for i in range(1200):
        skills = (SkillRequirement(f"s{i}", 1),)
        engine.handle(ContactEnqueued(f"c{i}", "q", "chat", i, skills=skills), i)
        engine.handle(OfferAccepted(f"c{i}", "a1"), i)
        engine.handle(ContactEnded(f"c{i}"), i)
        engine.handle(WrapUpEnded("a1"), i)
    assert len(engine._groups) <= 512
    assert len(engine._agents["a1"].groups) <= 512
    engine.check_invariants()
