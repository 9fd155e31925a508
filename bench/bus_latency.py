"""Publish on one instance's bus -> delivered to a listener on another, through Redis.

Prints, from one run against one Redis:
  * the ceiling: a raw PUBLISH -> pattern-subscriber round trip with redis-py alone;
  * the bus (``RedisBus``: one ``Envelope`` encoded and decoded, the local fan-out): p50,
    p99 and max latency at a steady rate, and the sustained messages/s of a burst.

    .venv/bin/python bench/bus_latency.py [--url redis://127.0.0.1:6379/0] [--messages 5000]

Each run uses channels of its own (a random prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from redis.asyncio import Redis

from app.events.bus import RedisBus


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms,"
        f" max {ordered[-1] * 1000:.2f} ms"
    )


async def _ceiling(url: str, count: int) -> list[float]:
    channel = f"bench-{uuid.uuid4().hex}"
    client = Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.psubscribe(channel + "*")
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await client.publish(channel + ":x", b"{}")
        while (await pubsub.get_message(timeout=1.0)) is None:
            pass
        samples.append(time.perf_counter() - started)
    await pubsub.aclose()
    await client.aclose()
    return samples


async def _bus(url: str, count: int, rate: float) -> tuple[list[float], float]:
    prefix = f"bench-{uuid.uuid4().hex}:"
    a = RedisBus(url, origin="a", prefix=prefix)
    b = RedisBus(url, origin="b", prefix=prefix)
    await a.start()
    await b.start()
    samples: list[float] = []
    arrived = asyncio.Event()
    expected = count

    def heard(message: dict[str, object]) -> None:
        sent = message.get("sent")
        if isinstance(sent, float):
            samples.append(time.perf_counter() - sent)
        if len(samples) >= expected:
            arrived.set()

    b.listen("agent:1", heard)
    for _ in range(count):  # steady rate
        await a.publish("agent:1", {"type": "offer", "contact_id": 1, "sent": time.perf_counter()})
        await asyncio.sleep(1 / rate)
    await asyncio.wait_for(arrived.wait(), 30)
    steady = list(samples)
    samples.clear()
    arrived.clear()
    started = time.perf_counter()
    for _ in range(count):  # burst
        await a.publish("agent:1", {"type": "offer", "contact_id": 1, "sent": time.perf_counter()})
    await asyncio.wait_for(arrived.wait(), 60)
    burst_rate = count / (time.perf_counter() - started)
    await a.close()
    await b.close()
    return steady, burst_rate


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500.0, help="steady messages/s")
    args = parser.parse_args()
    ceiling = await _ceiling(args.url, min(args.messages, 2000))
    print(f"ceiling (redis-py publish -> psubscribe round trip): {_percentiles(ceiling)}")
    steady, burst = await _bus(args.url, args.messages, args.rate)
    print(f"bus at {args.rate:.0f}/s, {args.messages} messages: {_percentiles(steady)}")
    print(f"bus burst: {burst:,.0f} messages/s delivered to the other instance")


if __name__ == "__main__":
    asyncio.run(main())
