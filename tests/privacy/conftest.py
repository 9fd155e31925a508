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
from tests.channels.email.conftest import (  # noqa: F401  (fixture)
    SUPPORT,
    RecordingRelay,
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
from tests.conftest import UserFactory
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
async def center(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    """A support queue on every channel, reached at SUPPORT and on NUMBER."""
    found = Center(client, admin, make_user, {})
    await found.skill("support")
    await found.queue("support", [("support", 1)], channels=["email", "chat", "voice"])
    async with app.state.db.unit_of_work() as session:
        await add_entry_point(session, "email", SUPPORT, "support")
        await add_entry_point(session, "voice", NUMBER, "support", language="zh-CN")
    return found


@pytest.fixture
def pbx(client: httpx.AsyncClient) -> CtiSide:
    return CtiSide(client)
