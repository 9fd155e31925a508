"""Latencies the service measures about itself, exposed at /metrics (prometheus-client).

One registry per app, so several apps in one process (the tests) do not share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.routing_batch = Histogram(
            "contactd_routing_batch_seconds",
            "Time the router takes for one batch: read requests, decide, write, commit.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.routing_request_latency = Histogram(
            "contactd_routing_request_latency_seconds",
            "From a routing request's insert to the commit of the router's answer to it.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook = Histogram(
            "contactd_webhook_seconds",
            "Webhook handling time, answer included, by route.",
            ["route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
