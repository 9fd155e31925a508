"""Optional enrichment of the screen-pop from an external CRM.

Called while the pop is built, with a short timeout, a small cache and a circuit breaker:
a slow or failing CRM costs the pop at most ``timeout`` seconds once, then nothing until
the breaker's cool-down has passed. Its failure never breaks the pop: the pop carries
``enrichment: null``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import structlog

from app.channels.voice.breaker import CircuitBreaker

log = structlog.get_logger(__name__)


class CrmEnricher:
    def __init__(
        self,
        url: str | None,
        *,
        timeout: float = 0.3,
        cache_seconds: float = 300.0,
        cache_size: int = 10_000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self.breaker = CircuitBreaker(failure_threshold=3, cool_down_seconds=30.0)
        self._cache: dict[int, tuple[float, dict[str, Any]]] = {}
        self._client = client

    async def lookup(self, customer_id: int) -> dict[str, Any] | None:
        if self.url is None:
            return None
        now = time.monotonic()
        cached = self._cache.get(customer_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        if not self.breaker.allow(now):
            return None
        try:
            found = await self._fetch(customer_id)
        except (httpx.HTTPError, ValueError):
            self.breaker.record_failure(time.monotonic())
            log.warning("crm_enrichment_failed", customer_id=customer_id)
            return None
        self.breaker.record_success()
        self._remember(customer_id, now, found)
        return found

    async def _fetch(self, customer_id: int) -> dict[str, Any]:
        assert self.url is not None
        client = self._client or httpx.AsyncClient()
        try:
            response = await client.get(
                self.url, params={"customer_id": customer_id}, timeout=self.timeout
            )
            response.raise_for_status()
            body = response.json()
        finally:
            if self._client is None:
                await client.aclose()
        if not isinstance(body, dict):
            raise ValueError("CRM answer is not an object")
        return body

    def _remember(self, customer_id: int, now: float, found: dict[str, Any]) -> None:
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[customer_id] = (now, found)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
