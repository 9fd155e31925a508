"""The HTTP lookup node's call: the JSON result or a miss.

It goes through the shared ``ResilientClient`` (``app.resilience``): the node's timeout per
attempt, ``1 + retries`` attempts with backoff on network errors, 408, 429 and 5xx, and one
circuit breaker for all lookups, so a lookup service that is down makes callers take the
node's fallback at once instead of waiting out every timeout.

Where a lookup may go (SSRF): the lookup base's host and the hosts of
``CONTACTD_IVR_LOOKUP_ALLOWED_HOSTS`` always; with no list, any other host too, but only
if every address it resolves to is global (not private, loopback, link-local, reserved).
A refused URL is a miss (``http_failed``, value ``host_not_allowed``) and takes the node's
fallback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from app.ivr.engine import CallerInput, Fetch
from app.resilience.breaker import CircuitBreaker
from app.resilience.client import DeliveryFailed, ResilientClient, RetryPolicy

MAX_RESULT_BYTES = 64 * 1024
RETRY_BACKOFF_SECONDS = 0.05
log = structlog.get_logger(__name__)


@dataclass
class Lookups:
    """Where relative lookup URLs point, and (for tests) the transport to use."""

    base_url: str
    transport: httpx.AsyncBaseTransport | None = None
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)  # empty: any global host
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)

    async def fetch(self, request: Fetch) -> CallerInput:
        """Try ``1 + retries`` times on what may pass; a 4xx is a miss at once."""
        policy = RetryPolicy(
            attempts=request.retries + 1,
            backoff_seconds=RETRY_BACKOFF_SECONDS,
            timeout_seconds=request.timeout_seconds,
        )
        async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport) as http:
            host = http.build_request(request.method, request.url).url.host
            if not await self._may_reach(host):
                log.info("ivr_lookup_refused")
                return CallerInput(kind="http_failed", value="host_not_allowed")
            client = ResilientClient(http, name="ivr_lookup", policy=policy, breaker=self.breaker)
            try:
                response, _ = await client.request(request.method, request.url)
            except DeliveryFailed:
                return CallerInput(kind="http_failed")
            return _result(response)

    async def _may_reach(self, host: str) -> bool:
        base_host = httpx.URL(self.base_url).host
        if host_listed(host, {base_host, *self.allowed_hosts}):
            return True
        if self.allowed_hosts:
            return False
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return False
        return all_global(str(info[4][0]) for info in infos if info[0] in _FAMILIES)


_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def host_listed(host: str, listed: Iterable[str]) -> bool:
    return host.lower().rstrip(".") in {h.lower().rstrip(".") for h in listed}


def all_global(addresses: Iterable[str]) -> bool:
    """True when there is at least one address and every one is globally routable."""
    found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    return bool(found) and all(a.is_global and not a.is_multicast for a in found)


def _result(response: httpx.Response) -> CallerInput:
    if response.status_code >= 400 or len(response.content) > MAX_RESULT_BYTES:
        return CallerInput(kind="http_failed", value=str(response.status_code))
    try:
        data: Any = response.json()
    except ValueError:
        return CallerInput(kind="http_failed", value="not_json")
    return CallerInput(kind="http_result", data=data)
