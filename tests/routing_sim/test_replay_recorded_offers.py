"""Recorded offers, transfers and callbacks in a replay: the pure parts."""

from __future__ import annotations

import pytest

from app.routing.core.model import AgentState, QueueConfig, RoutingConfig
from app.routing.replay_core import (
    RecordedContact,
    RecordedPeriod,
    RoutingEventRecord,
    TransferRecord,
    journey,
    patience_curves,
    seeded_arrivals,
)
from app.routing.simulator import (
    PresenceChange,
    QueueLoad,
    RecordedArrival,
    RecordedResponse,
    RecordedTransfer,
    SimulatedAgent,
    SimulationResult,
    SimulationSetup,
    replay_arrivals,
)
from app.staffing.patience import WaitObservation, kaplan_meier

A = AgentState
ROUTING = RoutingConfig(
    queues={"q": QueueConfig("q"), "q2": QueueConfig("q2"), "q3": QueueConfig("q3")}
)


def _run(
    arrivals: list[RecordedArrival], *agents: tuple[str, tuple[str, ...], float]
) -> SimulationResult:
    """Agents (id, queues, sign-in time) stay signed in; 10 minutes are replayed."""
    setup = SimulationSetup(
        routing=ROUTING,
        loads=tuple(QueueLoad(q, 0, 1) for q in ROUTING.queues),
        agents=tuple(SimulatedAgent(agent, queues=queues) for agent, queues, _ in agents),
        hours=600 / 3600,
        warmup_seconds=0.0,
        presence=tuple(PresenceChange(at, agent, A.AVAILABLE) for agent, _, at in agents),
    )
    return replay_arrivals(setup, arrivals)


def test_an_agent_who_rejected_the_contact_rejects_it_again_after_their_think_time() -> None:
    """Ann (idle longest) is offered it first and rejects it after 5 s, as recorded; Bob
    takes it then."""
    arrival = RecordedArrival(
        10, "q", "voice", None, 30, responses=(RecordedResponse("ann", "rejected", 5),)
    )
    result = _run([arrival], ("ann", ("q",), 0), ("bob", ("q",), 1))
    (contact,) = result.contacts
    assert (contact.offered_at, contact.answered_at, contact.agent_id) == (10, 15, "bob")


def test_alone_the_agent_who_rejected_it_gets_it_back_after_the_cooldown() -> None:
    """Ann rejected it once: she rejects the first offer, accepts the one after the
    queue's cooldown (60 s) at once; her recorded acceptance rang 2 s."""
    responses = (RecordedResponse("ann", "rejected", 5), RecordedResponse("ann", "accepted", 2))
    result = _run([RecordedArrival(0, "q", "voice", None, 30, responses=responses)],
                  ("ann", ("q",), 0))  # fmt: skip
    (contact,) = result.contacts
    assert (contact.answered_at, contact.agent_id) == (67, "ann")


def test_a_recorded_timeout_rings_until_the_deadline_of_the_configuration_replayed() -> None:
    """Voice offers ring 20 s; the cooldown counts from the deadline."""
    arrival = RecordedArrival(
        0, "q", "voice", None, 30, responses=(RecordedResponse("ann", "timeout", 20),)
    )
    (contact,) = _run([arrival], ("ann", ("q",), 0)).contacts
    assert contact.answered_at == 80
    quick = RoutingConfig(
        queues=ROUTING.queues, offer_timeout_seconds={"voice": 8.0, "chat": 30, "email": 120}
    )
    setup = SimulationSetup(
        routing=quick,
        loads=(QueueLoad("q", 0, 1),),
        agents=(SimulatedAgent("ann", queues=("q",)),),
        hours=600 / 3600,
        warmup_seconds=0.0,
        presence=(PresenceChange(0, "ann", A.AVAILABLE),),
    )
    (contact,) = replay_arrivals(setup, [arrival]).contacts
    assert contact.answered_at == 68


