"""Talking to the voice providers: Twilio's REST API and a PBX's CTI command URL.

Every request goes through ``app.resilience.client.ResilientClient`` (timeouts, retries,
circuit breaker), one per provider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from app.channels.voice.cti_signature import HEADER as CTI_SIGNATURE_HEADER
from app.channels.voice.cti_signature import signature_header
from app.resilience.client import Delivery, DeliveryFailed, ResilientClient

Clock = Callable[[], float]


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

    async def create_call(self, account_sid: str, form: list[tuple[str, str]]) -> str | None:
        """Place a call (``POST .../Calls.json``); the new call's ``sid`` when the answer
        names it (the status callbacks name it too)."""
        if self.auth_token is None:
            raise DeliveryFailed("twilio: CONTACTD_TWILIO_AUTH_TOKEN is not set", 0)
        account = quote(account_sid, safe="")
        response, _ = await self.client.request(
            "POST",
            f"{self.base_url}/2010-04-01/Accounts/{account}/Calls.json",
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(self.account_sid or account_sid, self.auth_token),
        )
        if not response.is_success:
            raise DeliveryFailed(f"{self.client.name}: HTTP {response.status_code}", 0)
        try:
            sid = response.json().get("sid")
        except (ValueError, AttributeError):
            return None
        return sid if isinstance(sid, str) else None

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
