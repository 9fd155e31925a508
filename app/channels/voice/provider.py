"""Talking to the voice providers: Twilio's REST API and a PBX's CTI command URL.

Every request goes through ``ResilientClient``: a timeout per attempt, a bounded number of
attempts with exponential backoff for what may pass (network errors, timeouts, 408, 429,
5xx), and a circuit breaker so a provider that is down costs nothing but an immediate
"circuit open" until it has had time to recover. A 4xx other than 408/429 is an answer
(the call is gone, the credentials are wrong): it is not retried and does not count
against the provider's health.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import structlog

from app.channels.voice.breaker import CircuitBreaker
from app.channels.voice.cti_signature import HEADER as CTI_SIGNATURE_HEADER
from app.channels.voice.cti_signature import signature_header

log = structlog.get_logger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
_RETRYABLE_STATUS = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff_seconds: float = 0.2
    backoff_factor: float = 2.0
    timeout_seconds: float = 5.0

    def delay_before(self, attempt: int) -> float:
        """The pause before attempt number ``attempt`` (2, 3, ...)."""
        return self.backoff_seconds * self.backoff_factor ** (attempt - 2)


@dataclass(frozen=True, slots=True)
class Delivery:
    status_code: int
    attempts: int


class DeliveryFailed(Exception):
    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


def _retryable(status_code: int) -> bool:
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

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str],
        auth: tuple[str, str] | None = None,
    ) -> Delivery:
        """POST until it succeeds, a definite answer comes, or attempts run out."""
        reason = "no attempt made"
        for attempt in range(1, self.policy.attempts + 1):
            if attempt > 1:
                await self._sleep(self.policy.delay_before(attempt))
            if not self.breaker.allow(self._clock()):
                raise DeliveryFailed(f"{self.name}: circuit open", attempt - 1)
            try:
                response = await self.http.post(
                    url,
                    content=content,
                    headers=dict(headers),
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                    timeout=self.policy.timeout_seconds,
                )
            except httpx.HTTPError as exc:
                self.breaker.record_failure(self._clock())
                reason = f"{self.name}: {type(exc).__name__}"
                log.warning("voice_provider_attempt_failed", provider=self.name, reason=reason)
                continue
            if response.is_success:
                self.breaker.record_success()
                return Delivery(response.status_code, attempt)
            if not _retryable(response.status_code):
                self.breaker.record_success()  # the provider answered: it is up
                raise DeliveryFailed(f"{self.name}: HTTP {response.status_code}", attempt)
            self.breaker.record_failure(self._clock())
            reason = f"{self.name}: HTTP {response.status_code}"
            log.warning("voice_provider_attempt_failed", provider=self.name, reason=reason)
        raise DeliveryFailed(reason, self.policy.attempts)


class TwilioCalls:
    """Live-call control through Twilio's (or a compatible provider's) REST API."""

    def __init__(
        self,
        client: ResilientClient,
        base_url: str,
        auth_token: str | None,
        account_sid: str | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.account_sid = account_sid  # who we authenticate as; else the call's account

    def call_url(self, account_sid: str, call_sid: str) -> str:
        account, call = quote(account_sid, safe=""), quote(call_sid, safe="")
        return f"{self.base_url}/2010-04-01/Accounts/{account}/Calls/{call}.json"

    async def update_twiml(self, account_sid: str, call_sid: str, twiml: str) -> Delivery:
        """Replace what the live call is doing with ``twiml``."""
        if self.auth_token is None:
            raise DeliveryFailed("twilio: CONTACTD_TWILIO_AUTH_TOKEN is not set", 0)
        return await self.client.post(
            self.call_url(account_sid, call_sid),
            content=urlencode({"Twiml": twiml}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(self.account_sid or account_sid, self.auth_token),
        )


class CtiCommands:
    """Commands to the PBX: JSON POSTed to the command URL, signed like its events."""

    def __init__(
        self,
        client: ResilientClient,
        url: str | None,
        secret: str | None,
        clock: Clock = time.time,
    ) -> None:
        self.client = client
        self.url = url
        self.secret = secret
        self._clock = clock

    async def send(self, command: dict[str, Any]) -> Delivery:
        if self.url is None or self.secret is None:
            raise DeliveryFailed(
                "cti: CONTACTD_CTI_COMMAND_URL and CONTACTD_CTI_SECRET must both be set", 0
            )
        body = json.dumps(command, ensure_ascii=False, separators=(",", ":")).encode()
        signature = signature_header(self.secret, int(self._clock()), body)
        return await self.client.post(
            self.url,
            content=body,
            headers={"Content-Type": "application/json", CTI_SIGNATURE_HEADER: signature},
        )
