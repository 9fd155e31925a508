"""A contact center with every channel a customer's data arrives by: email over the
webhook (with the fake relay), calls from a PBX (CTI, with the fake provider)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.channels.entry_points import add_entry_point
from app.main import create_app
from app.resilience.client import RetryPolicy
from tests.channels.email.conftest import (  # noqa: F401  (fixtures)
    RecordingRelay,
    center,
    email_settings,
    relay,
    speed_up,
)
from tests.channels.voice.conftest import (  # noqa: F401  (fixture)
    CTI_SECRET,
    NUMBER,
    CtiSide,
    FakeProvider,
    fake_provider,
)
from tests.routing_service.conftest import Center


@pytest.fixture
async def app(
    clean_db: str,
    relay: RecordingRelay,  # noqa: F811
    fake_provider: FakeProvider,  # noqa: F811
) -> AsyncIterator[FastAPI]:
    """Overrides the suite's app: email by webhook and calls from a PBX."""
    settings = email_settings(
        relay.port,
        cti_secret=CTI_SECRET,
        cti_command_url=f"{fake_provider.url}/cti/commands",
    )
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        speed_up(application)
        fast = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=2.0)
        application.state.voice.cti.client.policy = fast
        yield application


@pytest.fixture
async def pbx(app: FastAPI, client: httpx.AsyncClient, center: Center) -> CtiSide:  # noqa: F811
    """A PBX posting signed events for calls to NUMBER, a line into ``center``'s queue."""
    async with app.state.db.unit_of_work() as session:
        await add_entry_point(session, "voice", NUMBER, "support", language="zh-CN")
    return CtiSide(client)
