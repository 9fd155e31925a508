"""``contactd ivr try``: the demo flow walked from the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.ivr.cli import ivr_app

TUESDAY_10 = "2025-03-11T10:00:00+08:00"


def test_try_shows_each_step_and_the_end() -> None:
    result = CliRunner().invoke(ivr_app, ["try", "demo", "--digits", "1,3", "--at", TUESDAY_10])
    assert result.exit_code == 0, result.output
    assert "set_english > hours_check > main_menu" in result.output
    assert "ends: queued in queue billing; language en-US; skills english:2, billing:2" in (
        result.output
    )


def test_try_refuses_a_flow_with_a_dangling_reference(tmp_path: Path) -> None:
    broken = tmp_path / "flow.yaml"
    broken.write_text("start: a\nnodes:\n  a: {type: hangup, prompt: missing}\n")
    result = CliRunner().invoke(ivr_app, ["try", str(broken)])
    assert result.exit_code == 1
    assert "prompt 'missing'" in result.output
