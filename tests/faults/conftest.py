"""The service with PostgreSQL that goes away: every connection of the app goes through a
``TcpRelay`` the test cuts (an outage: connections dropped, new ones refused) and restores,
and ``terminate_backends`` kills the app's connections as ``pg_terminate_backend`` does.

The test's own reads (what is stored) go straight to the server, never through the relay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.channels.entry_points import add_entry_point
from app.database import libpq_url
from app.main import create_app
from tests.channels.chat.conftest import desk, live_desk, live_url
from tests.channels.email.conftest import center
from tests.channels.voice.conftest import ACCOUNT_SID, CTI_SECRET, NUMBER, PUBLIC, TOKEN
from tests.conftest import make_settings
from tests.helpers import TcpRelay, query
from tests.routing_service.conftest import Center

__all__ = ["center", "desk", "live_desk", "live_url"]  # the email and chat suites', on this app

EMAIL_SECRET = "faults-email-secret"
WIDGET = "shop"


@pytest.fixture
async def relay(clean_db: str) -> AsyncIterator[TcpRelay]:
    server = make_url(libpq_url(clean_db))
    found = TcpRelay(server.host or "127.0.0.1", server.port or 5432)
    await found.start()
    yield found
    await found.close()


@pytest.fixture
async def app(relay: TcpRelay, clean_db: str) -> AsyncIterator[FastAPI]:
    """Overrides the suite's app: voice (Twilio, CTI), email and chat configured, and its
    database behind ``relay``."""
    settings = make_settings(
        twilio_auth_token=TOKEN,
        twilio_account_sid=ACCOUNT_SID,
        public_base_url=PUBLIC,
        twilio_api_base_url="http://127.0.0.1:9",  # nothing is bridged in these tests
        cti_secret=CTI_SECRET,
        email_webhook_secret=EMAIL_SECRET,
        smtp_port=0,
    )
    application = create_app(settings, database_url=relay.database_url(clean_db))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def support(app: FastAPI, center: Center) -> Center:
    """The email suite's support queue (``center``), reached by phone and chat too."""
    async with app.state.db.unit_of_work() as session:
        await add_entry_point(session, "voice", NUMBER, "support", language="zh-CN")
        await add_entry_point(session, "chat", WIDGET, "support")
    return center


async def terminate_backends(database_url: str, application_name: str | None = None) -> int:
    """Kill the other connections to the database (those of one application name, if
    given) as an operator's ``pg_terminate_backend`` does; return how many."""
    killed = await query(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND ($1::text IS NULL OR application_name = $1)",
        application_name,
    )
    return len(killed)
