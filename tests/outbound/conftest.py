"""Outbound calls under test: the voice app (fake Twilio and PBX over real HTTP) with a
caller id and no quiet hours (the tests run at any hour), served live for agent consoles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.resilience.client import RetryPolicy
from tests.channels.voice.conftest import (  # noqa: F401  (fixtures)
    ACCOUNT_SID,
    CTI_SECRET,
    PUBLIC,
    TOKEN,
    FakeProvider,
    center,
    fake_provider,
    pbx,
    twilio,
    voice_client,
)
from tests.conftest import make_settings
from tests.helpers import live_server

CALLER_ID = "+864008009999"
CUSTOMER_PHONE = "+8613900139000"


def outbound_settings(fake: FakeProvider, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "twilio_auth_token": TOKEN,
        "twilio_account_sid": ACCOUNT_SID,
        "public_base_url": PUBLIC,
        "twilio_api_base_url": fake.url,
        "cti_secret": CTI_SECRET,
        "cti_command_url": f"{fake.url}/cti/commands",
        "outbound_caller_id": CALLER_ID,
        "quiet_hours_start": time(0, 0),
        "quiet_hours_end": time(0, 0),
    }
    return make_settings(**(values | overrides))


@asynccontextmanager
async def running_app(settings: Any, url: str) -> AsyncIterator[FastAPI]:
    application = create_app(settings, database_url=url)
    async with application.router.lifespan_context(application):
        fast = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=2.0)
        application.state.voice.twilio.client.policy = fast
        application.state.voice.cti.client.policy = fast
        yield application


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Settings a test changes (``@pytest.mark.parametrize("app_overrides", [{...}])``)."""
    return {}


@pytest.fixture
async def voice_app(
    clean_db: str,
    fake_provider: FakeProvider,  # noqa: F811
    app_overrides: dict[str, Any],
) -> AsyncIterator[FastAPI]:
    settings = outbound_settings(fake_provider, **app_overrides)
    async with running_app(settings, clean_db) as application:
        yield application


@pytest.fixture
async def live_url(voice_app: FastAPI) -> AsyncIterator[str]:
    async with live_server(voice_app) as url:
        yield url


async def make_customer(
    client: httpx.AsyncClient, headers: dict[str, str], phone: str = CUSTOMER_PHONE
) -> int:
    response = await client.post(
        "/api/v1/customers", json={"name": "王小明", "phones": [phone]}, headers=headers
    )
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id
