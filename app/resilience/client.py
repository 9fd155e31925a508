"""The one outbound HTTP client: a timeout per attempt, bounded retries with exponential
backoff (tenacity) for what may pass, and a circuit breaker.

* Retried: network errors and timeouts, 408, 429 and 5xx. Each counts as a failure of the
  remote side on the breaker.
* Not retried: any other answer. A 2xx is a success; another 4xx is a definite answer (the
  call is gone, the credentials are wrong, the record is unknown): it is returned to the
  caller and counts as the remote side being up.
* While the breaker is open nothing goes out: ``DeliveryFailed("<name>: circuit open")`` at
  once, so a system that is down costs nothing until it has had time to recover.

Time and sleep are passed in, so tests drive retries and the breaker without waiting.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn

import httpx
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from app.resilience.breaker import CircuitBreaker

log = structlog.get_logger(__name__)

Clock = Callable[[], float]


@cache
def tls_context() -> ssl.SSLContext:
    """The trust store every outbound client verifies with, loaded once per process (each
    new context parses the CA bundle again: about 60 ms of CPU)."""
    return httpx.create_ssl_context()


def http_client(**options: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on the shared ``tls_context``; ``options`` as httpx takes."""
    return httpx.AsyncClient(verify=tls_context(), **options)


Sleep = Callable[[float], Awaitable[None]]
_RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff_seconds: float = 0.2  # before the second attempt; then times backoff_factor
    backoff_factor: float = 2.0
    timeout_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class Delivery:
    status_code: int
    attempts: int


class DeliveryFailed(Exception):
    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class _Passing(Exception):
    """An attempt that failed in a way a later one may not."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def retryable(status_code: int) -> bool:
    return status_code >= 500 or status_code in _RETRYABLE_STATUS


class ResilientClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        name: str,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.name = name
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self._clock = clock
        self._sleep = sleep

    async def request(self, method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, int]:
        """The first success or definite answer, and the attempts it took; ``DeliveryFailed``
        when the breaker is open or every attempt failed in a way that may pass."""
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=wait_exponential(
                multiplier=self.policy.backoff_seconds, exp_base=self.policy.backoff_factor
            ),
            retry=retry_if_exception_type(_Passing),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if not self.breaker.allow(self._clock()):
                        raise DeliveryFailed(f"{self.name}: circuit open", attempts)
                    attempts += 1
                    return await self._attempt(method, url, kwargs), attempts
        except _Passing as exc:
            raise DeliveryFailed(exc.reason, attempts) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None = None,
    ) -> Delivery:
        """POST until it succeeds; a definite answer other than 2xx is ``DeliveryFailed``."""
        response, attempts = await self.request(
            "POST",
            url,
            content=content,
            headers=dict(headers),
            auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
        )
        if not response.is_success:
            raise DeliveryFailed(f"{self.name}: HTTP {response.status_code}", attempts)
        return Delivery(response.status_code, attempts)

    async def _attempt(self, method: str, url: str, kwargs: dict[str, Any]) -> httpx.Response:
        try:
            response = await self.http.request(
                method, url, timeout=self.policy.timeout_seconds, **kwargs
            )
        except httpx.HTTPError as exc:
            self._failed(f"{self.name}: {type(exc).__name__}")
        if retryable(response.status_code):
            self._failed(f"{self.name}: HTTP {response.status_code}")
        self.breaker.record_success()  # an answer, even a 4xx: the remote side is up
        return response

    def _failed(self, reason: str) -> NoReturn:
        self.breaker.record_failure(self._clock())
        log.warning("outbound_attempt_failed", target=self.name, reason=reason)
        raise _Passing(reason)
