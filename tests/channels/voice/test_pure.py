"""TwiML documents, hold time, and the CTI event schema kept in step with its docs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest
from pydantic import ValidationError

from app.channels.voice import twiml
from app.channels.voice.schemas import CtiEvent
from app.channels.voice.service import hold_seconds

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_bridge_twiml_is_exactly_a_dial_to_the_agent_client() -> None:
    assert twiml.dial_client("agent-li.na") == (
        "<Response><Dial><Client>agent-li.na</Client></Dial></Response>"
    )
    assert "&lt;b&gt;&amp;" in twiml.dial_client("agent-<b>&")


def test_greeting_uses_the_language_and_escapes_the_url() -> None:
    document = fromstring(  # noqa: S314 (our own output)
        twiml.greeting_then_hold("en-US", None, "https://x.test/hold?contact=1&a=b")
    )
    say, redirect = list(document)
    assert (say.tag, say.get("language")) == ("Say", "en-US")
    assert say.text == twiml.ENGLISH.greeting
    assert redirect.text == "https://x.test/hold?contact=1&a=b"


def test_hold_says_position_and_rounds_the_wait_up() -> None:
    document = fromstring(  # noqa: S314
        twiml.hold(
            "zh-CN",
            "https://m.test/a.mp3",
            "https://x.test/h",
            position=3,
            expected_wait_seconds=61,
        )
    )
    say, music, again = list(document)
    assert say.text == "您目前排在第3位，预计等待约2分钟。"
    assert (music.tag, music.text, again.tag) == ("Play", "https://m.test/a.mp3", "Redirect")


def test_hold_gives_the_place_but_no_figure_when_the_wait_is_unknown() -> None:
    document = fromstring(  # noqa: S314
        twiml.hold(
            "en-US",
            "https://m.test/a.mp3",
            "https://x.test/h",
            position=1,
            expected_wait_seconds=None,
        )
    )
    assert document[0].text == twiml.ENGLISH.position_unknown_wait.format(position=1)
    assert "minute" not in document[0].text


def test_closed_voicemail_records_to_our_endpoint() -> None:
    document = fromstring(  # noqa: S314
        twiml.closed("zh-CN", "voicemail", "https://x.test/vm?contact=4", caller_known=True)
    )
    assert [v.tag for v in document] == ["Say", "Record", "Say", "Hangup"]
    assert document[1].get("action") == "https://x.test/vm?contact=4"


def test_unknown_language_falls_back_to_chinese() -> None:
    assert twiml.say_language("klingon") == "zh-CN"
    assert twiml.prompts_for("en-GB") is twiml.ENGLISH


def test_hold_seconds_sums_spans_in_time_order() -> None:
    marks = [
        ("resumed", at(25)),  # arrived before its hold
        ("held", at(10)),
        ("held", at(40)),
        ("held", at(41)),  # a repeated hold counts once
        ("resumed", at(45)),
        ("resumed", at(50)),  # no hold open: nothing
    ]
    assert hold_seconds(marks, at(60)) == 20.0


def test_hold_still_open_at_the_end_counts_until_the_end() -> None:
    assert hold_seconds([("held", at(50))], at(60)) == 10.0
    assert hold_seconds([("held", at(50))], None) == 0.0
    assert hold_seconds([], at(60)) == 0.0


def test_schema_file_is_generated_from_the_model() -> None:
    path = ROOT / "docs" / "cti-events.schema.json"
    assert json.loads(path.read_text()) == CtiEvent.model_json_schema(), (
        "regenerate docs/cti-events.schema.json (see docs/voice.md)"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "call.offered", "to": None},
        {"type": "dtmf", "data": {}},
        {"type": "dtmf", "data": {"digits": "12x"}},
        {"type": "recording.ready", "data": {"url": "ftp://x/y"}},
        {"timestamp": "2025-01-06T09:00:00"},  # no offset
        {"unexpected": 1},
        {"id": ""},
    ],
)
def test_cti_event_validation(changes: dict[str, object]) -> None:
    event = {
        "id": "e1",
        "type": "call.answered",
        "call_id": "c1",
        "timestamp": "2025-01-06T09:00:00+08:00",
        "to": "+864008001234",
    }
    CtiEvent.model_validate(event)
    with pytest.raises(ValidationError):
        CtiEvent.model_validate({**event, **changes})