def test_a_response_of_an_agent_the_replay_never_offers_it_to_changes_nothing() -> None:
    arrival = RecordedArrival(
        0, "q", "voice", None, 30, responses=(RecordedResponse("carl", "rejected", 5),)
    )
    (contact,) = _run([arrival], ("ann", ("q",), 0)).contacts
    assert (contact.answered_at, contact.agent_id) == (0, "ann")


def test_a_caller_who_hangs_up_while_it_rings_ends_the_pending_answer() -> None:
    """Ann would accept after 8 s; the caller hangs up at 5 s: nothing is accepted."""
    arrival = RecordedArrival(
        0, "q", "voice", None, 30, patience_seconds=5,
        responses=(RecordedResponse("ann", "accepted", 8),),
    )  # fmt: skip
    (contact,) = _run([arrival], ("ann", ("q",), 0)).contacts
    assert (contact.answered_at, contact.abandoned_at) == (None, 5)


def test_a_recorded_transfer_moves_the_contact_after_the_recorded_talk() -> None:
    """Ann talks 30 s and transfers to q2, where Bob takes it and talks 40 s. The contact
    counts once, in q, answered by Ann at 0; Bob's time shows in q2's occupancy."""
    arrival = RecordedArrival(
        0, "q", "voice", None, 40, transfers=(RecordedTransfer(30, to_queue="q2"),)
    )
    result = _run([arrival], ("ann", ("q",), 0), ("bob", ("q2",), 0))
    (contact,) = result.contacts
    assert (contact.answered_at, contact.agent_id, contact.ended_at) == (0, "ann", 70)
    stats = {s.queue: s for s in result.queues}
    assert (stats["q"].offered, stats["q"].handled) == (1, 1)
    assert stats["q2"].offered == 0
    assert stats["q2"].occupancy == pytest.approx(40 / 600)
    assert stats["q"].occupancy == pytest.approx(30 / 600)


def test_a_transfer_to_an_agent_waits_for_that_agent() -> None:
    """Transferred to Carl, who signs in at 100: Bob, free in the same queue, is passed
    over; Carl's recorded acceptance rings 3 s."""
    arrival = RecordedArrival(
        0, "q", "voice", None, 40,
        responses=(RecordedResponse("carl", "accepted", 3),),
        transfers=(RecordedTransfer(30, to_agent_id="carl"),),
    )  # fmt: skip
    result = _run([arrival], ("ann", ("q",), 0), ("bob", ("q",), 1), ("carl", ("q",), 100))
    (contact,) = result.contacts
    assert contact.agent_id == "ann"
    assert contact.ended_at == 143  # Carl accepts at 103 and talks 40 s


def test_hanging_up_after_a_transfer_ends_the_contact_but_it_stays_handled() -> None:
    arrival = RecordedArrival(
        0, "q", "voice", None, 40,
        transfers=(RecordedTransfer(30, to_queue="q3", patience_seconds=15),),
    )  # fmt: skip
    result = _run([arrival], ("ann", ("q",), 0))  # nobody serves q3
    (contact,) = result.contacts
    assert (contact.answered_at, contact.abandoned_at, contact.ended_at) == (0, None, 45)
    stats = {s.queue: s for s in result.queues}
    assert (stats["q"].handled, stats["q"].abandoned) == (1, 0)


def _events(*events: tuple[float, str, str | None, dict[str, object]]) -> list[RoutingEventRecord]:
    return [RoutingEventRecord(t, kind, agent, payload) for t, kind, agent, payload in events]


