"""The wallboard at rest: Chromium's CPU while the board is open and nothing changes.

Starts ``contactd serve --demo`` on a fresh database, signs a supervisor in to
``/wallboard`` in Debian's headless Chromium (``/usr/bin/chromium``, driven by Playwright),
waits for the tiles and lets the board settle, then reads the CPU time of every Chromium
process (``/proc/<pid>/stat``: user + system) over the measuring window. Nothing reaches
the center meanwhile, so whatever the board spends is its own idling (timers, redraws, the
socket's heartbeats). The same-run floor: the same browser on ``about:blank`` for the same
window. Target: < 2 % of one core.

    .venv/bin/python bench/wallboard_idle.py [--seconds 30]

The database is CONTACTD_BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/
contactd_bench_wallboard; it is emptied and migrated first, and the demo loaded into it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _common import fresh_database
from playwright.async_api import Browser, async_playwright

from app.demo.loader import SUPERVISOR

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_wallboard"
CHROMIUM = "/usr/bin/chromium"
SETTLE_SECONDS = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


def _chromium_pids() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if command.endswith(b"chromium") or b"/chromium/" in command:
            found.add(int(entry.name))
    return found


def _cpu_seconds(pids: set[int]) -> float:
    """User + system CPU of ``pids`` so far (processes gone meanwhile count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


async def _busy_fraction(seconds: float) -> float:
    pids = _chromium_pids()
    start_cpu, start = _cpu_seconds(pids), time.monotonic()
    await asyncio.sleep(seconds)
    pids |= _chromium_pids()
    return (_cpu_seconds(pids) - start_cpu) / (time.monotonic() - start)


def _start_service(database_url: str, port: int) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONTACTD_")}
    environment |= {
        "CONTACTD_DATABASE_URL": database_url,
        "CONTACTD_LOG_LEVEL": "WARNING",
        "CONTACTD_CARE_ENABLED": "false",
    }
    contactd = Path(sys.executable).parent / "contactd"
    return subprocess.Popen(  # noqa: S603 - our own command line
        [str(contactd), "serve", "--demo", "--port", str(port), "--smtp-port", "0"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(600):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("the service did not become ready")


async def _measure(browser: Browser, base: str, seconds: float) -> tuple[float, float]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto("about:blank")
    await asyncio.sleep(SETTLE_SECONDS)
    floor = await _busy_fraction(seconds)
    await page.goto(f"{base}/wallboard")
    await page.get_by_label("Username").fill(SUPERVISOR.username)
    await page.get_by_label("Password").fill(SUPERVISOR.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator(".tile").first.wait_for(timeout=60_000)
    await asyncio.sleep(SETTLE_SECONDS)
    board = await _busy_fraction(seconds)
    await context.close()
    return board, floor


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    database_url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", DEFAULT_URL)
    await fresh_database(database_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = _start_service(database_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                board, floor = await _measure(browser, base, args.seconds)
            finally:
                await browser.close()
    finally:
        service.terminate()
        service.wait(timeout=30)
    print(f"wallboard open and idle, {args.seconds:.0f} s: Chromium CPU {board:.2%} of one core")
    print(f"same-run floor, about:blank:          Chromium CPU {floor:.2%} of one core")
    print("target: < 2 % of one core")


if __name__ == "__main__":
    asyncio.run(main())
