"""The metrics core on a scripted day whose figures are computed by hand below."""

from __future__ import annotations

from typing import Any

import pytest

from app.supervisor.metrics import DAY, Aggregator, Buckets, Event, Target, replay
from app.supervisor.views import agent_view, queue_view

T0 = 20_000 * DAY + 3600.0  # 01:00 UTC on some day
NOW = T0 + 310
AGENT = 7

# One agent, queue "sales" (80 % in 20 s). Times are seconds after T0.
#   C1 queued 0, assigned 5 (wait 5: in target), ended 65 (talk 60), wrap-up 65..95 (30)
#   C2 queued 10, abandoned 13: a short abandon
#   C3 queued 20, abandoned 60 (waited 40)
#   C4 queued 100, assigned 130 (wait 30: late), ended 250 (talk 120), wrap-up 250..270 (20)
#   C5 queued 300, still waiting at 310
# Agent: available 0..5, on contact 5..65, wrap-up 65..95, available 95..130,
#   on contact 130..250, wrap-up 250..270, not ready (break) 270..310 and still.
SCRIPT: list[tuple[float, str, int | None, int | None, dict[str, Any]]] = [
    (0, "agent.state_changed", None, AGENT, {"state": "available"}),
    (0, "contact.created", 1, None, {"channel": "voice", "queue": "sales"}),
    (0, "contact.queued", 1, None, {"queue": "sales"}),
    (1, "contact.offered", 1, AGENT, {}),
    (5, "contact.assigned", 1, AGENT, {}),
    (5, "agent.state_changed", None, AGENT, {"state": "on_contact"}),
    (10, "contact.created", 2, None, {"channel": "voice", "queue": "sales"}),
    (10, "contact.queued", 2, None, {"queue": "sales"}),
    (13, "contact.abandoned", 2, None, {"short_abandon": True}),
    (20, "contact.created", 3, None, {"channel": "chat", "queue": "sales"}),
    (20, "contact.queued", 3, None, {"queue": "sales"}),
    (60, "contact.abandoned", 3, None, {"short_abandon": False}),
    (65, "contact.ended", 1, None, {"reason": "ended"}),
    (65, "agent.state_changed", None, AGENT, {"state": "wrap_up"}),
    (95, "agent.state_changed", None, AGENT, {"state": "available"}),
    (100, "contact.created", 4, None, {"channel": "voice", "queue": "sales"}),
    (100, "contact.queued", 4, None, {"queue": "sales"}),
    (130, "contact.assigned", 4, AGENT, {}),
    (130, "agent.state_changed", None, AGENT, {"state": "on_contact"}),
    (250, "contact.ended", 4, None, {"reason": "ended"}),
    (250, "agent.state_changed", None, AGENT, {"state": "wrap_up"}),
    (270, "agent.state_changed", None, AGENT, {"state": "not_ready", "reason": "break"}),
    (300, "contact.created", 5, None, {"channel": "voice", "queue": "sales"}),
    (300, "contact.queued", 5, None, {"queue": "sales"}),
]
TARGETS = {"sales": Target(80, 20)}


def events() -> list[Event]:
    return [
        Event(i, kind, contact, agent, T0 + t, payload)
        for i, (t, kind, contact, agent, payload) in enumerate(SCRIPT, start=1)
    ]


def live() -> Aggregator:
    agg = Aggregator(Buckets(origin=0.0, width=DAY), TARGETS)
    agg.apply_all(events())
    return agg


def test_live_queue_figures_equal_the_hand_computed_ones() -> None:
    agg = live()
    view = queue_view(agg, "sales", agg.buckets.of(NOW) or 0, NOW, [AGENT])
    assert view["offered"] == 5
    assert view["answered"] == 2
    assert view["answered_in_target"] == 1
    assert view["abandoned"] == 2
    assert view["short_abandoned"] == 1
    assert view["handled"] == 2
    assert view["service_level"] == pytest.approx(33.333)  # 1 / (2 + 2 - 1)
    assert view["service_level_30m"] == pytest.approx(33.333)
    assert view["asa_seconds"] == 17.5  # (5 + 30) / 2
    assert view["aht_seconds"] == 115.0  # (60 + 120 talk + 30 + 20 wrap-up) / 2
    assert view["waiting"] == 1
    assert view["longest_waiting_seconds"] == 10.0  # C5, waiting since 300
    assert view["longest_wait_seconds"] == 40.0  # C3, the longest wait that ended
    assert view["agents"] == {"available": 0, "on_contact": 0, "wrap_up": 0, "not_ready": 1}
    assert view["transfers"] == 0


