"""What the ivr package keeps beside the API while the service is up, on ``app.state.ivr``:
the lookup client's settings and the clock (tests point ``lookups.transport`` at a mock and
``clock`` at a fixed instant)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI

from app.ivr.lookup import Lookups


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class IvrState:
    lookups: Lookups
    clock: Callable[[], datetime] = field(default=utc_now)  # business hours are read at this


def ivr_state(app: FastAPI) -> IvrState:
    """The package's state; before the lifespan ran (a bare app in a test), defaults."""
    state = getattr(app.state, "ivr", None)
    if state is None:
        settings = app.state.settings
        lookups = Lookups(
            base_url=settings.public_base_url, allowed_hosts=settings.ivr_lookup_hosts
        )
        state = IvrState(lookups=lookups)
        app.state.ivr = state
    return state


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    ivr_state(app)
    yield
