"""What the supervisor package runs beside the API while the service is up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.database import libpq_url
from app.routing.core.engine import RoutingEngine
from app.supervisor.live import Hub


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    def engine() -> RoutingEngine | None:
        distributor = getattr(app.state, "distributor", None)
        return None if distributor is None else distributor.engine

    hub = Hub(
        libpq_url(app.state.database_url), app.state.bus, engine, health=app.state.connections
    )
    await hub.start()
    app.state.supervisor_hub = hub
    try:
        yield
    finally:
        app.state.supervisor_hub = None
        await hub.stop()
