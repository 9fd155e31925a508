"""The HTTP lookup node's call: httpx with a timeout and retries; the JSON result or a miss."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from app.ivr.engine import CallerInput, Fetch

MAX_RESULT_BYTES = 64 * 1024
RETRY_BACKOFF_SECONDS = 0.05
log = structlog.get_logger(__name__)


@dataclass
class Lookups:
    """Where relative lookup URLs point, and (for tests) the transport to use."""

    base_url: str
    transport: httpx.AsyncBaseTransport | None = None

    async def fetch(self, request: Fetch) -> CallerInput:
        """Try ``1 + retries`` times on network errors and 5xx; a 4xx is a miss at once."""
        async with httpx.AsyncClient(
            base_url=self.base_url, transport=self.transport, timeout=request.timeout_seconds
        ) as client:
            for attempt in range(request.retries + 1):
                if attempt:
                    await asyncio.sleep(RETRY_BACKOFF_SECONDS * attempt)
                try:
                    response = await client.request(request.method, request.url)
                except httpx.HTTPError as exc:
                    log.info("ivr_lookup_error", error=type(exc).__name__, attempt=attempt)
                    continue
                if response.status_code >= 500:
                    continue
                return _result(response)
        return CallerInput(kind="http_failed")


def _result(response: httpx.Response) -> CallerInput:
    if response.status_code >= 400 or len(response.content) > MAX_RESULT_BYTES:
        return CallerInput(kind="http_failed", value=str(response.status_code))
    try:
        data: Any = response.json()
    except ValueError:
        return CallerInput(kind="http_failed", value="not_json")
    return CallerInput(kind="http_result", data=data)
