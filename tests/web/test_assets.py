"""The asset build id: one hash of the whole static tree, moved by any byte or name."""

from __future__ import annotations

from pathlib import Path

from app.web.assets import build_id


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_build_id_follows_every_byte_and_name(tmp_path: Path) -> None:
    first = build_id(_tree(tmp_path / "a", {"console/main.js": "1", "vendor/x.js": "x"}))
    same = build_id(_tree(tmp_path / "b", {"vendor/x.js": "x", "console/main.js": "1"}))
    edited = build_id(_tree(tmp_path / "c", {"console/main.js": "2", "vendor/x.js": "x"}))
    renamed = build_id(_tree(tmp_path / "d", {"console/app.js": "1", "vendor/x.js": "x"}))
    assert first == same
    assert len({first, edited, renamed}) == 3
    assert len(first) == 12
    assert all(c in "0123456789abcdef" for c in first)
