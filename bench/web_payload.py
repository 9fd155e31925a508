"""The JavaScript the agent desktop loads on first visit, raw and gzip-compressed, beside
the target (≤ 300 KB compressed, issue 17).

Follows the static ``import ... from './x.js'`` graph from ``console/main.js`` (the page's
only script) through ``app/web/static``: exactly what the browser fetches before the first
render. Sizes do not depend on the machine.

    .venv/bin/python bench/web_payload.py
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "app" / "web" / "static"
ENTRY = STATIC / "console" / "main.js"
TARGET_COMPRESSED = 300 * 1024
IMPORT = re.compile(r"""(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}/[^'"]+)['"]""")


def module_graph(entry: Path) -> list[Path]:
    seen: list[Path] = []
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        source = path.read_text(encoding="utf-8")
        todo += [(path.parent / target).resolve() for target in IMPORT.findall(source)]
    return seen


def main() -> None:
    modules = module_graph(ENTRY)
    raw = sum(len(p.read_bytes()) for p in modules)
    packed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in modules)
    for path in sorted(modules):
        sys.stdout.write(f"  {path.relative_to(STATIC)}: {len(path.read_bytes()):,} B\n")
    sys.stdout.write(
        f"desktop JS: {len(modules)} modules, {raw / 1024:.1f} KiB raw, "
        f"{packed / 1024:.1f} KiB gzip -9 (target <= {TARGET_COMPRESSED // 1024} KiB)\n"
    )


if __name__ == "__main__":
    main()
