"""IVR lookups retry what may pass, take a 4xx as a miss at once, and stop calling a lookup
service that keeps failing (one breaker for every lookup of the instance)."""

from __future__ import annotations

import httpx

from app.ivr.engine import Fetch
from app.ivr.lookup import Lookups
from app.resilience.breaker import CircuitBreaker


def _lookups(
    statuses: list[int], breaker: CircuitBreaker | None = None
) -> tuple[Lookups, list[int]]:
    reached: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        status = statuses[len(reached)] if len(reached) < len(statuses) else 200
        reached.append(status)
        return httpx.Response(status, json={"status": "shipped"})

    lookups = Lookups(
        "https://crm.example.cn",
        transport=httpx.MockTransport(answer),
        breaker=breaker or CircuitBreaker(),
    )
    return lookups, reached


def _fetch(retries: int) -> Fetch:
    return Fetch(url="/orders/42", method="GET", timeout_seconds=1, retries=retries)


async def test_a_server_error_is_retried_and_a_4xx_is_a_miss_at_once() -> None:
    lookups, reached = _lookups([503, 200])
    found = await lookups.fetch(_fetch(retries=2))
    assert (found.kind, found.data, reached) == ("http_result", {"status": "shipped"}, [503, 200])

    lookups, reached = _lookups([404])
    missed = await lookups.fetch(_fetch(retries=2))
    assert (missed.kind, missed.value, reached) == ("http_failed", "404", [404])


async def test_a_failing_lookup_service_is_not_called_once_the_breaker_opens() -> None:
    lookups, reached = _lookups([500] * 10, CircuitBreaker(failure_threshold=3))
    for _ in range(3):
        assert (await lookups.fetch(_fetch(retries=0))).kind == "http_failed"
    assert len(reached) == 3
    assert (await lookups.fetch(_fetch(retries=0))).kind == "http_failed"
    assert len(reached) == 3  # refused at once: nothing went out