def test_live_agent_figures_equal_the_hand_computed_ones() -> None:
    agg = live()
    view = agent_view(agg, AGENT, agg.buckets.of(NOW) or 0, NOW)
    assert (view["state"], view["reason"]) == ("not_ready", "break")
    assert view["time_in_state_seconds"] == 40.0
    assert view["contacts"] == []
    assert view["handled"] == 2
    assert view["aht_seconds"] == 115.0
    assert view["state_seconds"] == {
        "available": 40.0,
        "not_ready": 40.0,
        "on_contact": 180.0,
        "wrap_up": 50.0,
    }
    assert view["not_ready_reason_seconds"] == {"break": 40.0}
    assert view["logged_in_seconds"] == 310.0
    assert view["occupancy"] == pytest.approx(85.185)  # 230 / (230 + 40)


def test_interval_report_splits_the_day_by_hand() -> None:
    agg = replay(events(), Buckets(origin=T0, width=100, start=T0, end=NOW), TARGETS)
    rows = [agg.queue_tally("sales", [b]).figures() for b in range(4)]
    assert [r["offered"] for r in rows] == [3, 1, 0, 1]
    assert [r["handled"] for r in rows] == [1, 0, 1, 0]
    assert [r["service_level"] for r in rows] == [50.0, 0.0, None, None]
    assert [r["asa_seconds"] for r in rows] == [5.0, 30.0, None, None]
    assert [r["aht_seconds"] for r in rows] == [90.0, None, 140.0, None]
    assert [r["longest_wait_seconds"] for r in rows] == [40.0, 30.0, 0.0, 0.0]
    agent = [agg.agent_tally(AGENT, b).figures()["state_seconds"] for b in range(4)]
    assert agent[1] == {"available": 30.0, "on_contact": 70.0}  # 100..130, 130..200
    assert agent[3] == {"not_ready": 10.0}


def test_report_over_the_day_agrees_with_the_live_view() -> None:
    agg = live()
    bucket = agg.buckets.of(NOW) or 0
    day_start = bucket * DAY
    report = replay(events(), Buckets(origin=day_start, width=900, start=day_start, end=NOW))
    buckets = {b for b, _, _ in report.queues}
    assert (
        report.queue_tally("sales", buckets).figures()
        == agg.queue_tally("sales", [bucket]).figures()
    )
    total = report.agent_tally(AGENT, -1)
    for b in {b for b, _ in report.agent_tallies}:
        total.add(report.agent_tally(AGENT, b))
    assert total.figures() == agg.agent_tally(AGENT, bucket, NOW).figures()


def test_a_transfer_counts_once_as_answered_and_once_as_transferred() -> None:
    script = [
        Event(1, "contact.created", 1, None, T0, {"channel": "voice", "queue": "sales"}),
        Event(2, "contact.queued", 1, None, T0, {"queue": "sales"}),
        Event(3, "contact.assigned", 1, AGENT, T0 + 4, {}),
        Event(4, "contact.requeued", 1, None, T0 + 34, {"queue": "vip", "reason": "transferred"}),
        Event(5, "contact.assigned", 1, 8, T0 + 40, {}),
        Event(6, "contact.ended", 1, None, T0 + 100, {"reason": "ended"}),
    ]
    agg = Aggregator(Buckets(origin=0.0, width=DAY), TARGETS)
    agg.apply_all(script[:4])
    assert agg.waiting["vip"] == {1: T0 + 34}
    agg.apply_all(script[4:])
    sales = agg.queue_tally("sales").figures()
    vip = agg.queue_tally("vip").figures()
    assert (sales["answered"], sales["transfers"], sales["transfer_rate"]) == (1, 1, 100.0)
    assert sales["talk_seconds"] == 30.0
    assert (vip["answered"], vip["handled"], vip["talk_seconds"]) == (0, 1, 60.0)
