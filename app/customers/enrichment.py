"""Optional enrichment of the screen-pop from an external CRM.

``GET {url}?customer_id=N`` answers a JSON object, shown as the pop's ``enrichment``; a 404
means the CRM does not know the customer (``enrichment: null``, and not a failure).

* **Budget:** the pop waits for the CRM at most ``timeout`` seconds from the moment the pop
  started to be built. A lookup that takes longer goes on in the background (up to
  ``fetch_timeout``) and fills the cache, so the next pop of that customer has it.
* **Cache:** answers (404s included) are kept ``cache_seconds``, at most ``cache_size`` of
  them (the oldest go first). Pops of one customer built at the same time share one
  request.
* **Circuit breaker:** failures (network errors, ``fetch_timeout`` exceeded, 5xx and other
  error statuses, an answer that is not a JSON object) in a row open it after
  ``failure_threshold``; the CRM is then not called for ``cool_down_seconds``, after which
  one probe goes out.

Nothing the CRM does can fail or hold up the pop beyond the budget.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from app.resilience.breaker import CircuitBreaker
from app.resilience.client import http_client

log = structlog.get_logger(__name__)

Answer = dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PendingLookup:
    """A lookup started for one pop, and until when (loop time) that pop waits for it."""

    task: asyncio.Task[Answer]
    deadline: float

    async def result(self) -> Answer:
        """The CRM's answer if it came within the budget; None otherwise (the lookup itself
        is not cancelled: it goes on and fills the cache)."""
        remaining = max(self.deadline - asyncio.get_running_loop().time(), 0.0)
        done, _ = await asyncio.wait({self.task}, timeout=remaining)
        if not done or self.task.cancelled() or self.task.exception() is not None:
            return None
        return self.task.result()


class CrmEnricher:
    def __init__(
        self,
        url: str | None,
        *,
        timeout: float = 0.3,
        fetch_timeout: float = 5.0,
        cache_seconds: float = 300.0,
        cache_size: int = 10_000,
        failure_threshold: int = 3,
        cool_down_seconds: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.fetch_timeout = max(fetch_timeout, timeout)
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self.breaker = CircuitBreaker(
            failure_threshold=failure_threshold, cool_down_seconds=cool_down_seconds
        )
        self._cache: OrderedDict[int, tuple[float, Answer]] = OrderedDict()
        self._inflight: dict[int, asyncio.Task[Answer]] = {}
        self._client = client

    def start(self, customer_id: int) -> PendingLookup | None:
        """Start (or join) the lookup of this customer; None when no CRM is configured.

        The enricher keeps a reference to the task, so a lookup that outlives its pop is
        neither garbage-collected nor left running after ``aclose``."""
        if self.url is None:
            return None
        loop = asyncio.get_running_loop()
        task = self._inflight.get(customer_id)
        if task is None:
            task = loop.create_task(self.lookup(customer_id), name=f"crm-lookup-{customer_id}")
            self._inflight[customer_id] = task
            task.add_done_callback(lambda done: self._forget(customer_id, done))
        return PendingLookup(task, loop.time() + self.timeout)

    def _forget(self, customer_id: int, task: asyncio.Task[Answer]) -> None:
        if self._inflight.get(customer_id) is task:
            del self._inflight[customer_id]

    async def lookup(self, customer_id: int) -> Answer:
        """The CRM's answer for this customer (cached, or fetched now); None when there is
        none, the CRM failed, or the breaker is open. Never raises (but for cancellation)."""
        if self.url is None:
            return None
        hit, cached = self._cached(customer_id, time.monotonic())
        if hit:
            return cached
        if not self.breaker.allow(time.monotonic()):
            return None
        try:
            found = await self._fetch(customer_id)
        except Exception as exc:  # a CRM failure of any kind must never break the pop
            self.breaker.record_failure(time.monotonic())
            log.warning(
                "crm_enrichment_failed",
                customer_id=customer_id,
                error=type(exc).__name__,
                breaker=self.breaker.state(time.monotonic()).value,
            )
            return None
        self.breaker.record_success()
        self._remember(customer_id, time.monotonic(), found)
        return found

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = http_client(timeout=self.fetch_timeout)
        return self._client

    async def _fetch(self, customer_id: int) -> Answer:
        assert self.url is not None
        async with asyncio.timeout(self.fetch_timeout):
            response = await self._http().get(
                self.url, params={"customer_id": customer_id}, timeout=self.fetch_timeout
            )
        if response.status_code == httpx.codes.NOT_FOUND:
            return None  # the CRM does not know this customer: an answer, not a failure
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("CRM answer is not an object")
        return body

    def _cached(self, customer_id: int, now: float) -> tuple[bool, Answer]:
        entry = self._cache.get(customer_id)
        if entry is None:
            return False, None
        if now - entry[0] >= self.cache_seconds:
            del self._cache[customer_id]
            return False, None
        return True, entry[1]

    def _remember(self, customer_id: int, now: float, found: Answer) -> None:
        self._cache.pop(customer_id, None)
        self._cache[customer_id] = (now, found)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def aclose(self) -> None:
        pending = list(self._inflight.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
