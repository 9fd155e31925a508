"""The pure flow engine: every node type, retries, fallbacks, conditions and languages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidInput
from app.ivr.demo import demo_document
from app.ivr.dryrun import dry_run, parse_input
from app.ivr.engine import (
    CallerInput,
    CallerValue,
    Enqueue,
    Facts,
    Fetch,
    Gather,
    Hangup,
    Play,
    Record,
    RunState,
    Say,
    Transfer,
    Turn,
    advance,
    begin,
)
from app.ivr.flow import Flow
from app.ivr.metrics import aggregate
from app.ivr.store import parse_flow

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10 = datetime(2025, 3, 11, 10, 0, tzinfo=SHANGHAI)
TUESDAY_23 = datetime(2025, 3, 11, 23, 0, tzinfo=SHANGHAI)
NATIONAL_DAY = datetime(2025, 10, 1, 10, 0, tzinfo=SHANGHAI)  # a Wednesday, a holiday
CALLER = Facts(caller_number="+8613800138000")


def flow(nodes: dict[str, Any], **extra: Any) -> Flow:
    prompts = {
        key: {"text": {"zh-CN": f"{key} 中文", "en-US": f"{key} English"}}
        for key in ("ask", "bad", "none", "bye", "status", "hi")
    }
    return parse_flow({"start": "a", "prompts": prompts, "nodes": nodes, **extra})


def walk(f: Flow, *inputs: CallerInput, facts: Facts = CALLER, now: datetime = TUESDAY_10) -> Turn:
    turn = advance(f, begin(f, facts), CallerInput(kind="start"), facts, now)
    for given in inputs:
        turn = advance(f, turn.state, given, facts, now)
    return turn


def digits(value: str) -> CallerInput:
    return CallerInput(kind="digits", value=value)


NO_INPUT = CallerInput(kind="no_input")
MENU = {
    "type": "menu",
    "prompt": "ask",
    "choices": {"1": {"next": "sales", "speech": ["sales"]}, "2": {"next": "bye"}},
    "invalid_prompt": "bad",
    "no_input_prompt": "none",
    "retries": 2,
    "fallback": "operator",
}
ENDS = {
    "sales": {"type": "enqueue", "queue": "sales", "priority": 3},
    "operator": {"type": "enqueue", "queue": "support"},
    "bye": {"type": "hangup", "prompt": "bye"},
}


def test_say_then_menu_waits_and_a_choice_routes() -> None:
    f = flow({"a": {"type": "say", "prompt": "hi", "next": "m"}, "m": MENU, **ENDS})
    first = walk(f)
    assert first.instructions[0] == Say(text="hi 中文", language="zh-CN")
    gather = first.instructions[1]
    assert isinstance(gather, Gather)
    assert (gather.num_digits, gather.input, gather.hints) == (1, "dtmf speech", ["sales"])
    assert first.state.waiting == "input"
    routed = walk(f, digits("1"))
    order = routed.instructions[-1]
    assert isinstance(order, Enqueue)
    assert (order.queue, order.priority, routed.state.outcome) == ("sales", 3, "queued")
    assert walk(f, CallerInput(kind="speech", value="I want Sales please")).state.queue == "sales"


def test_invalid_and_no_input_are_retried_then_fall_back() -> None:
    f = flow({"a": MENU, **ENDS})
    once = walk(f, digits("9"))
    assert once.instructions[0] == Say(text="bad 中文", language="zh-CN")
    assert isinstance(once.instructions[1], Gather)
    twice = walk(f, digits("9"), NO_INPUT)
    assert twice.instructions[0] == Say(text="none 中文", language="zh-CN")
    assert twice.state.attempts == 2
    fell = walk(f, digits("9"), NO_INPUT, digits("8"))
    assert (fell.state.queue, fell.state.path) == ("support", ["a", "operator"])


def test_no_fallback_hangs_up_after_the_last_retry() -> None:
    menu = {**MENU, "retries": 0, "fallback": None}
    done = walk(flow({"a": menu, **ENDS}), digits("9"))
    assert done.instructions == [Hangup()]
    assert done.state.outcome == "failed"


def test_gather_validates_length_and_pattern_into_attributes() -> None:
    gather = {
        "type": "gather",
        "prompt": "ask",
        "min_length": 6,
        "max_length": 8,
        "pattern": "[1-9][0-9]+",
        "into": "order_no",
        "next": "line",
        "invalid_prompt": "bad",
    }
    f = flow({"a": gather, "line": {"type": "enqueue", "queue": "q"}})
    assert walk(f, digits("12345#")).state.node == "a"  # too short
    assert walk(f, digits("0123456#")).state.node == "a"  # pattern
    done = walk(f, digits("1234567#"))
    order = done.instructions[-1]
    assert isinstance(order, Enqueue)
    assert order.attributes == {"order_no": "1234567"}


def test_set_and_enqueue_combine_skills_priority_and_language() -> None:
    f = flow(
        {
            "a": {
                "type": "set",
                "language": "en-US",
                "skills": [{"skill": "english", "level": 2}],
                "priority": 7,
                "attributes": {"segment": "retail"},
                "next": "b",
            },
            "b": {
                "type": "enqueue",
                "queue": "billing",
                "skills": [{"skill": "billing", "level": 3}],
                "prompt": "hi",
            },
        },
        languages=["zh-CN", "en-US"],
    )
    done = walk(f)
    assert done.instructions[0] == Say(text="hi English", language="en-US")
    order = done.instructions[1]
    assert isinstance(order, Enqueue)
    assert [(s.skill, s.level) for s in order.skills] == [("english", 2), ("billing", 3)]
    assert (order.priority, order.language, order.attributes) == (7, "en-US", {"segment": "retail"})


HOURS = {
    "office": {
        "timezone": "Asia/Shanghai",
        "holiday_country": "CN",
        "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
}


@pytest.mark.parametrize(
    ("now", "expected"), [(TUESDAY_10, "sales"), (TUESDAY_23, "support"), (NATIONAL_DAY, "support")]
)
def test_business_hours_and_holidays(now: datetime, expected: str) -> None:
    f = flow(
        {
            "a": {
                "type": "condition",
                "branches": [{"when": {"type": "open", "hours": "office"}, "next": "sales"}],
                "otherwise": "operator",
            },
            **ENDS,
        },
        hours=HOURS,
    )
    assert walk(f, now=now).state.queue == expected


@pytest.mark.parametrize(
    ("check", "facts", "holds"),
    [
        ({"type": "value", "vip": True}, Facts(value=CallerValue(vip=True)), True),
        ({"type": "value", "vip": True}, Facts(), False),
        ({"type": "value", "grades": ["P", "G"]}, Facts(value=CallerValue(grade="G")), True),
        ({"type": "value", "grades": ["P"]}, Facts(value=CallerValue(grade="G")), False),
        (
            {"type": "value", "grades": ["P"], "vip": True},
            Facts(value=CallerValue(grade="P", vip=False)),
            False,
        ),
        ({"type": "value", "value_classes": ["key"]}, Facts(value=CallerValue()), False),
        (
            {"type": "value", "segments": ["win-back", "vip"]},
            Facts(value=CallerValue(segments=("win-back",))),
            True,
        ),
        ({"type": "value", "statuses": ["prospect"]}, Facts(), True),
        ({"type": "caller_known"}, Facts(customer_known=True), True),
        ({"type": "caller_known"}, Facts(), False),
        ({"type": "time", "days": ["tue"], "start": "09:00", "end": "11:00"}, Facts(), True),
        ({"type": "time", "days": ["sat", "sun"]}, Facts(), False),
        ({"type": "attribute", "name": "segment", "equals": "retail"}, Facts(), True),
        ({"type": "attribute", "name": "segment", "one_of": ["smb", "corp"]}, Facts(), False),
        ({"type": "attribute", "name": "missing"}, Facts(), False),
        ({"type": "language", "languages": ["zh-CN"]}, Facts(), True),
    ],
)
def test_conditions(check: dict[str, Any], facts: Facts, holds: bool) -> None:
    f = flow(
        {
            "a": {"type": "set", "attributes": {"segment": "retail"}, "next": "c"},
            "c": {
                "type": "condition",
                "branches": [{"when": check, "next": "sales"}],
                "otherwise": "operator",
            },
            **ENDS,
        }
    )
    assert (walk(f, facts=facts).state.queue == "sales") is holds


def test_http_lookup_result_goes_into_attributes_and_a_miss_takes_the_fallback() -> None:
    f = flow(
        {
            "a": {
                "type": "http",
                "url": "/orders/{order no}",
                "into": "order",
                "next": "said",
                "fallback": "operator",
            },
            "said": {"type": "say", "prompt": "status", "next": "bye"},
            **ENDS,
        },
    )
    asked = walk(f)
    fetch = asked.instructions[0]
    assert isinstance(fetch, Fetch)
    assert asked.state.waiting == "http"
    found = walk(f, CallerInput(kind="http_result", data={"status": "shipped"}))
    assert found.state.attributes == {"order": {"status": "shipped"}}
    assert found.state.outcome == "contained"
    assert walk(f, CallerInput(kind="http_failed")).state.queue == "support"


def test_http_url_quotes_the_attributes() -> None:
    f = flow(
        {
            "a": {"type": "set", "attributes": {"no": "1/2 3"}, "next": "h"},
            "h": {"type": "http", "url": "/o/{no}", "into": "o", "next": "bye", "fallback": "bye"},
            "bye": {"type": "hangup"},
        }
    )
    fetch = walk(f).instructions[0]
    assert isinstance(fetch, Fetch)
    assert fetch.url == "/o/1%2F2%203"


def test_prompts_quote_attributes_in_each_language() -> None:
    f = parse_flow(demo_document())
    state = RunState(
        language="en-US",
        attributes={"order_no": "123457", "order": {"status": "shipped", "status_zh": "已发货"}},
    )
    state.node, state.waiting = "order_lookup", "http"
    data = state.attributes["order"]
    turn = advance(f, state, CallerInput(kind="http_result", data=data), CALLER, TUESDAY_10)
    assert turn.instructions[0] == Say(text="Your order 123457 is shipped.", language="en-US")
    state.language = "zh-CN"
    turn = advance(f, state, CallerInput(kind="http_result", data=data), CALLER, TUESDAY_10)
    assert turn.instructions[0] == Say(text="您的订单123457目前状态为：已发货。", language="zh-CN")


def test_transfer_voicemail_callback_and_audio() -> None:
    f = flow(
        {
            "a": {
                "type": "menu",
                "prompt": "ask",
                "choices": {"1": {"next": "t"}, "2": {"next": "v"}, "3": {"next": "c"}},
            },
            "t": {"type": "transfer", "number": "+8621628899000"},
            "v": {"type": "voicemail", "prompt": "hi", "queue": "support", "thanks_prompt": "bye"},
            "c": {"type": "callback", "prompt": "bye", "queue": "support", "fallback": "v"},
        },
        prompts={
            "ask": {"audio": {"zh-CN": "https://cdn.example.com/menu.mp3"}},
            "hi": {"text": {"zh-CN": "留言"}},
            "bye": {"text": {"zh-CN": "再见"}},
        },
    )
    assert walk(f).instructions[0].prompts == [  # type: ignore[union-attr]
        Play(url="https://cdn.example.com/menu.mp3", language="zh-CN")
    ]
    transferred = walk(f, digits("1"))
    assert transferred.instructions == [Transfer(number="+8621628899000")]
    assert transferred.state.outcome == "transferred"
    recording = walk(f, digits("2"))
    assert isinstance(recording.instructions[-1], Record)
    message = walk(f, digits("2"), CallerInput(kind="recording", value="https://r.example/1"))
    order = message.instructions[0]
    assert isinstance(order, Enqueue)
    assert (order.kind, order.recording_url, message.state.outcome) == (
        "voicemail",
        "https://r.example/1",
        "voicemail",
    )
    assert walk(f, digits("2"), CallerInput(kind="recording")).state.outcome == "no_message"
    callback = walk(f, digits("3"))
    assert isinstance(callback.instructions[0], Enqueue)
    assert callback.instructions[0].kind == "callback"
    unknown = walk(f, digits("3"), facts=Facts())
    assert unknown.state.node == "v"  # no number to call back: the fallback


def test_a_loop_without_input_is_cut() -> None:
    f = flow(
        {
            "a": {"type": "say", "prompt": "hi", "next": "b"},
            "b": {"type": "say", "prompt": "hi", "next": "a"},
        }
    )
    done = walk(f)
    assert done.state.outcome == "loop"
    assert done.instructions[-1] == Hangup()


def test_the_customer_language_and_bilingual_prompts() -> None:
    f = parse_flow(demo_document())
    english = begin(f, Facts(customer_language="en-US"))
    assert english.language == "en-US"
    assert begin(f, Facts(customer_language="fr-FR")).language == "zh-CN"
    first = walk(f)
    gather = first.instructions[0]
    assert isinstance(gather, Gather)
    assert [p.language for p in gather.prompts] == ["zh-CN", "en-US"]


def test_dangling_names_are_listed() -> None:
    with pytest.raises(InvalidInput) as caught:
        flow({"a": {"type": "say", "prompt": "nope", "next": "gone"}}, hours={})
    missing = caught.value.details["missing"]
    assert {"kind": "prompt", "name": "nope", "in": "a"} in missing
    assert {"kind": "node", "name": "gone", "in": "a"} in missing


async def test_the_demo_dry_run_with_a_vip() -> None:
    f = parse_flow(demo_document())
    vip = Facts(caller_number="+8613800138000", customer_known=True, value=CallerValue(vip=True))
    result = await dry_run(f, [], vip, TUESDAY_10)
    assert (result.outcome, result.queue, result.priority) == ("queued", "vip", 50)
    night = await dry_run(f, [parse_input(t) for t in ["2", "2"]], CALLER, TUESDAY_23)
    assert (night.outcome, night.queue) == ("callback", "support")


def test_metrics_aggregate_per_flow_and_node() -> None:
    events = [
        ("ivr.started", {}),
        ("ivr.node_entered", {"node": "menu"}),
        ("ivr.completed", {"node": "sales", "outcome": "queued", "queue": "sales"}),
        ("ivr.started", {}),
        ("ivr.node_entered", {"node": "menu"}),
        ("ivr.hung_up", {"node": "menu"}),
        ("ivr.started", {}),
        ("ivr.completed", {"node": "bye", "outcome": "contained", "queue": None}),
    ]
    metrics = aggregate(events)
    assert (metrics.started, metrics.completed, metrics.hung_up, metrics.contained) == (3, 2, 1, 1)
    assert metrics.routed == {"sales": 1}
    assert metrics.nodes["menu"].entered == 2
    assert metrics.nodes["menu"].hung_up == 1
    assert metrics.nodes["sales"].routed == {"sales": 1}
