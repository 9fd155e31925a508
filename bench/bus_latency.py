"""Publish on one instance's bus -> delivered to a listener on another, through Redis and
through NATS, beside the in-process bus of a single instance.

Prints, from one run against one Redis and one NATS server:
  * the ceilings: a raw publish -> subscriber round trip with each client library alone
    (redis-py PUBLISH -> pattern subscriber; nats-py core publish -> wildcard subscriber);
  * what durability would cost: a JetStream publish, acknowledged by the server (file
    storage), -> a push consumer, in a stream of its own deleted afterwards;
  * each bus (``InProcessBus``; ``RedisBus`` and ``NatsBus``: one ``Envelope`` encoded and
    decoded, the local fan-out): p50, p99 and max latency at a steady rate, and the
    sustained messages/s of a burst.

    .venv/bin/python bench/bus_latency.py [--redis redis://127.0.0.1:6379/0]
        [--nats nats://127.0.0.1:4222] [--messages 5000] [--rate 500]

Each run uses channels, subjects and a stream of its own (a random prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable

import nats
from redis.asyncio import Redis

from app.events.bus import EventBus, InProcessBus, NatsBus, RedisBus

MakeBus = Callable[[str, str], EventBus]


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms,"
        f" max {ordered[-1] * 1000:.2f} ms"
    )


async def _redis_ceiling(url: str, count: int) -> list[float]:
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


async def _nats_ceiling(url: str, count: int) -> list[float]:
    root = f"bench-{uuid.uuid4().hex}"
    client = await nats.connect(url)
    subscription = await client.subscribe(root + ".>")
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await client.publish(root + ".x", b"{}")
        await subscription.next_msg(timeout=1.0)
        samples.append(time.perf_counter() - started)
    await client.close()
    return samples


async def _jetstream(url: str, count: int) -> tuple[list[float], float]:
    """Acknowledged JetStream publish -> push consumer: the latencies, then the rate of
    a burst of publishes each awaiting its acknowledgement."""
    root = f"bench-{uuid.uuid4().hex}"
    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(name=root, subjects=[root + ".>"])
    subscription = await js.subscribe(root + ".>")
    samples = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            await js.publish(root + ".x", b"{}")
            message = await subscription.next_msg(timeout=1.0)
            await message.ack()
            samples.append(time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(count):
            await js.publish(root + ".x", b"{}")
        rate = count / (time.perf_counter() - started)
    finally:
        await js.delete_stream(root)
        await client.close()
    return samples, rate


async def _bus(make: MakeBus, count: int, rate: float) -> tuple[list[float], float]:
    """Steady-rate latencies from bus ``a`` to a listener on bus ``b``, then the rate of a
    burst; ``make(origin, prefix)`` gives each (the same one for the in-process bus)."""
    prefix = f"bench-{uuid.uuid4().hex}:"
    a = make("a", prefix)
    b = make("b", prefix)
    await a.start()
    await b.start()
    samples: list[float] = []
    arrived = asyncio.Event()

    def heard(message: dict[str, object]) -> None:
        sent = message.get("sent")
        if isinstance(sent, float):
            samples.append(time.perf_counter() - sent)
        if len(samples) >= count:
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
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500.0, help="steady messages/s")
    args = parser.parse_args()
    rounds = min(args.messages, 2000)
    print(f"ceiling redis (PUBLISH -> psubscribe): {_percentiles(await _redis_ceiling(args.redis, rounds))}")  # noqa: E501
    print(f"ceiling nats (publish -> subscriber): {_percentiles(await _nats_ceiling(args.nats, rounds))}")  # noqa: E501
    acked, acked_rate = await _jetstream(args.nats, rounds)
    print(f"jetstream (acked publish -> push consumer): {_percentiles(acked)}")
    print(f"jetstream burst: {acked_rate:,.0f} acked publishes/s")
    in_process = InProcessBus()
    buses: dict[str, MakeBus] = {
        "in-process": lambda origin, prefix: in_process,
        "redis": lambda origin, prefix: RedisBus(args.redis, origin=origin, prefix=prefix),
        "nats": lambda origin, prefix: NatsBus(args.nats, origin=origin, prefix=prefix),
    }
    for name, make in buses.items():
        steady, burst = await _bus(make, args.messages, args.rate)
        print(f"{name} bus at {args.rate:.0f}/s, {args.messages} messages: {_percentiles(steady)}")
        print(f"{name} bus burst: {burst:,.0f} messages/s delivered to the listener")


if __name__ == "__main__":
    asyncio.run(main())
