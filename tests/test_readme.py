"""README is the operator's manual: every setting is in its configuration table."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [name for name in Settings.model_fields if f"CONTACTD_{name.upper()}" not in README]
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:600]
    assert "make run" in head
    assert "make test" in head
