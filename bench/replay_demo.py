"""The demo's month, loaded and replayed: the fidelity table and how long it took.

Loads the demo into a fresh database (CONTACTD_BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/contactd_bench_replay; emptied first), then replays
its last 31 days under the configuration in force, as ``contactd simulate --replay`` does,
and prints the report (fidelity first) beside the seconds it took and a same-run ceiling
(a 10-million-step Python loop).

    .venv/bin/python bench/replay_demo.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

from _common import fresh_database
from replay import python_loop_seconds

from app.demo.run import load_demo_if_empty
from app.routing.replay import WhatIf, render_replay, replay_period

LOCAL = "postgresql://postgres@127.0.0.1:5432/contactd_bench_replay"


async def main(seeds: int) -> None:
    url = os.environ.get("CONTACTD_BENCH_DATABASE_URL", LOCAL)
    await fresh_database(url)
    started = time.perf_counter()
    await load_demo_if_empty(url, "CN")
    loaded = time.perf_counter() - started
    end = datetime.now(UTC)
    ceiling = python_loop_seconds()
    started = time.perf_counter()
    report = await replay_period(url, end - timedelta(days=31), end, WhatIf(), seeds=seeds)
    replayed = time.perf_counter() - started
    print(render_replay(report))
    print(
        f"\ndemo loaded in {loaded:.1f} s; replay of {report['contacts']} contacts over"
        f" {seeds} seeds {replayed:.1f} s; ceiling: 10M-step Python loop {ceiling:.2f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    asyncio.run(main(parser.parse_args().seeds))