def test_a_journey_reads_offers_transfers_and_callbacks_from_the_events() -> None:
    route = journey(
        _events(
            (100, "contact.queued", None, {"queue": "q"}),
            (104, "contact.offered", "7", {}),
            (110, "contact.offer_withdrawn", "7", {"reason": "rejected"}),
            (111, "contact.offered", "8", {}),
            (131, "contact.offer_withdrawn", "8", {"reason": "timeout"}),
            (140, "contact.offered", "9", {}),
            (141, "contact.offer_withdrawn", "9", {"reason": "agent logged out"}),
            (150, "contact.offered", "7", {}),
            (152, "contact.assigned", "7", {}),
            (212, "contact.requeued", None, {"queue": "q2", "reason": "transferred"}),
            (215, "contact.callback_requested", None, {"keeps_place": True}),
            (230, "contact.offered", "8", {}),
            (231, "contact.assigned", "8", {}),
            (300, "contact.requeued", None, {"queue": "q2", "reason": "transferred to agent 9"}),
            (320, "contact.abandoned", None, {"waited_seconds": 220}),
        )
    )
    assert route is not None
    assert (route.queue, route.entered, route.first_answer, route.abandoned) == (
        "q", 100, 152, None,
    )  # fmt: skip
    assert route.responses == (
        RecordedResponse("7", "rejected", 6),
        RecordedResponse("8", "timeout", 20),
        RecordedResponse("7", "accepted", 2),
        RecordedResponse("8", "accepted", 1),
    )
    assert route.transfers == (
        TransferRecord(60, "q2", None, wait_seconds=19, callback=True),
        TransferRecord(69, None, "9", wait_seconds=20, abandoned=True),
    )
    assert route.callback_after is None


def test_a_journey_without_an_answer() -> None:
    route = journey(
        _events(
            (0, "contact.queued", None, {"queue": "q"}),
            (30, "contact.callback_requested", None, {}),
            (40, "contact.requeued", None, {"queue": "q", "reason": "queue changed"}),
            (90, "contact.abandoned", None, {}),
        )
    )
    assert route is not None
    assert (route.first_answer, route.abandoned, route.callback_after) == (None, 90, 30)
    assert route.transfers == ()
    assert journey(_events((5, "contact.offered", "7", {}))) is None


def _contact(**changes: object) -> RecordedContact:
    base = RecordedContact(0.0, "q", "voice", None, None, (), 50.0, True, 100.0, 10.0)
    return RecordedContact(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


def test_a_callback_keeps_its_place_and_censors_patience_when_taken() -> None:
    """Callers hung up at 10 s and 20 s; the one who took a callback at 5 s (answered at 50)
    counts as censored at 5 s, and in the replay waits as long as it takes."""
    contacts = (
        _contact(wait_seconds=10.0, answered=False, talk_seconds=None, wrap_up_seconds=None),
        _contact(wait_seconds=20.0, answered=False, talk_seconds=None, wrap_up_seconds=None),
        _contact(callback_after=5.0),
    )
    curve = patience_curves(contacts)[("q", "voice")]
    assert (curve.abandoned, curve.censored) == (2, 1)
    period = RecordedPeriod(100.0, contacts, (), (), ())
    arrivals = seeded_arrivals(period, {("q", "voice"): curve}, {}, seed=1)
    assert arrivals[2].patience_seconds is None
    assert [a.patience_seconds for a in arrivals[:2]] == [10.0, 20.0]


def test_transfers_are_replayed_with_the_recorded_talk_and_the_target_patience() -> None:
    """Hung up 15 s after the transfer: that is its patience; answered after 12 s: a draw
    beyond 12 s from the target queue's curve; a transfer to an agent who was not there
    goes to the queue instead."""
    curve = kaplan_meier([WaitObservation(10, abandoned=True), WaitObservation(30, abandoned=True)])
    contact = _contact(
        transfers=(
            TransferRecord(60, "q2", None, wait_seconds=12),
            TransferRecord(70, None, "ghost", wait_seconds=15, abandoned=True),
        )
    )
    period = RecordedPeriod(100.0, (contact,), (SimulatedAgent("ann"),), (), ())
    (arrival,) = seeded_arrivals(period, {("q2", "voice"): curve}, {}, seed=1)
    assert arrival.transfers == (
        RecordedTransfer(60, "q2", None, patience_seconds=30.0),
        RecordedTransfer(70, "q2", None, patience_seconds=15),
    )
