"""Docs are references: every ``CONTACTD_`` setting they name exists in ``app/config.py``
with the default they state, and README's Demo section lists what the demo really loads."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

from pydantic_core import PydanticUndefined

from app.config import Settings
from app.demo.loader import ADMIN, AGENT_PASSWORD, AGENTS, DEMO_HOTLINE, QUEUES, SUPERVISOR

ROOT = Path(__file__).resolve().parent.parent
DOCS = {
    path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
NOT_SETTINGS = {
    "TEST_DATABASE_URL",
    "BENCH_DATABASE_URL",
    "TEST_REDIS_PORT",
    "SCHEMA_EXAMPLES",
}  # tests and benches
NAMED = re.compile(r"CONTACTD_([A-Z][A-Z0-9_]*[A-Z0-9])")
ROW = re.compile(r"^\|(?P<names>[^|]*)\|(?P<second>[^|]*)\|", re.MULTILINE)


def _bare_names_in_prefixed_tables(text: str) -> list[str]:
    """Names in the first column of tables whose header says ``CONTACTD_…``."""
    names: list[str] = []
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
        elif "CONTACTD_…" in line:
            in_table = True
        elif in_table:
            first = line.split("|")[1]
            names += re.findall(r"`([A-Z][A-Z0-9_]*)`", first)
    return names


def test_every_setting_the_docs_name_exists() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    unknown = {
        (doc, name)
        for doc, text in DOCS.items()
        for name in [*NAMED.findall(text), *_bare_names_in_prefixed_tables(text)]
        if name not in fields and name not in NOT_SETTINGS
    }
    assert unknown == set()


def _stated(cell: str) -> list[str | None]:
    """The defaults a README cell states: a literal each, None for ``unset``."""
    parts = [part.strip() for part in cell.split(" / ")]
    return [None if part == "unset" else part.strip("`") for part in parts]


def _default(name: str) -> str | None:
    field = Settings.model_fields[name.lower()]
    value = field.default
    if value is None or value is PydanticUndefined:
        return None
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_readme_defaults_match_the_settings() -> None:
    checked = 0
    for row in ROW.finditer(DOCS["README.md"]):
        names = NAMED.findall(row["names"])
        stated = _stated(row["second"])
        if not names or len(stated) != len(names) or names[0] in NOT_SETTINGS:
            continue
        for name, default in zip(names, stated, strict=True):
            if default is None or "`" in row["second"]:
                assert default == _default(name), name
                checked += 1
    assert checked >= 30


def test_readme_demo_section_lists_the_demo() -> None:
    readme = DOCS["README.md"]
    demo = readme[readme.index("## Demo") : readme.index("## Configuration")]
    for login in (ADMIN, SUPERVISOR):
        assert f"| `{login.username}` | `{login.password}` |" in demo
    assert f"| `{AGENT_PASSWORD}` | agent |" in demo
    for agent in AGENTS:
        assert f"`{agent.username}`" in demo
    for spec in QUEUES:
        (row,) = [line for line in demo.splitlines() if line.startswith(f"| {spec.name} |")]
        assert (spec.phone in row) == ("voice" in spec.channels)
        assert (spec.email in row) == ("email" in spec.channels)
        assert (f"`{spec.name}`" in row) == ("chat" in spec.channels)
    assert DEMO_HOTLINE in demo
