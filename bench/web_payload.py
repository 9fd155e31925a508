"""What each web page loads on first visit, raw and gzip-compressed: its JavaScript beside
the target (≤ 300 KB compressed, issue 17), and its whole payload (page, scripts,
stylesheets, icon).

Follows the static ``import ... from './x.js'`` graph from each page's only script
(``console/main.js``, ``wallboard/main.js``, ``admin/main.js``) through ``app/web/static``:
exactly what the browser fetches before the first render. Sizes do not depend on the machine.

    .venv/bin/python bench/web_payload.py
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "app" / "web"
STATIC = WEB / "static"
PAGES = {  # page -> (its HTML, its entry module)
    "desktop": (WEB / "pages" / "console.html", STATIC / "console" / "main.js"),
    "wallboard": (WEB / "pages" / "wallboard.html", STATIC / "wallboard" / "main.js"),
    "admin": (WEB / "pages" / "admin.html", STATIC / "admin" / "main.js"),
}
ASSET = re.compile(r"""\{\{assets\}\}/([^"']+)""")
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


def _gzip(data: bytes) -> int:
    return len(gzip.compress(data, 9))


def report(name: str, page: Path, entry: Path) -> None:
    modules = module_graph(entry)
    raw = sum(len(p.read_bytes()) for p in modules)
    packed = sum(_gzip(p.read_bytes()) for p in modules)
    for path in sorted(modules):
        sys.stdout.write(f"  {path.relative_to(STATIC)}: {len(path.read_bytes()):,} B\n")
    sys.stdout.write(
        f"{name} JS: {len(modules)} modules, {raw / 1024:.1f} KiB raw, "
        f"{packed / 1024:.1f} KiB gzip -9 (target <= {TARGET_COMPRESSED // 1024} KiB)\n"
    )
    html = page.read_bytes()
    others = [STATIC / a for a in ASSET.findall(html.decode()) if not a.endswith(".js")]
    total = packed + _gzip(html) + sum(_gzip(p.read_bytes()) for p in others)
    sys.stdout.write(f"{name} page, JS, CSS and icon: {total / 1024:.1f} KiB gzip -9\n")


def main() -> None:
    for name, (page, entry) in PAGES.items():
        report(name, page, entry)


if __name__ == "__main__":
    main()
