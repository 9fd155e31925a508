"""What the agent console runs beside the API while the service is up: the hub that keeps
each agent's line (bus listener, outbox, grace-period timer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.agents.console import ConsoleHub
from app.agents.presence import ConsoleSettings


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    hub = ConsoleHub(
        app,
        ConsoleSettings(crm_url=settings.crm_url, crm_timeout_seconds=settings.crm_timeout_seconds),
    )
    app.state.console = hub
    try:
        yield
    finally:
        await hub.close()
